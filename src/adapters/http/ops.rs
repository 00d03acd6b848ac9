//! Operations endpoints: health, readiness, version and metrics. Public and never rate limited.

use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};

use super::types::UtcTime;
use super::{ApiTags, State};

/// What this binary was built from, as `/version` reports it.
#[derive(Debug, Clone, Object)]
pub struct BuildInfo {
    pub service: String,
    pub version: String,
    /// Full commit hash (from git, or `GIT_HASH` at build time).
    pub commit: String,
    pub commit_short: String,
    /// The work tree had uncommitted changes when this was built.
    pub dirty: bool,
    pub branch: String,
    /// RFC 3339 (from the build, or `BUILD_TIME` at build time).
    pub build_time: String,
    pub rust_version: String,
    /// `debug` or `release`.
    pub profile: String,
}

pub struct OpsApi;

/// Always `healthy` when the process answers.
#[derive(Enum)]
#[oai(rename_all = "lowercase")]
enum HealthStatus {
    Healthy,
}

#[derive(Object)]
struct Health {
    status: HealthStatus,
    timestamp: UtcTime,
    uptime_seconds: u64,
}

#[derive(Object)]
struct PoolNumbers {
    max: u32,
    size: u32,
    idle: u32,
    in_use: u32,
    waiting: u32,
}

#[derive(Enum)]
#[oai(rename_all = "lowercase")]
enum DatabaseReachability {
    Connected,
    Unreachable,
}

#[derive(Enum)]
#[oai(rename_all = "lowercase")]
enum DatabaseBackend {
    Postgres,
    Sqlite,
}

#[derive(Object)]
struct DatabaseStatus {
    status: DatabaseReachability,
    backend: DatabaseBackend,
    /// The round trip's time; null when the database did not answer.
    #[oai(nullable)]
    ping_ms: Option<f64>,
    pool: PoolNumbers,
}

#[derive(Object)]
struct DatabaseHealthBody {
    database: DatabaseStatus,
}

#[derive(ApiResponse)]
enum DatabaseHealthResponse {
    /// The database answered.
    #[oai(status = 200)]
    Connected(Json<DatabaseHealthBody>),
    /// The database did not answer within the health check's timeout.
    #[oai(status = 503)]
    Unreachable(Json<DatabaseHealthBody>, #[oai(header = "Retry-After")] u64),
}

/// `disabled`: the service runs without Redis.
#[derive(Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
enum CheckOutcome {
    Ok,
    Unavailable,
    Disabled,
}

#[derive(Object)]
struct ReadinessChecks {
    database: CheckOutcome,
    cache: CheckOutcome,
}

/// `degraded`: Redis is down; requests still work, limits and cache run in process.
/// `not_ready`: the database is down.
#[derive(Enum)]
#[oai(rename_all = "snake_case")]
enum ReadinessStatus {
    Ready,
    Degraded,
    NotReady,
}

#[derive(Object)]
struct Readiness {
    status: ReadinessStatus,
    checks: ReadinessChecks,
}

#[derive(ApiResponse)]
enum ReadinessResponse {
    /// Ready to serve (possibly degraded without Redis).
    #[oai(status = 200)]
    Ready(Json<Readiness>),
    /// The database is unreachable.
    #[oai(status = 503)]
    NotReady(Json<Readiness>, #[oai(header = "Retry-After")] u64),
}

#[OpenApi(tag = "ApiTags::Operations")]
impl OpsApi {
    /// Liveness: answers without any I/O.
    #[oai(path = "/health", method = "get", operation_id = "health")]
    async fn health(&self, state: State<'_>) -> Json<Health> {
        Json(Health {
            status: HealthStatus::Healthy,
            timestamp: chrono::Utc::now().into(),
            uptime_seconds: state.started.elapsed().as_secs(),
        })
    }

    /// A real database round trip with a short timeout, and the pool's numbers. Concurrent
    /// calls share one ping, so this endpoint holds at most one connection.
    #[oai(path = "/health/db", method = "get", operation_id = "health_db")]
    async fn health_db(&self, state: State<'_>) -> DatabaseHealthResponse {
        let ping = state.database.ping().await;
        let stats = state.database.pool_stats();
        let backend = if state.database.backend() == "postgres" {
            DatabaseBackend::Postgres
        } else {
            DatabaseBackend::Sqlite
        };
        let body = |status, ping_ms| {
            Json(DatabaseHealthBody {
                database: DatabaseStatus {
                    status,
                    backend,
                    ping_ms,
                    pool: PoolNumbers {
                        max: stats.max,
                        size: stats.size,
                        idle: stats.idle,
                        in_use: stats.in_use,
                        waiting: stats.waiting,
                    },
                },
            })
        };
        match ping {
            Ok(elapsed) => DatabaseHealthResponse::Connected(body(
                DatabaseReachability::Connected,
                Some(elapsed.as_secs_f64() * 1000.0),
            )),
            Err(_) => DatabaseHealthResponse::Unreachable(body(DatabaseReachability::Unreachable, None), 1),
        }
    }

    /// Readiness for load balancers: the database must answer; the cache is reported.
    #[oai(path = "/health/ready", method = "get", operation_id = "health_ready")]
    async fn health_ready(&self, state: State<'_>) -> ReadinessResponse {
        let database_ok = state.database.ping().await.is_ok();
        let cache = match &state.redis_cache {
            None => CheckOutcome::Disabled,
            Some(cache) if cache.ping().await => CheckOutcome::Ok,
            Some(_) => CheckOutcome::Unavailable,
        };
        let checks = ReadinessChecks {
            database: if database_ok {
                CheckOutcome::Ok
            } else {
                CheckOutcome::Unavailable
            },
            cache,
        };
        if !database_ok {
            return ReadinessResponse::NotReady(
                Json(Readiness {
                    status: ReadinessStatus::NotReady,
                    checks,
                }),
                1,
            );
        }
        let status = if cache == CheckOutcome::Unavailable {
            ReadinessStatus::Degraded
        } else {
            ReadinessStatus::Ready
        };
        ReadinessResponse::Ready(Json(Readiness { status, checks }))
    }

    /// What this binary was built from.
    #[oai(path = "/version", method = "get", operation_id = "version")]
    async fn version(&self, state: State<'_>) -> Json<BuildInfo> {
        Json(state.build.clone())
    }

    /// Same as `/version`, under `/api` for clients that only reach the API prefix.
    #[oai(path = "/api/version", method = "get", operation_id = "api_version")]
    async fn api_version(&self, state: State<'_>) -> Json<BuildInfo> {
        Json(state.build.clone())
    }

    /// Prometheus text exposition.
    #[oai(path = "/metrics", method = "get", operation_id = "metrics")]
    async fn metrics(&self, state: State<'_>) -> PlainText<String> {
        let stats = state.database.pool_stats();
        for (pool_state, value) in [
            ("max", stats.max),
            ("size", stats.size),
            ("idle", stats.idle),
            ("in_use", stats.in_use),
            ("waiting", stats.waiting),
        ] {
            metrics::gauge!("defarm_db_pool_connections", "state" => pool_state).set(f64::from(value));
        }
        // CPU time, memory, open file descriptors and threads, as Prometheus's own clients name
        // them (`process_*`).
        metrics_process::Collector::default().collect();
        PlainText(state.metrics.render())
    }
}
