use std::sync::Arc;
use std::time::Duration;

use deadpool_redis::redis::AsyncCommands;

use crate::adapters::redis::RedisClient;
use crate::ports::Cache;

pub struct RedisCache {
    client: Arc<RedisClient>,
}

impl RedisCache {
    pub fn new(client: Arc<RedisClient>) -> Self {
        Self { client }
    }
}

#[async_trait::async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> Option<Vec<u8>> {
        let key = self.client.key(&format!("cache:{key}"));
        let value = self
            .client
            .call("cache.get", |mut conn| async move {
                conn.get::<_, Option<Vec<u8>>>(key).await
            })
            .await
            .flatten();
        super::record("redis", value.is_some());
        value
    }

    async fn get_many(&self, keys: &[String]) -> Vec<Option<Vec<u8>>> {
        let prefixed: Vec<String> = keys
            .iter()
            .map(|key| self.client.key(&format!("cache:{key}")))
            .collect();
        let values = self
            .client
            .call("cache.get_many", |mut conn| async move {
                deadpool_redis::redis::cmd("MGET")
                    .arg(prefixed)
                    .query_async::<Vec<Option<Vec<u8>>>>(&mut conn)
                    .await
            })
            .await
            .filter(|values| values.len() == keys.len())
            .unwrap_or_else(|| vec![None; keys.len()]);
        for value in &values {
            super::record("redis", value.is_some());
        }
        values
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) {
        let key = self.client.key(&format!("cache:{key}"));
        let ttl_ms = ttl.as_millis().max(1) as u64;
        let value = value.to_vec();
        self.client
            .call("cache.set", |mut conn| async move {
                deadpool_redis::redis::cmd("SET")
                    .arg(key)
                    .arg(value)
                    .arg("PX")
                    .arg(ttl_ms)
                    .query_async::<()>(&mut conn)
                    .await
            })
            .await;
    }

    async fn delete(&self, key: &str) -> bool {
        let key = self.client.key(&format!("cache:{key}"));
        self.client
            .call("cache.delete", |mut conn| async move { conn.del::<_, i64>(key).await })
            .await
            .is_some()
    }

    fn backend(&self) -> &'static str {
        "redis"
    }

    async fn ping(&self) -> bool {
        self.client.ping().await
    }
}
