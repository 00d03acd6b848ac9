use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use super::MemoryCache;
use crate::adapters::redis::{ChannelListener, RedisClient, listen};
use crate::ports::Cache;

/// A replica's own copy of what it read from the shared cache, so an authenticated request
/// costs no Redis round trip. Deleting a key forgets it here at once and publishes it on a Redis
/// channel every replica listens to, so the others forget it within a message's latency.
///
/// A copy is kept only while this replica's subscription is up: a lost subscription may have
/// missed deletions, so it empties the copy and reads go to the shared cache until Redis
/// confirms the subscription again.
pub struct NearCache {
    shared: Arc<dyn Cache>,
    client: Arc<RedisClient>,
    channel: String,
    copy: MemoryCache,
    listening: AtomicBool,
    /// Bumped by every deletion heard and every change of the subscription; a value read from
    /// the shared cache is copied only if no deletion arrived while it was being read.
    generation: AtomicU64,
}

impl NearCache {
    /// Starts listening for deletions and returns the cache.
    pub fn start(shared: Arc<dyn Cache>, client: Arc<RedisClient>) -> anyhow::Result<Arc<Self>> {
        let cache = Arc::new(Self {
            channel: client.key("cache-deletions"),
            shared,
            client,
            copy: MemoryCache::labelled("near"),
            listening: AtomicBool::new(false),
            generation: AtomicU64::new(0),
        });
        let listener: Arc<dyn ChannelListener> = cache.clone();
        listen(&cache.client, cache.channel.clone(), Arc::downgrade(&listener))?;
        Ok(cache)
    }

    fn forget(&self, key: &str) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.copy.forget(key);
    }

    fn copying(&self) -> bool {
        self.listening.load(Ordering::SeqCst)
    }

    async fn keep(&self, key: &str, value: &[u8], ttl: Duration, read_at_generation: u64) {
        if self.copying() && self.generation.load(Ordering::SeqCst) == read_at_generation {
            self.copy.set(key, value, ttl.min(COPY_TTL)).await;
        }
    }
}

/// How long a copy is served at most; deletions normally end it much sooner.
const COPY_TTL: Duration = Duration::from_secs(60);

impl ChannelListener for NearCache {
    fn connected(&self, up: bool) {
        self.listening.store(up, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.copy.clear();
    }

    fn message(&self, key: String) {
        self.forget(&key);
    }
}

#[async_trait::async_trait]
impl Cache for NearCache {
    async fn get(&self, key: &str) -> Option<Vec<u8>> {
        if self.copying()
            && let Some(value) = self.copy.get(key).await
        {
            return Some(value);
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let value = self.shared.get(key).await?;
        self.keep(key, &value, COPY_TTL, generation).await;
        Some(value)
    }

    async fn get_many(&self, keys: &[String]) -> Vec<Option<Vec<u8>>> {
        let mut values = Vec::with_capacity(keys.len());
        if self.copying() {
            for key in keys {
                values.push(self.copy.get(key).await);
            }
        } else {
            values.resize(keys.len(), None);
        }
        let missing: Vec<String> = keys
            .iter()
            .zip(&values)
            .filter(|(_, value)| value.is_none())
            .map(|(key, _)| key.clone())
            .collect();
        if missing.is_empty() {
            return values;
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let mut found = self.shared.get_many(&missing).await.into_iter();
        for (key, slot) in keys.iter().zip(values.iter_mut()) {
            if slot.is_none() {
                *slot = found.next().flatten();
                if let Some(value) = slot {
                    self.keep(key, value, COPY_TTL, generation).await;
                }
            }
        }
        values
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) {
        let generation = self.generation.load(Ordering::SeqCst);
        self.shared.set(key, value, ttl).await;
        self.keep(key, value, ttl, generation).await;
    }

    /// Forgets the key here, in the shared cache, and on every other replica. `false` when the
    /// others may not have heard (Redis did not take the message).
    async fn delete(&self, key: &str) -> bool {
        self.forget(key);
        let deleted = self.shared.delete(key).await;
        let published = self
            .client
            .publish("cache.publish_deletion", &self.channel, key.to_owned())
            .await;
        deleted && published
    }

    fn backend(&self) -> &'static str {
        self.shared.backend()
    }

    async fn ping(&self) -> bool {
        self.shared.ping().await
    }
}
