//! Builds the adapters and the services on them, and runs the background workers.

use crate::domain::dashboards::service::DashboardService;
use crate::domain::epcis::ItemNames;
use crate::domain::epcis::lineage_service::LineageService;
use crate::domain::epcis::native::NativeExport;
use crate::domain::epcis::service::EpcisService;
use futures_util::FutureExt;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::Config;
use super::secrets::load_or_create;
use crate::adapters::cache::{MemoryCache, NearCache, RedisCache};
use crate::adapters::clock::SystemClock;
use crate::adapters::crypto::{AesCipher, HashLimits, JwtSigner, PasswordHashing};
use crate::adapters::db::{CommitHooks, Database, SqlStore};
use crate::adapters::ids::RandomIds;
use crate::adapters::limits::{BatchedLimiter, MemoryLimiter, RedisLimiter};
use crate::adapters::mail::{LogMailer, SmtpMailer};
use crate::adapters::notify::{LocalNotifier, RedisNotifier};
use crate::adapters::redis::RedisClient;
use crate::adapters::storage::{IpfsStore, LocalStore};
use crate::adapters::webhooks::HttpTransport;
use crate::domain::circuits::circuit_service::CircuitService;
use crate::domain::circuits::join_service::JoinService;
use crate::domain::circuits::member_service::MemberService;
use crate::domain::circuits::public_page::PageGate;
use crate::domain::circuits::public_page_service::PublicPageService;
use crate::domain::circuits::push_service::PushService;
use crate::domain::identity::access::{RequestMeta, TierPolicy};
use crate::domain::identity::account::{AccountStatus, Tier};
use crate::domain::identity::admin::AdminService;
use crate::domain::identity::api_keys::ApiKeyService;
use crate::domain::identity::auth::{AuthService, AuthSettings, NewUser};
use crate::domain::identity::guard::Guard;
use crate::domain::identity::mail_outbox::MailSender;
use crate::domain::identity::ports::Mailer;
use crate::domain::items::conflicts::ConflictLimit;
use crate::domain::items::dispute_service::DisputeService;
use crate::domain::items::event_service::EventService;
use crate::domain::items::item_service::ItemService;
use crate::domain::items::receipt_service::ReceiptService;
use crate::domain::items::transfer_service::TransferService;
use crate::domain::log::history::HistoryService;
use crate::domain::log::note::NoteSigner;
use crate::domain::log::service::LogService;
use crate::domain::partners::notification_service::NotificationService;
use crate::domain::partners::ports::{ContentStore, Notifier, OutboxRepo, SecretCipher};
use crate::domain::partners::storage_service::StorageService;
use crate::domain::partners::webhook_service::WebhookService;
use crate::ports::{Cache, Clock, IdGenerator, RateLimiter};

/// How often buffered API key usage is written.
const USAGE_FLUSH_EVERY: Duration = Duration::from_secs(5);

/// Adapters a caller may replace.
#[derive(Default)]
pub struct Extras {
    pub mailer: Option<Arc<dyn Mailer>>,
}

/// Everything the HTTP layer and the command line use.
pub struct Services {
    pub store: Arc<SqlStore>,
    pub redis_cache: Option<Arc<dyn Cache>>,
    pub guard: Arc<Guard>,
    pub auth: Arc<AuthService>,
    pub api_keys: Arc<ApiKeyService>,
    pub admin: Arc<AdminService>,
    pub items: Arc<ItemService>,
    pub events: Arc<EventService>,
    pub circuits: Arc<CircuitService>,
    pub members: Arc<MemberService>,
    pub joins: Arc<JoinService>,
    pub public_pages: Arc<PublicPageService>,
    pub push: Arc<PushService>,
    pub transfers: Arc<TransferService>,
    pub disputes: Arc<DisputeService>,
    pub webhooks: Arc<WebhookService>,
    pub storage: Arc<StorageService>,
    pub notifications: Arc<NotificationService>,
    pub notifier: Arc<dyn Notifier>,
    /// Woken by commits that queue deliveries or storage work.
    outbox: Arc<tokio::sync::Notify>,
    pub log: Arc<LogService>,
    pub history: Arc<HistoryService>,
    pub receipts: Arc<ReceiptService>,
    pub epcis: Arc<EpcisService>,
    pub lineage: Arc<LineageService>,
    pub dashboards: Arc<DashboardService>,
    /// Sends what the mail outbox holds.
    mail: Arc<MailSender>,
    /// Woken by commits that record a fact.
    log_wake: Arc<tokio::sync::Notify>,
    log_integrate: Duration,
    pub reset_queue: tokio::sync::mpsc::Sender<ResetJob>,
    /// Taken by the worker that sends reset messages.
    reset_jobs: std::sync::Mutex<Option<tokio::sync::mpsc::Receiver<ResetJob>>>,
}

