use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::ports::{Counter, RateLimiter};

/// Counters at most kept before expired ones are swept.
const SWEEP_AT: usize = 50_000;

/// Fixed-window counters in process memory. The lock is held only for a map operation.
#[derive(Default)]
pub struct MemoryLimiter {
    windows: Mutex<HashMap<String, Window>>,
}

struct Window {
    count: u64,
    ends_at: Instant,
}

impl MemoryLimiter {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn hit_now(&self, key: &str, window: Duration) -> Counter {
        self.hit_now_by(key, window, 1)
    }

    pub fn hit_now_by(&self, key: &str, window: Duration, hits: u64) -> Counter {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if windows.len() >= SWEEP_AT {
            windows.retain(|_, w| w.ends_at > now);
        }
        let entry = windows.entry(key.to_owned()).or_insert(Window {
            count: 0,
            ends_at: now + window,
        });
        if entry.ends_at <= now {
            *entry = Window {
                count: 0,
                ends_at: now + window,
            };
        }
        entry.count += hits;
        Counter {
            count: entry.count,
            resets_in: entry.ends_at - now,
        }
    }

    pub fn peek_now(&self, key: &str) -> Option<Counter> {
        let now = Instant::now();
        let windows = self.windows.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        windows.get(key).filter(|w| w.ends_at > now).map(|w| Counter {
            count: w.count,
            resets_in: w.ends_at - now,
        })
    }

    pub fn clear_now(&self, key: &str) {
        let mut windows = self.windows.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        windows.remove(key);
    }
}

#[async_trait::async_trait]
impl RateLimiter for MemoryLimiter {
    async fn hit_by(&self, key: &str, window: Duration, hits: u64) -> Counter {
        self.hit_now_by(key, window, hits)
    }

    async fn peek(&self, key: &str) -> Option<Counter> {
        self.peek_now(key)
    }

    async fn clear(&self, key: &str) {
        self.clear_now(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_within_a_window_and_restarts_after() {
        let limiter = MemoryLimiter::new();
        assert_eq!(limiter.hit_now("k", Duration::from_millis(30)).count, 1);
        assert_eq!(limiter.hit_now("k", Duration::from_millis(30)).count, 2);
        assert_eq!(limiter.peek_now("k").unwrap().count, 2);
        std::thread::sleep(Duration::from_millis(40));
        assert!(limiter.peek_now("k").is_none());
        assert_eq!(limiter.hit_now("k", Duration::from_millis(30)).count, 1);
        limiter.clear_now("k");
        assert!(limiter.peek_now("k").is_none());
    }
}
