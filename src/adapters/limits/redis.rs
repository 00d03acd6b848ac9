use std::sync::Arc;
use std::time::Duration;

use deadpool_redis::redis::Script;

use super::MemoryLimiter;
use crate::adapters::redis::RedisClient;
use crate::ports::{Counter, RateLimiter};

/// Add ARGV[2] and set the window's expiry in one atomic step; returns the count and the
/// milliseconds left in the window.
const HIT: &str = r"
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
if count == tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
";

const PEEK: &str = r"
local count = redis.call('GET', KEYS[1])
if not count then return nil end
return {tonumber(count), redis.call('PTTL', KEYS[1])}
";

/// Counters in Redis, shared by every replica. When Redis cannot answer, the in-process
/// limiter answers instead, so a Redis outage loosens limits to per-replica ones rather than
/// failing requests.
pub struct RedisLimiter {
    client: Arc<RedisClient>,
    fallback: MemoryLimiter,
    hit: Script,
    peek: Script,
}

impl RedisLimiter {
    pub fn new(client: Arc<RedisClient>) -> Self {
        Self {
            client,
            fallback: MemoryLimiter::new(),
            hit: Script::new(HIT),
            peek: Script::new(PEEK),
        }
    }
}

fn counter((count, ttl_ms): (i64, i64)) -> Counter {
    Counter {
        count: count.max(0) as u64,
        resets_in: Duration::from_millis(ttl_ms.max(0) as u64),
    }
}

#[async_trait::async_trait]
impl RateLimiter for RedisLimiter {
    async fn hit_by(&self, key: &str, window: Duration, hits: u64) -> Counter {
        let redis_key = self.client.key(&format!("limit:{key}"));
        let window_ms = window.as_millis().max(1) as u64;
        let script = &self.hit;
        let shared = self
            .client
            .call("limit.hit", |mut conn| async move {
                script
                    .key(redis_key)
                    .arg(window_ms)
                    .arg(hits)
                    .invoke_async::<(i64, i64)>(&mut conn)
                    .await
            })
            .await;
        match shared {
            Some(pair) => counter(pair),
            None => {
                metrics::counter!("defarm_rate_limit_fallbacks_total").increment(1);
                self.fallback.hit_now_by(key, window, hits)
            }
        }
    }

    async fn peek(&self, key: &str) -> Option<Counter> {
        let redis_key = self.client.key(&format!("limit:{key}"));
        let script = &self.peek;
        let shared = self
            .client
            .call("limit.peek", |mut conn| async move {
                script
                    .key(redis_key)
                    .invoke_async::<Option<(i64, i64)>>(&mut conn)
                    .await
            })
            .await;
        match shared {
            Some(found) => found.map(counter),
            None => self.fallback.peek_now(key),
        }
    }

    async fn clear(&self, key: &str) {
        let redis_key = self.client.key(&format!("limit:{key}"));
        self.fallback.clear_now(key);
        self.client
            .call("limit.clear", |mut conn| async move {
                deadpool_redis::redis::cmd("DEL")
                    .arg(redis_key)
                    .query_async::<i64>(&mut conn)
                    .await
            })
            .await;
    }
}
