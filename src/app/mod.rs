//! The composition root: reads config, builds the adapters, hands them to the services, mounts
//! the HTTP routes, starts workers, and shuts everything down. The only module that knows every
//! concrete type.

pub mod config;
mod secrets;
mod services;
pub mod telemetry;
mod version;
mod workers;

use crate::app::http::connections::ConnectionLimits;
use crate::app::http::connections::GuardedAcceptor;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use poem::Server;
use poem::listener::{Acceptor, Listener, TcpListener};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::adapters::db::{Database, DbSettings};
use crate::adapters::http::{self, AppState, EdgeSettings, HttpParts};
pub use config::Config;
pub use services::{Extras, Services, system_meta};
pub use version::build_info;

/// How long a shutdown waits for in-flight requests before closing their connections.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(20);

/// A started service: where it listens and how to stop it.
pub struct RunningApp {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    server: JoinHandle<std::io::Result<()>>,
    workers: workers::Workers,
    services: Arc<Services>,
    database: Arc<Database>,
}

impl RunningApp {
    /// Stops accepting, drains in-flight requests, and closes the pool.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        self.wait().await
    }

    /// Runs until the server ends (after a shutdown signal).
    pub async fn wait(self) -> anyhow::Result<()> {
        let served = self.server.await;
        self.workers.stop(&self.services).await;
        self.database.close().await;
        served.context("server task failed")?.context("server failed")
    }
}

/// Opens the database and applies pending migrations.
pub async fn open_database(config: &Config) -> anyhow::Result<Arc<Database>> {
    let settings = DbSettings {
        url: config.database_url.clone(),
        pool_max: config.db_pool_max,
        acquire_timeout: config.db_acquire_timeout,
        statement_timeout: config.db_statement_timeout,
        bulk_timeout: config.db_bulk_timeout,
    };
    let database = Database::connect(settings.clone())
        .await
        .context("DATABASE_URL: cannot connect")?;
    database.migrate().await.context("applying migrations")?;
    if database.backend() != sea_orm::DbBackend::Sqlite {
        return Ok(Arc::new(database));
    }
    // A SQLite connection keeps the schema it read when it opened: one opened before a migration
    // altered a table prepares `UPDATE ... RETURNING` as if the new columns were not there, and
    // its rows come back without them. The pool is opened again, after the migrations.
    database.close().await;
    let database = Database::connect(settings)
        .await
        .context("DATABASE_URL: cannot connect")?;
    Ok(Arc::new(database))
}

/// Builds everything and starts serving on `HOST:PORT` (port 0 picks a free one). Returns once
/// the listener is bound; `shutdown_signal` (or `RunningApp::stop`) ends it.
pub async fn start(
    config: Config,
    shutdown_signal: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<RunningApp> {
    start_with(config, shutdown_signal, Extras::default()).await
}

/// `start`, with some adapters replaced (tests capture mail this way).
pub async fn start_with(
    config: Config,
    shutdown_signal: impl std::future::Future<Output = ()> + Send + 'static,
    extras: Extras,
) -> anyhow::Result<RunningApp> {
    let started = Instant::now();
    let metrics = telemetry::metrics_handle()?;
    // Bound first: a second instance on a busy port stops here, before it migrates the database
    // or generates any secret.
    let acceptor = TcpListener::bind(SocketAddr::new(config.host, config.port))
        .into_acceptor()
        .await
        .with_context(|| format!("HOST/PORT: cannot listen on {}:{}", config.host, config.port))?;
    let database = open_database(&config).await?;
    let services = Arc::new(Services::build(&config, database.clone(), extras).await?);
    services.bootstrap_admin(&config).await?;
    let workers = services.start_workers();

    let build = build_info();
    let (version, commit) = (build.version.clone(), build.commit_short.clone());
    let commit_short = build
        .commit_short
        .parse()
        .context("commit hash is not a valid header value")?;
    let state = Arc::new(AppState {
        build,
        started,
        database: database.clone(),
        redis_cache: services.redis_cache.clone(),
        metrics,
        guard: services.guard.clone(),
        auth: services.auth.clone(),
        api_keys: services.api_keys.clone(),
        admin: services.admin.clone(),
        items: services.items.clone(),
        events: services.events.clone(),
        circuits: services.circuits.clone(),
        members: services.members.clone(),
        joins: services.joins.clone(),
        public_pages: services.public_pages.clone(),
        push: services.push.clone(),
        transfers: services.transfers.clone(),
        disputes: services.disputes.clone(),
        webhooks: services.webhooks.clone(),
        storage: services.storage.clone(),
        notifications: services.notifications.clone(),
        log: services.log.clone(),
        history: services.history.clone(),
        receipts: services.receipts.clone(),
        epcis: services.epcis.clone(),
        lineage: services.lineage.clone(),
        dashboards: services.dashboards.clone(),
        notifier: services.notifier.clone(),
        reset_queue: services.reset_queue.clone(),
        max_import_bytes: config.max_import_bytes,
        public_base_url: config.public_base_url.clone(),
    });
    let endpoint = http::endpoint(HttpParts {
        state,
        edge: EdgeSettings {
            max_body_bytes: config.max_body_bytes,
            max_import_bytes: config.max_import_bytes,
            max_epcis_document_bytes: config.epcis_max_document_bytes,
            request_timeout: config.request_timeout,
            trusted_proxies: Arc::new(config.trusted_proxies.clone()),
            commit_short,
        },
        cors_allowed_origins: config.cors_allowed_origins.clone(),
    });

    let acceptor = GuardedAcceptor::new(
        acceptor,
        ConnectionLimits {
            header_read_timeout: config.header_read_timeout,
            max_per_ip: config.max_connections_per_ip,
            trusted_proxies: Arc::new(config.trusted_proxies.clone()),
        },
    );
    let addr = acceptor
        .local_addr()
        .first()
        .and_then(|addr| addr.as_socket_addr().copied())
        .context("listener has no socket address")?;

    let (shutdown, stop_requested) = oneshot::channel::<()>();
    let stop = async move {
        tokio::select! {
            _ = stop_requested => {},
            () = shutdown_signal => {},
        }
        tracing::info!("shutting down: draining in-flight requests");
    };
    let server = tokio::spawn(Server::new_with_acceptor(acceptor).run_with_graceful_shutdown(
        endpoint,
        stop,
        Some(DRAIN_TIMEOUT),
    ));
    tracing::info!(
        %addr,
        version,
        commit,
        backend = crate::ports::DatabaseHealth::backend(database.as_ref()),
        docs = format!("http://{addr}/docs"),
        startup_ms = started.elapsed().as_millis() as u64,
        "listening"
    );
    Ok(RunningApp {
        addr,
        shutdown: Some(shutdown),
        server,
        workers,
        services,
        database,
    })
}

/// Resolves on SIGINT or SIGTERM.
pub async fn termination_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// `defarm serve`: runs until SIGINT/SIGTERM, then drains.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let app = start(config, termination_signal()).await?;
    app.wait().await
}
