//! The one connection pool and the gate every repository call goes through.
//!
//! The gate is a semaphore with as many permits as the pool has connections. Holding a permit is
//! what "one request = one pooled connection at a time" means here; it also gives the numbers
//! sqlx does not expose (how many callers are waiting), a `db.acquire` span, and a bounded wait:
//! a caller that cannot get a permit within `DB_ACQUIRE_TIMEOUT_MS` gets 503 instead of a hang.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};
use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore};
use tracing::Instrument;

use crate::domain::{Error, Result};
use crate::ports::{DatabaseHealth, PoolStats};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How long `/health/db` waits for its round trip (including a connection) before answering 503.
const PING_TIMEOUT: Duration = Duration::from_millis(450);

/// A PostgreSQL advisory lock key (`"defarm"` as ASCII) so replicas that start together apply
/// migrations one at a time.
const MIGRATION_LOCK_KEY: i64 = 0x0000_6465_6661_726d;

#[derive(Debug, Clone)]
pub struct DbSettings {
    pub url: String,
    pub pool_max: u32,
    pub acquire_timeout: Duration,
    pub statement_timeout: Duration,
    /// Bounds a [`Database::write_bulk`] transaction as a whole (each statement keeps the
    /// statement timeout on PostgreSQL).
    pub bulk_timeout: Duration,
}

/// How long a write transaction may take as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteBound {
    /// What a request's write may take (`DB_STATEMENT_TIMEOUT_MS`).
    Statement,
    /// One large unit of a background job (`DB_BULK_TIMEOUT_MS`).
    Bulk,
}

pub struct Database {
    conn: DatabaseConnection,
    backend: DbBackend,
    gate: Arc<Semaphore>,
    waiting: AtomicU32,
    settings: DbSettings,
    last_ping: Mutex<Option<PingOutcome>>,
}

#[derive(Clone)]
struct PingOutcome {
    started: Instant,
    result: Result<Duration>,
}

impl Database {
    /// Opens the pool. Fails when the database cannot be reached at all, so a misconfigured
    /// start stops early, naming the reason once.
    pub async fn connect(settings: DbSettings) -> Result<Self, ConnectError> {
        check_scheme(&settings.url)?;
        create_private_sqlite_file(&settings.url)?;
        let mut options = ConnectOptions::new(settings.url.clone());
        options
            .max_connections(settings.pool_max)
            .min_connections(settings.pool_max.min(4))
            .acquire_timeout(settings.acquire_timeout)
            .connect_timeout(settings.acquire_timeout)
            .idle_timeout(Duration::from_secs(300))
            // Ping only connections idle long enough to have been dropped; hot ones go straight
            // through, so a read costs one round trip, not two.
            .test_before_acquire_if_idle_for(Duration::from_secs(30))
            .statement_timeout(settings.statement_timeout)
            .sqlx_logging(false);
        let busy_timeout = settings.acquire_timeout;
        options.map_sqlx_sqlite_opts(move |sqlite| {
            sqlite
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(busy_timeout)
                .foreign_keys(true)
        });
        let conn = match sea_orm::Database::connect(options).await {
            Ok(conn) => conn,
            Err(err) => return Err(unreachable(&settings, &err).await),
        };
        let backend = conn.get_database_backend();
        Ok(Self {
            conn,
            backend,
            gate: Arc::new(Semaphore::new(settings.pool_max as usize)),
            waiting: AtomicU32::new(0),
            settings,
            last_ping: Mutex::new(None),
        })
    }

    pub fn backend(&self) -> DbBackend {
        self.backend
    }

    /// Applies pending migrations. On PostgreSQL the whole run holds a transaction-scoped
    /// advisory lock, so replicas starting together take turns and the later ones find nothing
    /// to do.
    pub async fn migrate(&self) -> Result<(), DbErr> {
        use migration::{Migrator, MigratorTrait};
        if self.backend == DbBackend::Postgres {
            let txn = self.conn.begin().await?;
            // Raw SQL: SeaORM has no builder for PostgreSQL advisory locks.
            txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"))
                .await?;
            Migrator::up(&txn, None).await?;
            txn.commit().await
        } else {
            Migrator::up(&self.conn, None).await
        }
    }

