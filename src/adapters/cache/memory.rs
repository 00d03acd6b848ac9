use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::ports::Cache;

/// Entries kept at most; past this, expired entries are swept and then the oldest dropped.
const CAPACITY: usize = 100_000;

/// The in-process cache for the single-instance (SQLite) mode, and each replica's near copy of
/// shared facts. The lock is held only for a map operation, never across an await.
pub struct MemoryCache {
    entries: Mutex<HashMap<String, Entry>>,
    /// The label of this cache's hit and miss metrics.
    label: &'static str,
}

impl Default for MemoryCache {
    fn default() -> Self {
        Self::labelled("memory")
    }
}

struct Entry {
    value: Vec<u8>,
    expires_at: Instant,
}

impl MemoryCache {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn labelled(label: &'static str) -> Self {
        Self {
            entries: Mutex::default(),
            label,
        }
    }

    pub fn forget(&self, key: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(key);
    }

    /// Forgets everything.
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clear();
    }

    /// Sweeps expired entries; if the map is still full, drops an arbitrary tenth of it (a cache
    /// may forget anything, and this keeps an insert O(n) only once per CAPACITY/10 inserts).
    fn make_room(entries: &mut HashMap<String, Entry>) {
        let now = Instant::now();
        entries.retain(|_, entry| entry.expires_at > now);
        if entries.len() >= CAPACITY {
            let victims: Vec<String> = entries.keys().take(CAPACITY / 10).cloned().collect();
            for key in victims {
                entries.remove(&key);
            }
        }
    }
}

#[async_trait::async_trait]
impl Cache for MemoryCache {
    async fn get(&self, key: &str) -> Option<Vec<u8>> {
        let value = {
            let entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            entries
                .get(key)
                .filter(|entry| entry.expires_at > Instant::now())
                .map(|entry| entry.value.clone())
        };
        super::record(self.label, value.is_some());
        value
    }

    async fn get_many(&self, keys: &[String]) -> Vec<Option<Vec<u8>>> {
        let mut values = Vec::with_capacity(keys.len());
        for key in keys {
            values.push(self.get(key).await);
        }
        values
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) {
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.len() >= CAPACITY && !entries.contains_key(key) {
            Self::make_room(&mut entries);
        }
        entries.insert(
            key.to_owned(),
            Entry {
                value: value.to_vec(),
                expires_at: Instant::now() + ttl,
            },
        );
    }

    async fn delete(&self, key: &str) -> bool {
        self.forget(key);
        true
    }

    fn backend(&self) -> &'static str {
        "memory"
    }

    async fn ping(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn expires_and_deletes() {
        let cache = MemoryCache::new();
        cache.set("a", b"1", Duration::from_secs(60)).await;
        cache.set("b", b"2", Duration::from_millis(1)).await;
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(cache.get("a").await, Some(b"1".to_vec()));
        assert_eq!(cache.get("b").await, None);
        assert!(cache.delete("a").await);
        assert_eq!(cache.get("a").await, None);
    }
}
