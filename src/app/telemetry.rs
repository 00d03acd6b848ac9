//! Logging and metrics setup: one subscriber for the process, one Prometheus recorder.

use std::io::IsTerminal;
use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use super::config::LogFormat;

/// Where log lines go: the server logs to stdout; one-off commands to stderr, so that what
/// they print (an id, a key) is all their stdout holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogOutput {
    Stdout,
    Stderr,
}

/// Installs the tracing subscriber: JSON lines or text, filtered by `RUST_LOG` (default `info`;
/// a filter that does not parse is an error, not a silent default). Text has colours only on a
/// terminal and without `NO_COLOR` (no-color.org), so container logs carry no escape codes.
/// A span is logged when it closes, with its fields and its busy/idle time: that line is the
/// access log for `request` spans and the timing of `db.*`, `password.*` and other phases.
/// Calling it twice is harmless, which lets tests start several apps in one process.
pub fn init_tracing(format: LogFormat, output: LogOutput) -> anyhow::Result<()> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => {
            EnvFilter::try_new(&directives).map_err(|e| anyhow::anyhow!("RUST_LOG={directives:?}: {e}"))?
        }
        _ => EnvFilter::new("info"),
    };
    let registry = tracing_subscriber::registry().with(filter);
    let (writer, terminal) = match output {
        LogOutput::Stdout => (BoxMakeWriter::new(std::io::stdout), std::io::stdout().is_terminal()),
        LogOutput::Stderr => (BoxMakeWriter::new(std::io::stderr), std::io::stderr().is_terminal()),
    };
    let _ = match format {
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .with_writer(writer)
                    .with_span_events(FmtSpan::CLOSE)
                    .with_current_span(true)
                    .with_span_list(true),
            )
            .try_init(),
        LogFormat::Text => {
            let colours = terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            registry
                .with(
                    fmt::layer()
                        .with_writer(writer)
                        .with_ansi(colours)
                        .with_span_events(FmtSpan::CLOSE),
                )
                .try_init()
        }
    };
    Ok(())
}

/// Every metric family the service records, with the `# HELP` text `/metrics` shows for it.
const METRICS: &[(&str, &str)] = &[
    (
        "defarm_build_info",
        "Always 1; labelled with the running build's version and commit.",
    ),
    (
        "defarm_http_requests_total",
        "HTTP requests answered, by method, route (as the spec writes it) and status.",
    ),
    (
        "defarm_http_request_duration_seconds",
        "Time from a request's arrival to its response, by method, route and status.",
    ),
    (
        "defarm_connections_refused_total",
        "Connections closed on accept, by reason (per_ip: over MAX_CONNECTIONS_PER_IP).",
    ),
    (
        "defarm_db_pool_connections",
        "Database pool connections, by state (max, open, idle), read at each scrape.",
    ),
    (
        "defarm_db_acquire_seconds",
        "Time waiting for a database connection from the pool.",
    ),
    (
        "defarm_db_acquire_timeouts_total",
        "Database connection waits that reached DB_ACQUIRE_TIMEOUT_MS.",
    ),
    ("defarm_redis_call_seconds", "Redis round trips, by operation."),
    (
        "defarm_redis_errors_total",
        "Redis calls that failed or timed out, by operation.",
    ),
    (
        "defarm_cache_hits_total",
        "Cache reads that found their entry, by backend.",
    ),
    ("defarm_cache_misses_total", "Cache reads that did not, by backend."),
    (
        "defarm_rate_limit_rejections_total",
        "Requests refused with 429, by limit scope.",
    ),
    (
        "defarm_rate_limit_fallbacks_total",
        "Rate-limit checks counted in memory because Redis did not answer.",
    ),
    (
        "defarm_password_hash_seconds",
        "Time hashing or verifying one password, by hasher.",
    ),
    (
        "defarm_password_hash_wait_seconds",
        "Time a password waited for a hashing slot, by hasher.",
    ),
    (
        "defarm_password_hash_queue_depth",
        "Passwords waiting for a hashing slot, by hasher.",
    ),
    (
        "defarm_password_hash_rejected_total",
        "Password operations refused with 503 because the hashing queue was full.",
    ),
    (
        "defarm_webhook_attempts_total",
        "Webhook delivery attempts, by outcome.",
    ),
    (
        "defarm_webhook_attempt_seconds",
        "Time of one webhook delivery attempt.",
    ),
    (
        "defarm_webhook_deliveries_total",
        "Webhook deliveries settled, by final status.",
    ),
    (
        "defarm_store_attempts_total",
        "Attempts to store an item copy in a storage adapter, by adapter and outcome.",
    ),
    ("defarm_store_seconds", "Time of one storage attempt, by adapter."),
    (
        "defarm_mail_attempts_total",
        "Attempts to send a queued message, by outcome (Sent, Pending for a retry, Failed).",
    ),
    (
        "defarm_outbox_depth",
        "Outbox rows waiting, by queue (deliveries, storage, mail).",
    ),
    (
        "defarm_outbox_oldest_pending_seconds",
        "Age of the oldest waiting outbox row.",
    ),
    (
        "defarm_sockets_connected",
        "Notification WebSockets open on this replica.",
    ),
];

/// Registers the `# HELP` text of every family (the `metrics` facade keeps descriptions apart from
/// the values, so the kind of metric does not matter for it) and sets the build's info gauge.
fn describe_metrics() {
    for &(name, help) in METRICS {
        metrics::describe_counter!(name, help);
    }
    metrics_process::Collector::default().describe();
    let build = super::build_info();
    metrics::gauge!("defarm_build_info", "version" => build.version, "commit" => build.commit_short).set(1.0);
}

/// Latency buckets in seconds, from 0.5 ms to 10 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide Prometheus recorder. The `metrics` facade has one global recorder, so every
/// app started in this process (tests start many) shares it.
pub fn metrics_handle() -> anyhow::Result<PrometheusHandle> {
    static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .map_err(|e| e.to_string())?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).map_err(|e| e.to_string())?;
            describe_metrics();
            // Histogram samples pile up in the recorder until drained: without a scrape, memory
            // grew by ~15 MB a minute under load (the soak). Upkeep drains them on a timer.
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(std::time::Duration::from_secs(5));
                        upkeep.run_upkeep();
                    }
                })
                .map_err(|e| e.to_string())?;
            Ok(handle)
        })
        .clone()
        .map_err(|e| anyhow::anyhow!("metrics recorder: {e}"))
}