    /// Waits for a permit, bounded by the acquire timeout.
    async fn permit(&self, timeout: Duration) -> Result<OwnedSemaphorePermit> {
        let started = Instant::now();
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let acquired = tokio::time::timeout(timeout, self.gate.clone().acquire_owned())
            .instrument(tracing::debug_span!("db.acquire"))
            .await;
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        metrics::histogram!("defarm_db_acquire_seconds").record(started.elapsed().as_secs_f64());
        match acquired {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_closed)) => Err(Error::unavailable(
                "database_unavailable",
                "the database pool is closed",
                1,
            )),
            Err(_elapsed) => {
                metrics::counter!("defarm_db_acquire_timeouts_total").increment(1);
                Err(Error::unavailable(
                    "database_busy",
                    "the database is busy, retry shortly",
                    1,
                ))
            }
        }
    }

    /// Runs `unit` within `bound`, recording a `db.query` span named after `op`.
    async fn bounded<T>(&self, op: &'static str, bound: Duration, unit: impl Future<Output = Result<T>>) -> Result<T> {
        let span = tracing::debug_span!("db.query", op);
        match tokio::time::timeout(bound, unit.instrument(span)).await {
            Ok(result) => result,
            Err(_elapsed) => {
                tracing::warn!(op, "database call exceeded the statement timeout");
                Err(Error::unavailable(
                    "database_timeout",
                    "the database did not answer in time",
                    1,
                ))
            }
        }
    }

    /// Runs read queries on the pool.
    pub async fn read<'a, T>(
        &'a self,
        op: &'static str,
        unit: impl FnOnce(&'a DatabaseConnection) -> BoxFuture<'a, Result<T>>,
    ) -> Result<T> {
        self.outside_transaction(op, unit).await
    }

    /// Runs one write that is atomic on its own (a single statement) outside a transaction:
    /// no BEGIN and COMMIT round trips around it.
    pub async fn write_one<'a, T>(
        &'a self,
        op: &'static str,
        unit: impl FnOnce(&'a DatabaseConnection) -> BoxFuture<'a, Result<T>>,
    ) -> Result<T> {
        self.outside_transaction(op, unit).await
    }

    async fn outside_transaction<'a, T>(
        &'a self,
        op: &'static str,
        unit: impl FnOnce(&'a DatabaseConnection) -> BoxFuture<'a, Result<T>>,
    ) -> Result<T> {
        let _permit = self.permit(self.settings.acquire_timeout).await?;
        self.bounded(op, self.settings.statement_timeout, unit(&self.conn))
            .await
    }

    /// Runs `unit` in one transaction, committed when it returns `Ok` and rolled back otherwise.
    /// On SQLite the transaction begins `IMMEDIATE`, so concurrent writers queue on the busy
    /// timeout instead of failing halfway with "database is locked".
    pub async fn write<T: Send>(
        &self,
        op: &'static str,
        unit: impl for<'c> FnOnce(&'c DatabaseTransaction) -> BoxFuture<'c, Result<T>> + Send,
    ) -> Result<T> {
        self.write_within(op, WriteBound::Statement, unit).await
    }

    /// [`Database::write`] within `bound`.
    pub async fn write_within<T: Send>(
        &self,
        op: &'static str,
        bound: WriteBound,
        unit: impl for<'c> FnOnce(&'c DatabaseTransaction) -> BoxFuture<'c, Result<T>> + Send,
    ) -> Result<T> {
        let bound = match bound {
            WriteBound::Statement => self.settings.statement_timeout,
            WriteBound::Bulk => self.settings.bulk_timeout,
        };
        let _permit = self.permit(self.settings.acquire_timeout).await?;
        self.bounded(op, bound, async {
            let txn = self
                .conn
                .begin_with_options(TransactionOptions {
                    isolation_level: None,
                    access_mode: None,
                    sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                })
                .await?;
            let value = unit(&txn).await?;
            txn.commit().await?;
            Ok(value)
        })
        .await
    }

    async fn ping_once(&self) -> Result<Duration> {
        let started = Instant::now();
        let round_trip = async {
            let _permit = self.permit(PING_TIMEOUT).await?;
            self.conn.ping().await.map_err(Error::from)
        };
        match tokio::time::timeout(PING_TIMEOUT, round_trip).await {
            Ok(Ok(())) => Ok(started.elapsed()),
            Ok(Err(err)) => Err(err),
            Err(_elapsed) => Err(Error::unavailable(
                "database_unavailable",
                "the database did not answer in time",
                1,
            )),
        }
    }

    /// Closes every connection (at shutdown).
    pub async fn close(&self) {
        self.gate.close();
        let _ = self.conn.close_by_ref().await;
    }
}

