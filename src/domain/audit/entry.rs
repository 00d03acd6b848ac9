//! The append-only audit log: who did what to what, from where.

use serde_json::Value;

use crate::domain::Timestamp;
use crate::domain::identity::access::RequestMeta;

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: String,
    /// snake_case, e.g. `login_succeeded`, `api_key_revoked`.
    pub action: String,
    pub actor_id: Option<String>,
    pub target_type: String,
    pub target_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub at: Timestamp,
    pub details: Value,
}

impl AuditEntry {
    /// An entry for `action` by `actor` on `(target_type, target_id)` during `meta`'s request.
    pub fn new(
        id: String,
        action: &str,
        actor_id: Option<&str>,
        target: (&str, Option<&str>),
        meta: &RequestMeta,
        at: Timestamp,
        details: Value,
    ) -> Self {
        Self {
            id,
            action: action.to_owned(),
            actor_id: actor_id.map(str::to_owned),
            target_type: target.0.to_owned(),
            target_id: target.1.map(str::to_owned),
            ip: Some(meta.ip.to_string()),
            user_agent: meta.user_agent.clone(),
            request_id: Some(meta.request_id.clone()),
            at,
            details,
        }
    }
}

/// Filters for reading the audit log.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Entries this user did, or that were done to them.
    pub user_id: Option<String>,
    pub action: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}