/// A password reset request waiting to be sent.
pub type ResetJob = (
    crate::domain::identity::password_reset::ResetRequest,
    crate::domain::identity::access::RequestMeta,
);

/// How many reset requests may wait for the worker; more are dropped (the answer is the same).
const RESET_QUEUE: usize = 1024;

impl Services {
    pub async fn build(config: &Config, database: Arc<Database>, extras: Extras) -> anyhow::Result<Self> {
        // The TLS provider for outgoing HTTPS (webhooks, IPFS); a second call is a no-op.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let ids: Arc<dyn IdGenerator> = Arc::new(RandomIds);

        let redis = config
            .redis_url
            .as_deref()
            .map(|url| RedisClient::new(url, &config.redis_key_prefix).map(Arc::new))
            .transpose()
            .context("REDIS_URL")?;
        let redis_cache: Option<Arc<dyn Cache>> = redis
            .clone()
            .map(|client| Arc::new(RedisCache::new(client)) as Arc<dyn Cache>);
        let cache: Arc<dyn Cache> = match &redis_cache {
            Some(cache) => cache.clone(),
            None => Arc::new(MemoryCache::new()),
        };
        // Session, account and API key facts, read on every authenticated request: each replica
        // keeps a near copy, kept true by deletions published through Redis.
        let facts_cache: Arc<dyn Cache> = match (&redis, &redis_cache) {
            (Some(client), Some(shared)) => NearCache::start(shared.clone(), client.clone())?,
            _ => cache.clone(),
        };
        let limiter: Arc<dyn RateLimiter> = match &redis {
            Some(client) => Arc::new(RedisLimiter::new(client.clone())),
            None => Arc::new(MemoryLimiter::new()),
        };
        let notifier: Arc<dyn Notifier> = match &redis {
            Some(client) => RedisNotifier::start(client.clone())?,
            None => Arc::new(LocalNotifier::new()),
        };
        let outbox = Arc::new(tokio::sync::Notify::new());
        let log_wake = Arc::new(tokio::sync::Notify::new());
        let store = Arc::new(SqlStore::new(
            database.clone(),
            CommitHooks {
                notifier: notifier.clone(),
                outbox: outbox.clone(),
                log: log_wake.clone(),
            },
        ));
        let log = Arc::new(LogService::new(
            store.clone(),
            store.clone(),
            clock.clone(),
            log_signer(config)?,
        ));
        let receipts = Arc::new(ReceiptService {
            store: store.clone(),
            clock: clock.clone(),
            ids: ids.clone(),
        });
        let history = Arc::new(HistoryService {
            store: store.clone(),
            log: log.clone(),
        });
        let secrets_key = match config.secrets_key {
            Some(key) => key,
            None => {
                use base64::Engine as _;
                let text = load_or_create(&config.data_dir, "secrets_key", || {
                    let mut key = [0_u8; 32];
                    rand::Rng::fill(&mut rand::rng(), &mut key);
                    base64::engine::general_purpose::STANDARD.encode(key)
                })?;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(text.trim())
                    .context("DATA_DIR/secrets_key")?;
                <[u8; 32]>::try_from(bytes.as_slice())
                    .map_err(|_| anyhow::anyhow!("DATA_DIR/secrets_key is not 32 bytes"))?
            }
        };
        let mut content: HashMap<String, Arc<dyn ContentStore>> = HashMap::new();
        content.insert("local".to_owned(), Arc::new(LocalStore::new(database)));
        if let Some(api) = &config.ipfs_api_url {
            content.insert(
                "ipfs-ipfs".to_owned(),
                Arc::new(IpfsStore::new(api.clone()).context("IPFS_API_URL")?),
            );
        }

        let jwt_secret = match &config.jwt_secret {
            Some(secret) => secret.clone(),
            None => load_or_create(&config.data_dir, "jwt_secret", || {
                crate::domain::secrets::random_token(48)
            })?,
        };
        let tokens = Arc::new(JwtSigner::new(jwt_secret.as_bytes()));
        let hasher = Arc::new(PasswordHashing::new(
            HashLimits {
                concurrency: config.password_hash_concurrency,
                queue_timeout: config.password_hash_queue_timeout,
            },
            "login",
        )?);
        let cipher: Arc<dyn SecretCipher> = Arc::new(AesCipher::new(&secrets_key));
        let mailer: Arc<dyn Mailer> = match extras.mailer {
            Some(mailer) => mailer,
            None if config.smtp_url.is_some() => Arc::new(SmtpMailer::new(
                config.smtp_url.as_deref().unwrap_or_default(),
                &config.smtp_from,
            )?),
            None => {
                tracing::warn!(
                    "the log mailer is active: password reset tokens are written to the `defarm::mailer` log \
                     target; do not use this in production"
                );
                Arc::new(LogMailer)
            }
        };

        let rates = &config.rate_per_hour;
        let nonzero = |v: u64| (v > 0).then_some(v);
        let policy = TierPolicy {
            requests_per_hour: [
                nonzero(rates.basic),
                nonzero(rates.professional),
                nonzero(rates.enterprise),
            ],
            max_circuits: [config.tier_max_circuits.basic, config.tier_max_circuits.professional],
            max_items_per_month: [
                config.tier_max_items_per_month.basic,
                config.tier_max_items_per_month.professional,
            ],
        };
        // Per-request limits: counted here and sent to Redis in batches (no round trip per request).
        let request_limiter: Arc<dyn RateLimiter> = match &redis {
            Some(_) => BatchedLimiter::start(limiter.clone(), config.rate_limit_batch as u64),
            None => limiter.clone(),
        };
        let guard = Arc::new(Guard {
            store: store.clone(),
            cache: facts_cache.clone(),
            tokens: tokens.clone(),
            limiter: request_limiter.clone(),
            clock: clock.clone(),
            policy,
            public_per_minute: nonzero(config.rate_public_per_minute),
            usage: Mutex::new(HashMap::new()),
        });
        let auth = Arc::new(AuthService {
            store: store.clone(),
            hasher,
            tokens,
            cache: facts_cache.clone(),
            limiter: limiter.clone(),
            cipher: cipher.clone(),
            clock: clock.clone(),
            ids: ids.clone(),
            settings: AuthSettings {
                jwt_ttl: chrono::Duration::from_std(config.jwt_ttl)?,
                session_max: chrono::Duration::from_std(config.session_max)?,
                login_max_failures: config.login_max_failures,
                lockout: chrono::Duration::minutes(15),
                reset_ttl: chrono::Duration::minutes(30),
            },
        });
        let limiter_for_pages = limiter.clone();
        let limiter_for_conflicts = limiter.clone();
        let api_keys = Arc::new(ApiKeyService {
            store: store.clone(),
            cache: facts_cache.clone(),
            limiter: request_limiter,
            clock: clock.clone(),
            ids: ids.clone(),
            guard: guard.clone(),
        });
        let admin = Arc::new(AdminService {
            store: store.clone(),
            clock: clock.clone(),
            ids: ids.clone(),
            auth: auth.clone(),
        });
        // One hash at a time for public pages' access passwords, so page views never compete
        // with logins for the login hasher's slots.
        let access_hasher = Arc::new(PasswordHashing::new(
            HashLimits {
                concurrency: 1,
                queue_timeout: config.password_hash_queue_timeout,
            },
            "access_password",
        )?);
        let items = Arc::new(ItemService {
            store: store.clone(),
            clock: clock.clone(),
            ids: ids.clone(),
            policy,
            conflicts: ConflictLimit::new(limiter_for_conflicts.clone(), store.clone(), clock.clone(), ids.clone()),
        });
        let events = Arc::new(EventService {
            store: store.clone(),
            clock: clock.clone(),
            ids: ids.clone(),
            native: NativeExport::new(&config.public_base_url),
        });
        let storage = Arc::new(StorageService {
            store: store.clone(),
            clock: clock.clone(),
            ids: ids.clone(),
            content,
            health: tokio::sync::Mutex::default(),
        });
        let circuits = Arc::new(CircuitService {
            store: store.clone(),
            clock: clock.clone(),
            ids: ids.clone(),
            policy,
            available_adapters: storage.available(),
        });
        let gate = Arc::new(PageGate {
            circuits: store.clone(),
            clock: clock.clone(),
            hasher: access_hasher,
            limiter: limiter_for_pages,
        });
        let members = Arc::new(MemberService {
            store: store.clone(),
            clock: clock.clone(),
            ids: ids.clone(),
        });
        let joins = Arc::new(JoinService {
            store: store.clone(),
            clock: clock.clone(),
            ids: ids.clone(),
            gate: gate.clone(),
        });
        let public_pages = Arc::new(PublicPageService {
            store: store.clone(),
            clock: clock.clone(),
            ids: ids.clone(),
            gate,
        });
        let push = Arc::new(PushService {
            store: store.clone(),
            clock: clock.clone(),
            ids: ids.clone(),
            conflicts: ConflictLimit::new(limiter_for_conflicts, store.clone(), clock.clone(), ids.clone()),
        });
        let epcis = Arc::new(EpcisService {
            store: store.clone(),
            push: push.clone(),
            clock: clock.clone(),
            ids: ids.clone(),
            policy,
            max_events: config.epcis_max_events,
            native: NativeExport::new(&config.public_base_url),
        });
        let lineage = Arc::new(LineageService {
            store: store.clone(),
            item_names: ItemNames::new(&config.public_base_url),
        });
        let transfers = Arc::new(TransferService {
            store: store.clone(),
            clock: clock.clone(),
            ids: ids.clone(),
        });
        let disputes = Arc::new(DisputeService {
            store: store.clone(),
            clock: clock.clone(),
            ids: ids.clone(),
        });
        let mail = Arc::new(MailSender {
            store: store.clone(),
            clock: clock.clone(),
            mailer,
            cipher: cipher.clone(),
        });
        let dashboards = Arc::new(DashboardService {
            store: store.clone(),
            clock: clock.clone(),
            cache: cache.clone(),
            fresh_for: config.dashboard_cache,
            counting: std::sync::Mutex::default(),
        });
        let webhooks = Arc::new(WebhookService {
            store: store.clone(),
            clock,
            ids: ids.clone(),
            cipher: cipher.clone(),
            transport: Arc::new(HttpTransport::new(config.webhook_allow_private)?),
            attempt_timeout: config.webhook_timeout,
        });
        let notifications = Arc::new(NotificationService { store: store.clone() });
        let (reset_queue, reset_jobs) = tokio::sync::mpsc::channel(RESET_QUEUE);
        Ok(Self {
            store,
            redis_cache,
            guard,
            auth,
            api_keys,
            admin,
            items,
            events,
            circuits,
            members,
            joins,
            public_pages,
            push,
            transfers,
            disputes,
            webhooks,
            storage,
            notifications,
            notifier,
            outbox,
            history,
            receipts,
            epcis,
            lineage,
            dashboards,
            mail,
            log,
            log_wake,
            log_integrate: config.log_integrate,
            reset_queue,
            reset_jobs: std::sync::Mutex::new(Some(reset_jobs)),
        })
    }

