use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::ports::{Counter, RateLimiter};

/// How often hits not yet told to the shared counters are sent.
const SYNC_EVERY: Duration = Duration::from_millis(100);
/// Counters kept at most; past this, ended windows are dropped.
const SWEEP_AT: usize = 50_000;

/// Request rate limits counted in this replica and added to the shared (Redis) counters in
/// batches, so a request costs no round trip. A counter's hits are sent every [`SYNC_EVERY`] and
/// whenever `batch` of them are waiting (that request waits for the send); the first hit of a
/// counter is sent at once, to learn what the other replicas counted. So a limit is exceeded by
/// at most `batch` requests per replica: the hits other replicas have not sent yet.
pub struct BatchedLimiter {
    shared: Arc<dyn RateLimiter>,
    batch: u64,
    counters: Mutex<HashMap<String, Local>>,
}

struct Local {
    window: Duration,
    /// The shared count as last heard, which includes every hit of this replica sent so far.
    heard: u64,
    /// Hits of this replica not sent yet.
    waiting: u64,
    /// Hits of this replica being sent: not in `heard` until Redis answers, and counted
    /// meanwhile (a slow answer must not let them go unseen).
    sending: u64,
    ends_at: Instant,
}

impl Local {
    /// The count this replica knows of.
    fn count(&self) -> u64 {
        self.heard + self.sending + self.waiting
    }

    /// Takes the waiting hits to send.
    fn take_waiting(&mut self) -> u64 {
        let hits = std::mem::take(&mut self.waiting);
        self.sending += hits;
        hits
    }
}

impl BatchedLimiter {
    /// Starts the periodic send (it ends when the limiter is dropped) and returns the limiter.
    pub fn start(shared: Arc<dyn RateLimiter>, batch: u64) -> Arc<Self> {
        let limiter = Arc::new(Self {
            shared,
            batch: batch.max(1),
            counters: Mutex::default(),
        });
        let weak = Arc::downgrade(&limiter);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(SYNC_EVERY);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Some(limiter) = weak.upgrade() else {
                    return;
                };
                limiter.send_waiting().await;
            }
        });
        limiter
    }

    fn counters(&self) -> std::sync::MutexGuard<'_, HashMap<String, Local>> {
        self.counters.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sends `hits` of `key` and records what the shared counter says now.
    async fn send(&self, key: &str, window: Duration, hits: u64) {
        let shared = self.shared.hit_by(key, window, hits).await;
        let now = Instant::now();
        let mut counters = self.counters();
        let Some(local) = counters.get_mut(key) else {
            return;
        };
        local.sending = local.sending.saturating_sub(hits);
        let ends_at = now + shared.resets_in;
        if local.ends_at <= now || ends_at > local.ends_at + SYNC_EVERY {
            // A new window began (here or in Redis): the shared count is all there is.
            local.heard = shared.count;
        } else {
            // Sends may return out of order; the larger count is the later one.
            local.heard = local.heard.max(shared.count);
        }
        local.ends_at = ends_at;
    }

    async fn send_waiting(&self) {
        let now = Instant::now();
        let due: Vec<(String, u64, Duration)> = {
            let mut counters = self.counters();
            if counters.len() >= SWEEP_AT {
                counters.retain(|_, local| local.ends_at > now || local.waiting > 0 || local.sending > 0);
            }
            counters
                .iter_mut()
                .filter(|(_, local)| local.waiting > 0)
                .map(|(key, local)| (key.clone(), local.take_waiting(), local.window))
                .collect()
        };
        for (key, hits, window) in due {
            self.send(&key, window, hits).await;
        }
    }
}

#[async_trait::async_trait]
impl RateLimiter for BatchedLimiter {
    async fn hit_by(&self, key: &str, window: Duration, hits: u64) -> Counter {
        let now = Instant::now();
        // A counter's first hits, or a full batch, are taken under the same lock that counts them.
        let due = {
            let mut counters = self.counters();
            let mut first = false;
            let local = counters.entry(key.to_owned()).or_insert_with(|| {
                first = true;
                Local {
                    window,
                    heard: 0,
                    waiting: 0,
                    sending: 0,
                    ends_at: now + window,
                }
            });
            if local.ends_at <= now {
                local.heard = 0;
                local.ends_at = now + window;
            }
            local.waiting += hits;
            (first || local.waiting >= self.batch).then(|| (local.take_waiting(), local.window))
        };
        if let Some((waiting, window)) = due {
            self.send(key, window, waiting).await;
        }
        let counters = self.counters();
        match counters.get(key) {
            Some(local) => Counter {
                count: local.count(),
                resets_in: local.ends_at.saturating_duration_since(Instant::now()),
            },
            None => Counter {
                count: hits,
                resets_in: window,
            },
        }
    }

