//! Builds the adapters and the services on them, and runs the background workers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::Config;
use super::secrets::load_or_create;
use crate::adapters::cache::{MemoryCache, RedisCache};
use crate::adapters::clock::SystemClock;
use crate::adapters::crypto::{HashLimits, JwtSigner, PasswordHashing};
use crate::adapters::db::{Database, SqlStore};
use crate::adapters::limits::{MemoryLimiter, RedisLimiter};
use crate::adapters::mail::LogMailer;
use crate::adapters::redis::RedisClient;
use crate::domain::access::{RequestMeta, TierPolicy};
use crate::domain::account::Tier;
use crate::domain::admin::AdminService;
use crate::domain::api_keys::ApiKeyService;
use crate::domain::auth::{AuthService, AuthSettings, NewUser};
use crate::domain::circuits::CircuitService;
use crate::domain::events::EventService;
use crate::domain::guard::Guard;
use crate::domain::items::ItemService;
use crate::domain::push::PushService;
use crate::ports::{Cache, Clock, Mailer, RateLimiter, Store};

/// How often buffered API key usage is written.
const USAGE_FLUSH_EVERY: Duration = Duration::from_secs(5);

/// Adapters a caller may replace.
#[derive(Default)]
pub struct Extras {
    pub mailer: Option<Arc<dyn Mailer>>,
}

/// Everything the HTTP layer and the command line use.
pub struct Services {
    pub store: Arc<dyn Store>,
    pub redis_cache: Option<Arc<dyn Cache>>,
    pub guard: Arc<Guard>,
    pub auth: Arc<AuthService>,
    pub api_keys: Arc<ApiKeyService>,
    pub admin: Arc<AdminService>,
    pub items: Arc<ItemService>,
    pub events: Arc<EventService>,
    pub circuits: Arc<CircuitService>,
    pub push: Arc<PushService>,
}

impl Services {
    pub async fn build(config: &Config, database: Arc<Database>, extras: Extras) -> anyhow::Result<Self> {
        let store: Arc<dyn Store> = Arc::new(SqlStore::new(database));
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);

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
        let limiter: Arc<dyn RateLimiter> = match &redis {
            Some(client) => Arc::new(RedisLimiter::new(client.clone())),
            None => Arc::new(MemoryLimiter::new()),
        };

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
        let mailer: Arc<dyn Mailer> = match extras.mailer {
            Some(mailer) => mailer,
            None => {
                if config.smtp_url.is_some() {
                    tracing::warn!("SMTP_URL is set but this build has no SMTP adapter; using the log mailer");
                }
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
        let guard = Arc::new(Guard {
            store: store.clone(),
            cache: cache.clone(),
            tokens: tokens.clone(),
            limiter: limiter.clone(),
            clock: clock.clone(),
            policy,
            public_per_minute: nonzero(config.rate_public_per_minute),
            usage: Mutex::new(HashMap::new()),
        });
        let auth = Arc::new(AuthService {
            store: store.clone(),
            hasher,
            tokens,
            cache: cache.clone(),
            limiter: limiter.clone(),
            mailer,
            clock: clock.clone(),
            settings: AuthSettings {
                jwt_ttl: chrono::Duration::from_std(config.jwt_ttl)?,
                session_max: chrono::Duration::from_std(config.session_max)?,
                login_max_failures: config.login_max_failures,
                lockout: chrono::Duration::minutes(15),
                reset_ttl: chrono::Duration::minutes(30),
            },
        });
        let limiter_for_pages = limiter.clone();
        let api_keys = Arc::new(ApiKeyService {
            store: store.clone(),
            cache,
            limiter,
            clock: clock.clone(),
            guard: guard.clone(),
        });
        let admin = Arc::new(AdminService {
            store: store.clone(),
            clock: clock.clone(),
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
            policy,
        });
        let events = Arc::new(EventService {
            store: store.clone(),
            clock: clock.clone(),
        });
        let circuits = Arc::new(CircuitService {
            store: store.clone(),
            clock: clock.clone(),
            policy,
            access_hasher,
            limiter: limiter_for_pages,
            available_adapters: vec!["none".to_owned(), "local".to_owned()],
        });
        let push = Arc::new(PushService {
            store: store.clone(),
            clock,
        });
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
            push,
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
                    password: admin.password.clone(),
                    is_admin: true,
                    tier: Tier::Admin,
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
        let (stop, mut stopped) = watch::channel(false);
        let guard = self.guard.clone();
        let usage = tokio::spawn(async move {
            let mut tick = tokio::time::interval(USAGE_FLUSH_EVERY);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopped.changed() => break,
                }
                if let Err(err) = guard.flush_usage().await {
                    tracing::warn!(error = %err, "could not write API key usage; will retry");
                }
            }
            if let Err(err) = guard.flush_usage().await {
                tracing::warn!(error = %err, "could not write API key usage at shutdown");
            }
        });
        Workers {
            stop,
            tasks: vec![usage],
        }
    }
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
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}