    /// Creates the `DEFARM_ADMIN_*` administrator if it does not exist yet.
    pub async fn bootstrap_admin(&self, config: &Config) -> anyhow::Result<()> {
        let Some(admin) = &config.admin_bootstrap else {
            return Ok(());
        };
        let created = self
            .auth
            .ensure_admin(
                NewUser {
                    username: admin.username.clone(),
                    email: admin.email.clone(),
                    password: Some(admin.password.clone()),
                    is_admin: true,
                    tier: Tier::Admin,
                    status: AccountStatus::Active,
                },
                &system_meta("bootstrap"),
            )
            .await
            .map_err(|e| anyhow::anyhow!("DEFARM_ADMIN_USERNAME: {e}"))?;
        if created {
            tracing::info!(username = %admin.username, "created the bootstrap administrator");
        }
        Ok(())
    }

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
            Some(self.outbox.clone()),
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
            Some(self.outbox.clone()),
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
            Some(self.outbox.clone()),
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

/// The log's signing key: `LOG_SIGNING_KEY`, or one generated into `DATA_DIR` (SQLite mode).
fn log_signer(config: &Config) -> anyhow::Result<NoteSigner> {
    if let Some(key) = &config.log_signing_key {
        return Ok(key.clone());
    }
    let text = load_or_create(&config.data_dir, "log_signing_key", || {
        NoteSigner::from_seed(&config.log_origin, rand::random())
            .map(|key| key.private_key_string())
            .unwrap_or_default()
    })?;
    let key = NoteSigner::parse(&text).map_err(|e| anyhow::anyhow!("DATA_DIR/log_signing_key: {e}"))?;
    anyhow::ensure!(
        key.name() == config.log_origin,
        "DATA_DIR/log_signing_key is named {:?} but LOG_ORIGIN is {:?}",
        key.name(),
        config.log_origin
    );
    Ok(key)
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

/// Request facts for actions that come from the service itself, not a client.
pub fn system_meta(origin: &str) -> RequestMeta {
    RequestMeta {
        ip: std::net::IpAddr::from([127, 0, 0, 1]),
        user_agent: Some(format!("defarm {origin}")),
        request_id: format!("{origin}-{}", uuid::Uuid::new_v4().simple()),
    }
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
