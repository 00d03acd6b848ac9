//! A small key-value cache with expiry. Failures are the adapter's problem: a cache that cannot
//! answer reports a miss, so a cache outage never fails a request.

use std::time::Duration;

#[async_trait::async_trait]
pub trait Cache: Send + Sync {
    /// The cached bytes, or `None` on a miss or when the cache is unreachable.
    async fn get(&self, key: &str) -> Option<Vec<u8>>;
    /// Several keys in one round trip; each slot is `None` on a miss.
    async fn get_many(&self, keys: &[String]) -> Vec<Option<Vec<u8>>>;
    /// Stores `value` for `ttl`; best effort.
    async fn set(&self, key: &str, value: &[u8], ttl: Duration);
    /// Removes `key`. Returns `false` when the cache could not be reached, so callers that rely
    /// on invalidation can tell.
    async fn delete(&self, key: &str) -> bool;
    /// Which backend this is, for `/health/ready`: `"redis"` or `"memory"`.
    fn backend(&self) -> &'static str;
    /// A real round trip for readiness checks; the in-process cache is always ready.
    async fn ping(&self) -> bool;
}
