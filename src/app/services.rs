//! Builds the adapters and the services on them, and runs the background workers.

use crate::domain::dashboards::service::DashboardService;
use crate::domain::epcis::ItemNames;
use crate::domain::epcis::lineage_service::LineageService;
use crate::domain::epcis::native::NativeExport;
use crate::domain::epcis::service::EpcisService;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;

use super::Config;
use super::secrets::load_or_create;
use crate::adapters::cache::{MemoryCache, NearCache, RedisCache};
use crate::adapters::clock::SystemClock;
use crate::adapters::crypto::{AesCipher, HashLimits, JwtSigner, PasswordHashing};
use crate::adapters::db::{CommitHooks, Database, OutboxWake, SqlStore};
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
use crate::domain::circuits::page_pass::PassKey;
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
use crate::domain::partners::ports::{ContentStore, Notifier, SecretCipher};
use crate::domain::partners::storage_service::StorageService;
use crate::domain::partners::webhook_service::WebhookService;
use crate::ports::{Cache, Clock, IdGenerator, RateLimiter};

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
    /// Woken by commits that queue deliveries, storage work or mail, each queue's own.
    pub(super) outbox: OutboxWake,
    pub log: Arc<LogService>,
    pub history: Arc<HistoryService>,
    pub receipts: Arc<ReceiptService>,
    pub epcis: Arc<EpcisService>,
    pub lineage: Arc<LineageService>,
    pub dashboards: Arc<DashboardService>,
    /// Sends what the mail outbox holds.
    pub(super) mail: Arc<MailSender>,
    /// Woken by commits that record a fact.
    pub(super) log_wake: Arc<tokio::sync::Notify>,
    pub(super) log_integrate: Duration,
    pub reset_queue: tokio::sync::mpsc::Sender<ResetJob>,
    /// Taken by the worker that sends reset messages.
    pub(super) reset_jobs: std::sync::Mutex<Option<tokio::sync::mpsc::Receiver<ResetJob>>>,
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
        let outbox = OutboxWake::default();
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
            passes: PassKey::derived_from(jwt_secret.as_bytes()),
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
            longest_capture: config.db_bulk_timeout,
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

/// Request facts for actions that come from the service itself, not a client.
pub fn system_meta(origin: &str) -> RequestMeta {
    RequestMeta {
        ip: std::net::IpAddr::from([127, 0, 0, 1]),
        user_agent: Some(format!("defarm {origin}")),
        request_id: format!("{origin}-{}", uuid::Uuid::new_v4().simple()),
    }
}
