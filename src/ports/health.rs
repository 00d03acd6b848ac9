//! What the operations endpoints need to know about the database.

use std::time::Duration;

/// Connection pool numbers as `/health/db` and `/metrics` report them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolStats {
    pub max: u32,
    pub size: u32,
    pub idle: u32,
    pub in_use: u32,
    pub waiting: u32,
}

#[async_trait::async_trait]
pub trait DatabaseHealth: Send + Sync {
    /// `"postgres"` or `"sqlite"`.
    fn backend(&self) -> &'static str;
    /// One real round trip, bounded by a short timeout. Concurrent callers share one ping.
    async fn ping(&self) -> Result<Duration, crate::domain::Error>;
    fn pool_stats(&self) -> PoolStats;
}
