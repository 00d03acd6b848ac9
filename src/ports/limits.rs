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
    async fn hit(&self, key: &str, window: Duration) -> Counter {
        self.hit_by(key, window, 1).await
    }
    /// Adds `hits` to `key`.
    async fn hit_by(&self, key: &str, window: Duration, hits: u64) -> Counter;
    async fn peek(&self, key: &str) -> Option<Counter>;
    async fn clear(&self, key: &str);
}