#[async_trait::async_trait]
impl DatabaseHealth for Database {
    fn backend(&self) -> &'static str {
        match self.backend {
            DbBackend::Postgres => "postgres",
            DbBackend::Sqlite => "sqlite",
            _ => "other",
        }
    }

    /// Callers that arrive while a ping is in flight wait for the next one to finish and share
    /// its result, so the endpoint holds at most one connection however often it is called.
    async fn ping(&self) -> Result<Duration> {
        let arrived = Instant::now();
        let mut last = self.last_ping.lock().await;
        if let Some(outcome) = last.as_ref()
            && outcome.started >= arrived
        {
            return outcome.result.clone();
        }
        let started = Instant::now();
        let result = self.ping_once().await;
        *last = Some(PingOutcome {
            started,
            result: result.clone(),
        });
        result
    }

    fn pool_stats(&self) -> PoolStats {
        let (size, idle) = match self.backend {
            DbBackend::Postgres => {
                let pool = self.conn.get_postgres_connection_pool();
                (pool.size(), pool.num_idle() as u32)
            }
            DbBackend::Sqlite => {
                let pool = self.conn.get_sqlite_connection_pool();
                (pool.size(), pool.num_idle() as u32)
            }
            _ => (0, 0),
        };
        PoolStats {
            max: self.settings.pool_max,
            size,
            idle,
            in_use: size.saturating_sub(idle),
            waiting: self.waiting.load(Ordering::Relaxed),
        }
    }
}

/// Why the database could not be opened, said once: the scheme, the SQLite file, or the server
/// that did not answer (never the URL itself, which may hold a password).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConnectError(String);

fn check_scheme(url: &str) -> Result<(), ConnectError> {
    let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
    if matches!(scheme, "postgres" | "postgresql" | "sqlite") {
        return Ok(());
    }
    let got = if scheme.is_empty() || scheme.len() > 20 {
        "no scheme".to_owned()
    } else {
        format!("{scheme:?}")
    };
    Err(ConnectError(format!(
        "use postgres://USER:PASSWORD@HOST:PORT/DATABASE or sqlite://PATH?mode=rwc (got {got})"
    )))
}

/// The connection failed: for a server, whether its address answers at all (the pool only says
/// it timed out); otherwise the driver's innermost message.
async fn unreachable(settings: &DbSettings, err: &DbErr) -> ConnectError {
    let mut innermost: &dyn std::error::Error = err;
    while let Some(source) = innermost.source() {
        innermost = source;
    }
    let cause = innermost.to_string();
    let Some((host, port)) = url::Url::parse(&settings.url)
        .ok()
        .filter(|url| url.scheme().starts_with("postgres"))
        .and_then(|url| Some((url.host_str()?.to_owned(), url.port().unwrap_or(5432))))
    else {
        return ConnectError(cause);
    };
    let probe = tokio::net::TcpStream::connect((host.as_str(), port));
    match tokio::time::timeout(settings.acquire_timeout, probe).await {
        Ok(Ok(_)) => ConnectError(format!("PostgreSQL at {host}:{port}: {cause}")),
        Ok(Err(refused)) => ConnectError(format!("PostgreSQL at {host}:{port}: {refused}")),
        Err(_) => ConnectError(format!(
            "PostgreSQL at {host}:{port}: no answer within {} ms",
            settings.acquire_timeout.as_millis()
        )),
    }
}

/// Creates a SQLite database file readable by the service's user only (0600) before SQLite
/// would create it with the process umask; its `-wal` and `-shm` files take the same mode.
/// Nothing to do for PostgreSQL, in-memory databases or a file that exists.
fn create_private_sqlite_file(url: &str) -> Result<(), ConnectError> {
    let Some(rest) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) else {
        return Ok(());
    };
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" || query.contains("mode=memory") {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(ConnectError(format!("cannot open the SQLite file {path}: {err}"))),
    }
}
