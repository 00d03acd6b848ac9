//! The shared Redis client. deadpool-redis creates (and re-creates) the connection; requests
//! share one multiplexed connection, which pipelines concurrent commands, so a command costs one
//! round trip and no pool check-out ping. Every call is bounded by a timeout, and after a failure
//! calls are skipped for a short back-off so an unreachable Redis costs callers nothing but a
//! fallback. Callers (cache, rate limits, notifications) decide what a failure means for them.

use std::future::Future;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use deadpool_redis::redis::RedisResult;
use deadpool_redis::redis::aio::MultiplexedConnection;
use deadpool_redis::{Config, Connection, Pool, PoolConfig, Runtime, Timeouts};

/// Redis is on the same network as the service; anything slower than this is an outage.
const CALL_TIMEOUT: Duration = Duration::from_millis(250);
/// After a failure, skip Redis for this long instead of paying the timeout on every request.
const BACKOFF: Duration = Duration::from_secs(1);

pub struct RedisClient {
    pool: Pool,
    shared: RwLock<Option<MultiplexedConnection>>,
    url: String,
    key_prefix: String,
    started: Instant,
    /// Milliseconds since `started` before which calls are skipped.
    skip_until_ms: AtomicU64,
}

impl RedisClient {
    pub fn new(url: &str, key_prefix: &str) -> anyhow::Result<Self> {
        let mut config = Config::from_url(url);
        config.pool = Some(PoolConfig {
            max_size: 4,
            timeouts: Timeouts {
                wait: Some(CALL_TIMEOUT),
                create: Some(CALL_TIMEOUT),
                recycle: Some(CALL_TIMEOUT),
            },
            ..PoolConfig::default()
        });
        Ok(Self {
            pool: config.create_pool(Some(Runtime::Tokio1))?,
            shared: RwLock::new(None),
            url: url.to_owned(),
            key_prefix: key_prefix.to_owned(),
            started: Instant::now(),
            skip_until_ms: AtomicU64::new(0),
        })
    }

    /// The URL, for components that need their own connection (pub/sub).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `name` under this deployment's key prefix.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.key_prefix)
    }

    /// The shared connection, connecting first if there is none.
    async fn connection(&self) -> Result<MultiplexedConnection, String> {
        if let Some(conn) = self.shared.read().unwrap_or_else(|p| p.into_inner()).as_ref() {
            return Ok(conn.clone());
        }
        let conn = Connection::take(self.pool.get().await.map_err(|e| e.to_string())?);
        *self.shared.write().unwrap_or_else(|p| p.into_inner()) = Some(conn.clone());
        Ok(conn)
    }

    fn forget_connection(&self) {
        *self.shared.write().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Runs one command (or pipeline) with a timeout. `None` when Redis is down, slow, or backing
    /// off after a recent failure; the failure is logged and counted.
    pub async fn call<T, F, Fut>(&self, op: &'static str, command: F) -> Option<T>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let now_ms = self.started.elapsed().as_millis() as u64;
        if now_ms < self.skip_until_ms.load(Ordering::Relaxed) {
            return None;
        }
        let started = Instant::now();
        let outcome = tokio::time::timeout(CALL_TIMEOUT, async {
            let conn = self.connection().await?;
            command(conn).await.map_err(|e| e.to_string())
        })
        .await;
        metrics::histogram!("defarm_redis_call_seconds", "op" => op).record(started.elapsed().as_secs_f64());
        let error = match outcome {
            Ok(Ok(value)) => return Some(value),
            Ok(Err(error)) => error,
            Err(_elapsed) => "timed out".to_owned(),
        };
        metrics::counter!("defarm_redis_errors_total", "op" => op).increment(1);
        tracing::warn!(op, %error, "redis call failed; falling back");
        self.forget_connection();
        let resume = self.started.elapsed() + BACKOFF;
        self.skip_until_ms.store(resume.as_millis() as u64, Ordering::Relaxed);
        None
    }

    /// Publishes `payload` on `channel`; `false` when Redis did not take it.
    pub async fn publish(&self, op: &'static str, channel: &str, payload: String) -> bool {
        let channel = channel.to_owned();
        self.call(op, |mut conn| async move {
            deadpool_redis::redis::cmd("PUBLISH")
                .arg(channel)
                .arg(payload)
                .query_async::<i64>(&mut conn)
                .await
        })
        .await
        .is_some()
    }

    /// A real round trip, ignoring the back-off, for readiness checks.
    pub async fn ping(&self) -> bool {
        let outcome = tokio::time::timeout(CALL_TIMEOUT, async {
            let mut conn = self.connection().await?;
            deadpool_redis::redis::cmd("PING")
                .query_async::<String>(&mut conn)
                .await
                .map_err(|e| e.to_string())
        })
        .await;
        let ok = matches!(outcome, Ok(Ok(_)));
        if ok {
            self.skip_until_ms.store(0, Ordering::Relaxed);
        } else {
            self.forget_connection();
        }
        ok
    }
}

/// What a channel subscription reports to its owner.
pub trait ChannelListener: Send + Sync + 'static {
    /// The subscription is up (`true`, confirmed by Redis) or lost (`false`): messages sent
    /// while it was down were missed.
    fn connected(&self, up: bool);
    fn message(&self, payload: String);
}

/// How long a lost subscription waits before connecting again.
const RESUBSCRIBE_AFTER: Duration = Duration::from_secs(1);

/// Subscribes `listener` to `channel` on a connection of its own, reconnecting after failures,
/// until the listener is dropped.
pub fn listen(
    client: &RedisClient,
    channel: String,
    listener: std::sync::Weak<dyn ChannelListener>,
) -> anyhow::Result<()> {
    use futures_util::StreamExt as _;
    let redis = deadpool_redis::redis::Client::open(client.url())?;
    tokio::spawn(async move {
        loop {
            match redis.get_async_pubsub().await {
                Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                    Ok(()) => {
                        tracing::info!(channel, "subscribed");
                        if let Some(listener) = listener.upgrade() {
                            listener.connected(true);
                        }
                        let mut messages = pubsub.on_message();
                        while let Some(message) = messages.next().await {
                            let Some(listener) = listener.upgrade() else {
                                return;
                            };
                            listener.message(message.get_payload().unwrap_or_default());
                        }
                        tracing::warn!(channel, "subscription lost; resubscribing");
                    }
                    Err(err) => tracing::warn!(channel, error = %err, "cannot subscribe; retrying"),
                },
                Err(err) => tracing::warn!(channel, error = %err, "cannot reach Redis to subscribe; retrying"),
            }
            let Some(alive) = listener.upgrade() else {
                return;
            };
            alive.connected(false);
            drop(alive);
            tokio::time::sleep(RESUBSCRIBE_AFTER).await;
        }
    });
    Ok(())
}
