//! The background workers: outbox senders (webhooks, mail, storage), the log sequencer, the
//! password reset sender, API key usage flushes and outbox metrics, each a loop that survives a
//! panicking round and stops when asked.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::services::{ResetJob, Services};
use crate::domain::identity::auth::AuthService;
use crate::domain::log::service::LogService;
use crate::domain::partners::ports::OutboxRepo;

/// How often buffered API key usage is written.
const USAGE_FLUSH_EVERY: Duration = Duration::from_secs(5);

impl Services {
    /// Starts the background workers; `Workers::stop` ends them after a last flush.
    pub fn start_workers(&self) -> Workers {
        let (stop, stopped) = watch::channel(false);
        let mut tasks = Vec::new();

        let guard = self.guard.clone();
        tasks.push(spawn_loop(stopped.clone(), USAGE_FLUSH_EVERY, None, move || {
            let guard = guard.clone();
            async move {
                if let Err(err) = guard.flush_usage().await {
                    tracing::warn!(error = %err, "could not write API key usage; will retry");
                }
                0
            }
        }));
        let webhooks = self.webhooks.clone();
        tasks.push(spawn_loop(
            stopped.clone(),
            OUTBOX_POLL,
            Some(self.outbox.deliveries.clone()),
            move || {
                let webhooks = webhooks.clone();
                async move {
                    webhooks.deliver_due().await.unwrap_or_else(|err| {
                        tracing::warn!(error = %err, "webhook sender could not claim deliveries");
                        0
                    })
                }
            },
        ));
        let mail = self.mail.clone();
        tasks.push(spawn_loop(
            stopped.clone(),
            OUTBOX_POLL,
            Some(self.outbox.mail.clone()),
            move || {
                let mail = mail.clone();
                async move {
                    mail.send_due().await.unwrap_or_else(|err| {
                        tracing::warn!(error = %err, "mail worker could not claim messages");
                        0
                    })
                }
            },
        ));
        let storage = self.storage.clone();
        tasks.push(spawn_loop(
            stopped.clone(),
            OUTBOX_POLL,
            Some(self.outbox.storage.clone()),
            move || {
                let storage = storage.clone();
                async move {
                    storage.store_due().await.unwrap_or_else(|err| {
                        tracing::warn!(error = %err, "storage worker could not claim records");
                        0
                    })
                }
            },
        ));
        tasks.push(spawn_sequencer(
            stopped.clone(),
            self.log.clone(),
            self.log_wake.clone(),
            self.log_integrate,
        ));
        if let Some(jobs) = self.reset_jobs.lock().ok().and_then(|mut jobs| jobs.take()) {
            tasks.push(spawn_reset_sender(stopped.clone(), self.auth.clone(), jobs));
        }
        let store = self.store.clone();
        tasks.push(spawn_loop(stopped, OUTBOX_METRICS_EVERY, None, move || {
            let store = store.clone();
            async move {
                if let Ok(depth) = store.outbox_depth().await {
                    metrics::gauge!("defarm_outbox_depth", "queue" => "deliveries").set(depth.deliveries as f64);
                    metrics::gauge!("defarm_outbox_depth", "queue" => "storage").set(depth.storage as f64);
                    metrics::gauge!("defarm_outbox_depth", "queue" => "mail").set(depth.mail as f64);
                    let age = depth
                        .oldest
                        .map_or(0.0, |at| (chrono::Utc::now() - at).num_milliseconds() as f64 / 1000.0);
                    metrics::gauge!("defarm_outbox_oldest_pending_seconds").set(age.max(0.0));
                }
                0
            }
        }));
        Workers { stop, tasks }
    }

    /// Writes what is buffered (API key usage) before the process ends.
    async fn flush(&self) {
        if let Err(err) = self.guard.flush_usage().await {
            tracing::warn!(error = %err, "could not write API key usage at shutdown");
        }
    }
}

/// Most entries one integration takes; a fuller backlog takes several in a row.
const LOG_BATCH: usize = 4096;

/// Integrates pending log entries: woken by local commits, and every half `LOG_INTEGRATE_MS`
/// for other replicas' entries. A short pause after each wake-up gathers a burst of commits
/// into one batch (one checkpoint) instead of one checkpoint each.
fn spawn_sequencer(
    stopped: watch::Receiver<bool>,
    log: Arc<LogService>,
    wake: Arc<tokio::sync::Notify>,
    integrate: Duration,
) -> JoinHandle<()> {
    let gather = (integrate / 10).min(Duration::from_millis(50));
    spawn_loop(stopped, integrate / 2, Some(wake), move || {
        let log = log.clone();
        async move {
            tokio::time::sleep(gather).await;
            match log.integrate(LOG_BATCH).await {
                Ok(done) if done == LOG_BATCH => done,
                Ok(_) => 0,
                Err(err) => {
                    tracing::warn!(error = %err, "the log sequencer could not integrate; will retry");
                    0
                }
            }
        }
    })
}

/// Sends queued password reset messages one at a time until stopped.
fn spawn_reset_sender(
    mut stopped: watch::Receiver<bool>,
    auth: Arc<AuthService>,
    mut jobs: tokio::sync::mpsc::Receiver<ResetJob>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let (request, meta) = tokio::select! {
                _ = stopped.changed() => return,
                job = jobs.recv() => match job {
                    Some(job) => job,
                    None => return,
                },
            };
            let sent = AssertUnwindSafe(auth.send_reset(request, &meta)).catch_unwind().await;
            match sent {
                Ok(Ok(())) => {}
                Ok(Err(err)) => tracing::warn!(error = %err, "could not handle a password reset request"),
                Err(panic) => tracing::error!(panic = panic_message(&panic), "password reset sender panicked"),
            }
        }
    })
}

/// How long the outbox workers sleep when nobody wakes them: other replicas' commits and
/// scheduled retries are found this way.
const OUTBOX_POLL: Duration = Duration::from_millis(500);
const OUTBOX_METRICS_EVERY: Duration = Duration::from_secs(5);

/// Runs `work` until stopped: again at once while it reports work done, otherwise after
/// `every` or when `wake` fires. A panic in one round is logged and the loop goes on.
fn spawn_loop<F, Fut>(
    mut stopped: watch::Receiver<bool>,
    every: Duration,
    wake: Option<Arc<tokio::sync::Notify>>,
    work: F,
) -> JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = usize> + Send,
{
    let wake = wake.unwrap_or_default();
    tokio::spawn(async move {
        loop {
            if *stopped.borrow() {
                return;
            }
            // Registered before the work runs, so a wake-up sent while it runs is not lost.
            let woken = wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            match AssertUnwindSafe(work()).catch_unwind().await {
                Ok(done) if done > 0 => continue,
                Ok(_) => {}
                Err(panic) => tracing::error!(panic = panic_message(&panic), "background worker panicked"),
            }
            tokio::select! {
                _ = stopped.changed() => return,
                () = tokio::time::sleep(every) => {}
                () = woken => {}
            }
        }
    })
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("non-text panic")
}

pub struct Workers {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Stops the loops (an attempt in flight finishes; a claimed delivery not recorded is taken
    /// over when its lease ends) and flushes buffers.
    pub async fn stop(self, services: &Services) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            if let Err(error) = task.await {
                tracing::error!(%error, "background worker ended abnormally");
            }
        }
        services.flush().await;
    }
}
