//! Lockouts: failures counted for one subject, and `max` of them within the window lock that
//! subject alone for the window. Logins and page access passwords both count this way.

use std::time::Duration;

use crate::ports::{Counter, RateLimiter};

pub struct Lockout<'a> {
    limiter: &'a dyn RateLimiter,
    failures_key: String,
    lock_key: String,
    /// 0 disables the lock.
    max: u64,
    window: Duration,
}

impl<'a> Lockout<'a> {
    /// The lockout of `subject` in `scope` (keys `{scope}-failures:{subject}`, `{scope}-lock:{subject}`).
    pub fn new(limiter: &'a dyn RateLimiter, scope: &str, subject: &str, max: u64, window: Duration) -> Self {
        Self {
            limiter,
            failures_key: format!("{scope}-failures:{subject}"),
            lock_key: format!("{scope}-lock:{subject}"),
            max,
            window,
        }
    }

    /// The lock in force, if any.
    pub async fn lock(&self) -> Option<Counter> {
        if self.max == 0 {
            return None;
        }
        self.limiter.peek(&self.lock_key).await
    }

    /// Counts one failure; the `max`th locks the subject and starts the count again.
    pub async fn record_failure(&self) {
        if self.max == 0 {
            return;
        }
        let failures = self.limiter.hit(&self.failures_key, self.window).await;
        if failures.count >= self.max {
            self.limiter.hit(&self.lock_key, self.window).await;
            self.limiter.clear(&self.failures_key).await;
        }
    }

    /// Forgets the failures counted so far (a lock in force stays).
    pub async fn forget_failures(&self) {
        self.limiter.clear(&self.failures_key).await;
    }
}