    /// This replica's view when it counts the key (its own hits are all in it), else Redis's.
    async fn peek(&self, key: &str) -> Option<Counter> {
        let now = Instant::now();
        let local = self
            .counters()
            .get(key)
            .filter(|local| local.ends_at > now)
            .map(|local| Counter {
                count: local.count(),
                resets_in: local.ends_at - now,
            });
        match local {
            Some(counter) => Some(counter),
            None => self.shared.peek(key).await,
        }
    }

    async fn clear(&self, key: &str) {
        self.counters().remove(key);
        self.shared.clear(key).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::limits::MemoryLimiter;

    const HOUR: Duration = Duration::from_secs(3600);

    /// Two replicas' limiters over one shared counter, sending every 3 hits.
    fn replicas() -> (Arc<MemoryLimiter>, Arc<BatchedLimiter>, Arc<BatchedLimiter>) {
        let shared = Arc::new(MemoryLimiter::new());
        let a = BatchedLimiter::start(shared.clone(), 3);
        let b = BatchedLimiter::start(shared.clone(), 3);
        (shared, a, b)
    }

    /// A shared counter that answers only while its gate is open.
    struct Gated {
        inner: MemoryLimiter,
        gate: tokio::sync::Semaphore,
    }

    #[async_trait::async_trait]
    impl RateLimiter for Gated {
        async fn hit_by(&self, key: &str, window: Duration, hits: u64) -> Counter {
            let _open = self.gate.acquire().await;
            self.inner.hit_by(key, window, hits).await
        }
        async fn peek(&self, key: &str) -> Option<Counter> {
            self.inner.peek(key).await
        }
        async fn clear(&self, key: &str) {
            self.inner.clear(key).await
        }
    }

    #[tokio::test]
    async fn hits_being_sent_still_count() {
        let shared = Arc::new(Gated {
            inner: MemoryLimiter::new(),
            gate: tokio::sync::Semaphore::new(1),
        });
        let a = BatchedLimiter::start(shared.clone(), 10);
        assert_eq!(a.hit("k", HOUR).await.count, 1);
        assert_eq!(a.hit("k", HOUR).await.count, 2);
        // Redis is slow: the periodic send of the second hit waits for its answer.
        shared.gate.forget_permits(1);
        let sending = tokio::spawn({
            let a = a.clone();
            async move { a.send_waiting().await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(a.hit("k", HOUR).await.count, 3, "the hit in flight is counted");
        shared.gate.add_permits(1);
        sending.await.unwrap();
        assert_eq!(a.hit("k", HOUR).await.count, 4);
    }

    #[tokio::test]
    async fn one_replica_counts_exactly_and_sends_in_batches() {
        let (shared, a, _) = replicas();
        for expected in 1..=6 {
            assert_eq!(a.hit("k", HOUR).await.count, expected);
        }
        // The first hit was sent alone, then the next three together; two are waiting.
        assert_eq!(shared.peek_now("k").unwrap().count, 4);
        assert_eq!(a.peek("k").await.unwrap().count, 6, "its own view has every hit");
        a.send_waiting().await;
        assert_eq!(shared.peek_now("k").unwrap().count, 6);
        assert_eq!(a.hit("k", HOUR).await.count, 7);
    }

    #[tokio::test]
    async fn another_replicas_hits_arrive_with_the_next_send() {
        let (_, a, b) = replicas();
        for _ in 0..5 {
            a.hit("k", HOUR).await;
        }
        a.send_waiting().await;
        // B's first hit asks the shared counter: it sees A's five.
        assert_eq!(b.hit("k", HOUR).await.count, 6);
        // A's view lags by B's unsent hits, never by more than a batch.
        b.hit("k", HOUR).await;
        b.hit("k", HOUR).await;
        let seen_by_a = a.hit("k", HOUR).await.count;
        assert!((6..=9).contains(&seen_by_a), "{seen_by_a}");
    }

    #[tokio::test]
    async fn the_periodic_send_needs_no_request() {
        let (shared, a, _) = replicas();
        a.hit("k", HOUR).await;
        a.hit("k", HOUR).await;
        tokio::time::sleep(SYNC_EVERY * 3).await;
        assert_eq!(shared.peek_now("k").unwrap().count, 2);
    }

    #[tokio::test]
    async fn a_new_window_starts_from_zero() {
        let (_, a, _) = replicas();
        let window = Duration::from_millis(30);
        for _ in 0..4 {
            a.hit("k", window).await;
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(a.hit("k", window).await.count, 1);
    }
}
