//! Counters in fixed windows, for rate limits and login lockouts.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    pub count: u64,
    /// Time until the window ends and the count restarts.
    pub resets_in: Duration,
}

/// Implementations never fail a request: a shared (Redis) limiter that cannot answer falls back
/// to an in-process one.
#[async_trait::async_trait]
pub trait RateLimiter: Send + Sync {
    /// Adds one to `key`; a new key's window is `window` long.
    async fn hit(&self, key: &str, window: Duration) -> Counter;
    async fn peek(&self, key: &str) -> Option<Counter>;
    async fn clear(&self, key: &str);
}
