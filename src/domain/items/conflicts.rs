//! Canonical identifier conflicts: a 409 says only "someone has it", and a user gets at most
//! `max_per_hour` of them in an hour (then 429), each one audited, so squatting and probing are
//! slow and visible.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::domain::audit::AuditEntry;
use crate::domain::changes::{Change, UnitOfWork};
use crate::domain::identity::access::{Principal, RequestMeta};
use crate::domain::{Error, Result};
use crate::ports::{Clock, IdGenerator, RateLimiter};

pub const CONFLICTS_PER_HOUR: u64 = 30;
const HOUR: Duration = Duration::from_secs(3600);

pub struct ConflictLimit {
    limiter: Arc<dyn RateLimiter>,
    /// Where the audit entries go.
    audit: Arc<dyn UnitOfWork>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    max_per_hour: u64,
}

impl ConflictLimit {
    pub fn new(
        limiter: Arc<dyn RateLimiter>,
        audit: Arc<dyn UnitOfWork>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
    ) -> Self {
        Self {
            limiter,
            audit,
            clock,
            ids,
            max_per_hour: CONFLICTS_PER_HOUR,
        }
    }

    /// Passes `result` through, except an `identifier_conflict`: that is audited and counted,
    /// and past the hourly allowance it becomes 429.
    pub(crate) async fn screen<T>(&self, result: Result<T>, principal: &Principal, meta: &RequestMeta) -> Result<T> {
        let err = match result {
            Err(err) if err.is("identifier_conflict") => err,
            other => return other,
        };
        let counter = self
            .limiter
            .hit(&format!("identifier-conflicts:{}", principal.user_id), HOUR)
            .await;
        let limited = counter.count > self.max_per_hour;
        // The audit names the identifier asked for, never the item that holds it.
        let identifier = err.details.as_ref().map_or(Value::Null, |d| d["identifier"].clone());
        let audit = AuditEntry::new(
            self.ids.new_id(),
            "identifier_conflict",
            Some(&principal.user_id),
            ("user", Some(&principal.user_id)),
            meta,
            self.clock.now(),
            json!({ "identifier": identifier, "conflicts_this_hour": counter.count, "limited": limited }),
        );
        if let Err(audit_err) = self.audit.commit(vec![Change::Audit(audit)]).await {
            tracing::warn!(error = %audit_err, "could not audit an identifier conflict");
        }
        if limited {
            Err(Error::rate_limited(counter.resets_in.as_secs().max(1)))
        } else {
            Err(err)
        }
    }
}
