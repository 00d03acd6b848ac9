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
        let identifier = err.details.as_ref().map_or(Value::Null, |d| d["identifier"].clone());
        self.screen_many(vec![identifier], principal, meta).await?;
        Err(err)
    }

    /// Audits and counts the conflicts one request met, one per identifier (a batch must not
    /// probe more names than single requests could); 429 when they pass the hourly allowance,
    /// so none of them is told.
    pub(crate) async fn screen_many(
        &self,
        identifiers: Vec<Value>,
        principal: &Principal,
        meta: &RequestMeta,
    ) -> Result<()> {
        if identifiers.is_empty() {
            return Ok(());
        }
        let key = format!("identifier-conflicts:{}", principal.user_id);
        let mut counter = self.limiter.hit(&key, HOUR).await;
        // Past the allowance one more hit changes nothing, so the count stops there.
        for _ in 1..identifiers.len() {
            if counter.count > self.max_per_hour {
                break;
            }
            counter = self.limiter.hit(&key, HOUR).await;
        }
        let limited = counter.count > self.max_per_hour;
        // The audit names the identifiers asked for (the first hundred), never the items that
        // hold them.
        let listed = &identifiers[..identifiers.len().min(100)];
        let details = match listed {
            [identifier] => {
                json!({ "identifier": identifier, "conflicts_this_hour": counter.count, "limited": limited })
            }
            _ => json!({ "identifiers": identifiers, "conflicts_this_hour": counter.count, "limited": limited }),
        };
        let audit = AuditEntry::new(
            self.ids.new_id(),
            "identifier_conflict",
            Some(&principal.user_id),
            ("user", Some(&principal.user_id)),
            meta,
            self.clock.now(),
            details,
        );
        if let Err(audit_err) = self.audit.commit(vec![Change::Audit(audit)]).await {
            tracing::warn!(error = %audit_err, "could not audit an identifier conflict");
        }
        if limited {
            Err(Error::rate_limited(counter.resets_in.as_secs().max(1)))
        } else {
            Ok(())
        }
    }
}
