//! The check every protected request passes: who is calling (session token or API key), whether
//! that is still allowed (live session, active account, key restrictions), and rate limits.
//!
//! Session and account facts are cached for a short time; every change that revokes them
//! deletes the cache entry, so a revocation takes effect on the very next request.

use crate::domain::identity::access::client_group;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tracing::Instrument as _;

use crate::domain::identity::access::{Access, ApiKey, Credential, KeyPermissions, Principal, TierPolicy};
use crate::domain::identity::account::{AccountStatus, Tier};
use crate::domain::identity::ports::{AccountRepo, ApiKeyRepo, KeyUsage, TokenSigner};
use crate::domain::secrets::sha256_hex;
use crate::domain::{Error, ErrorKind, Result, Timestamp};
use crate::ports::{Cache, Clock, RateLimiter};

/// How long a cached session or account fact may be served.
const FACT_TTL: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);
const MINUTE: Duration = Duration::from_secs(60);

pub fn session_cache_key(session_id: &str) -> String {
    format!("session:{session_id}")
}

pub fn account_cache_key(user_id: &str) -> String {
    format!("account:{user_id}")
}

pub fn api_key_cache_key(key_hash: &str) -> String {
    format!("api-key:{key_hash}")
}

/// The key that counts one API key's requests in the current hour.
pub fn key_rate_key(key_id: &str) -> String {
    format!("rate:key:{key_id}")
}

/// What the caller presented.
#[derive(Debug, Clone)]
pub enum Presented {
    Bearer(String),
    ApiKey(String),
}

/// Which callers a route accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKind {
    /// A user session or an API key.
    Any,
    /// A user session only (API keys get 403 `session_required`).
    SessionOnly,
    /// An administrator: a session of an `is_admin` account, or its key with `admin`.
    Admin,
}

combined_port!(
    /// What the guard reads (and the key usage it writes).
    pub trait GuardStore: AccountRepo, ApiKeyRepo
);

/// The request facts the checks need.
#[derive(Debug, Clone)]
pub struct RequestFacts<'a> {
    pub ip: IpAddr,
    pub path: &'a str,
    pub access: Access,
    pub route: RouteKind,
}

/// Numbers for the `RateLimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateStatus {
    pub limit: u64,
    pub remaining: u64,
    pub reset_secs: u64,
}

/// A rate-limit decision: the headers to send, and whether the request may go on.
pub struct RateOutcome {
    pub status: Option<RateStatus>,
    pub verdict: Result<()>,
}

pub struct Guard {
    pub(crate) store: Arc<dyn GuardStore>,
    pub(crate) cache: Arc<dyn Cache>,
    pub(crate) tokens: Arc<dyn TokenSigner>,
    pub(crate) limiter: Arc<dyn RateLimiter>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) policy: TierPolicy,
    /// Requests per minute per client IP on public routes; `None` disables.
    pub(crate) public_per_minute: Option<u64>,
    /// API key usage not yet written to the database.
    pub(crate) usage: Mutex<HashMap<String, KeyUsage>>,
}

#[derive(Serialize, Deserialize)]
struct SessionFact {
    user_id: String,
    epoch: i64,
    expires_at: Timestamp,
    revoked: bool,
}

#[derive(Serialize, Deserialize)]
struct AccountFact {
    username: String,
    tier: String,
    status: String,
    is_admin: bool,
    epoch: i64,
}

impl AccountFact {
    fn tier(&self) -> Result<Tier> {
        self.tier.parse()
    }

    fn status(&self) -> Result<AccountStatus> {
        self.status.parse()
    }
}

#[derive(Serialize, Deserialize)]
struct KeyFact {
    id: String,
    user_id: String,
    permissions: KeyPermissions,
    is_active: bool,
    expires_at: Option<Timestamp>,
    revoked_at: Option<Timestamp>,
    allowed_ips: Vec<String>,
    allowed_endpoints: Vec<String>,
    rate_limit_per_hour: Option<u64>,
}

impl KeyFact {
    fn from_key(key: &ApiKey) -> Self {
        Self {
            id: key.id.clone(),
            user_id: key.user_id.clone(),
            permissions: key.permissions,
            is_active: key.is_active,
            expires_at: key.expires_at,
            revoked_at: key.revoked_at,
            allowed_ips: key.allowed_ips.iter().map(ToString::to_string).collect(),
            allowed_endpoints: key.allowed_endpoints.clone(),
            rate_limit_per_hour: key.rate_limit_per_hour,
        }
    }

    /// Just enough of a key to run its checks.
    fn to_key(&self) -> ApiKey {
        ApiKey {
            id: self.id.clone(),
            user_id: self.user_id.clone(),
            name: String::new(),
            key_hash: String::new(),
            key_prefix: String::new(),
            permissions: self.permissions,
            is_active: self.is_active,
            created_at: Timestamp::default(),
            expires_at: self.expires_at,
            last_used_at: None,
            usage_count: 0,
            allowed_ips: self.allowed_ips.iter().filter_map(|ip| ip.parse().ok()).collect(),
            allowed_endpoints: self.allowed_endpoints.clone(),
            rate_limit_per_hour: self.rate_limit_per_hour,
            organization_type: None,
            notes: None,
            revoked_at: self.revoked_at,
        }
    }
}

fn unauthenticated(message: &str) -> Error {
    Error::unauthenticated("unauthorized", message)
}

impl Guard {
    /// Authenticates the caller and checks that the route accepts them.
    pub async fn authenticate(&self, presented: Presented, facts: &RequestFacts<'_>) -> Result<Principal> {
        match presented {
            Presented::ApiKey(key) => self.authenticate_key(&key, facts).await,
            Presented::Bearer(token) if token.starts_with("dfm_") => self.authenticate_key(&token, facts).await,
            Presented::Bearer(token) => self.authenticate_session(&token, facts).await,
        }
    }

    async fn authenticate_session(&self, token: &str, facts: &RequestFacts<'_>) -> Result<Principal> {
        self.check_session(token, facts)
            .instrument(tracing::debug_span!("session.check"))
            .await
    }

    async fn check_session(&self, token: &str, facts: &RequestFacts<'_>) -> Result<Principal> {
        let claims = self.tokens.verify(token)?;
        let now = self.clock.now();
        // Both facts in one cache round trip; the token names the user.
        let keys = [session_cache_key(&claims.sid), account_cache_key(&claims.sub)];
        let cached = self
            .cache
            .get_many(&keys)
            .instrument(tracing::debug_span!("cache.get"))
            .await;
        let session = match decode::<SessionFact>(cached.first()) {
            Some(fact) => Some(fact),
            None => self.load_session(&claims.sid).await?,
        };
        let live = session
            .as_ref()
            .is_some_and(|s: &SessionFact| !s.revoked && s.expires_at > now && s.user_id == claims.sub);
        let Some(session) = session.filter(|_| live) else {
            return Err(Error::unauthenticated(
                "session_revoked",
                "this session has ended; log in again",
            ));
        };
        let account = match decode::<AccountFact>(cached.get(1)) {
            Some(fact) => fact,
            None => self.load_account(&session.user_id).await?,
        };
        if account.epoch != session.epoch {
            return Err(Error::unauthenticated(
                "session_revoked",
                "this session has ended; log in again",
            ));
        }
        let principal = principal_of(
            &session.user_id,
            &account,
            Credential::Session { session_id: claims.sid },
        )?;
        if facts.route == RouteKind::Admin && !principal.is_admin {
            return Err(Error::forbidden("admin_required", "this route is for administrators"));
        }
        Ok(principal)
    }

    async fn authenticate_key(&self, key: &str, facts: &RequestFacts<'_>) -> Result<Principal> {
        let invalid = || Error::unauthenticated("invalid_api_key", "unknown, inactive, revoked or expired API key");
        if key.len() != 36 || !key.starts_with("dfm_") {
            return Err(invalid());
        }
        let fact = self.key_fact(&sha256_hex(key.as_bytes())).await?.ok_or_else(invalid)?;
        let api_key = fact.to_key();
        let now = self.clock.now();
        api_key.check_usable(now)?;
        let account = self.account_fact(&api_key.user_id).await?;
        let principal = principal_of(
            &api_key.user_id,
            &account,
            Credential::ApiKey {
                key_id: api_key.id.clone(),
                rate_limit_per_hour: api_key.rate_limit_per_hour,
            },
        )?;
        let admin_route = facts.route == RouteKind::Admin;
        api_key.check_request(facts.ip, facts.path, facts.access, admin_route)?;
        if admin_route && !principal.is_admin {
            return Err(Error::forbidden("admin_required", "this route is for administrators"));
        }
        if facts.route == RouteKind::SessionOnly {
            return Err(Error::forbidden(
                "session_required",
                "this route needs a user session, not an API key",
            ));
        }
        self.record_usage(&api_key.id, now);
        Ok(principal)
    }

    /// The session from the database, cached while it is live.
    async fn load_session(&self, session_id: &str) -> Result<Option<SessionFact>> {
        let cache_key = session_cache_key(session_id);
        let Some(session) = self.store.session(session_id).await? else {
            return Ok(None);
        };
        let fact = SessionFact {
            user_id: session.user_id,
            epoch: session.epoch,
            expires_at: session.expires_at,
            revoked: session.revoked_at.is_some(),
        };
        if !fact.revoked {
            self.remember(&cache_key, &fact).await;
        }
        Ok(Some(fact))
    }

    async fn account_fact(&self, user_id: &str) -> Result<AccountFact> {
        match self.cached(&account_cache_key(user_id)).await {
            Some(fact) => Ok(fact),
            None => self.load_account(user_id).await,
        }
    }

    /// The account from the database, cached.
    async fn load_account(&self, user_id: &str) -> Result<AccountFact> {
        let cache_key = account_cache_key(user_id);
        let account = self
            .store
            .account(user_id)
            .await?
            .ok_or_else(|| unauthenticated("the account behind these credentials no longer exists"))?;
        let fact = AccountFact {
            username: account.username,
            tier: account.tier.as_str().to_owned(),
            status: account.status.as_str().to_owned(),
            is_admin: account.is_admin,
            epoch: account.session_epoch,
        };
        self.remember(&cache_key, &fact).await;
        Ok(fact)
    }

    async fn key_fact(&self, key_hash: &str) -> Result<Option<KeyFact>> {
        let cache_key = api_key_cache_key(key_hash);
        if let Some(fact) = self.cached(&cache_key).await {
            return Ok(Some(fact));
        }
        let Some(key) = self.store.api_key_by_hash(key_hash).await? else {
            return Ok(None);
        };
        let fact = KeyFact::from_key(&key);
        self.remember(&cache_key, &fact).await;
        Ok(Some(fact))
    }

    async fn cached<T: for<'de> Deserialize<'de>>(&self, key: &str) -> Option<T> {
        let bytes = self
            .cache
            .get(key)
            .instrument(tracing::debug_span!("cache.get"))
            .await?;
        serde_json::from_slice(&bytes).ok()
    }

    async fn remember<T: Serialize>(&self, key: &str, value: &T) {
        if let Ok(bytes) = serde_json::to_vec(value) {
            self.cache.set(key, &bytes, FACT_TTL).await;
        }
    }

    /// Counts the request against the user's hourly limit (by tier) and, for a key, the key's
    /// own limit. The status reported is the tighter of the two.
    pub async fn limit_principal(&self, principal: &Principal) -> RateOutcome {
        let user_limit = self.policy.requests_per_hour(principal.tier);
        let user = self
            .limiter
            .hit(&format!("rate:user:{}", principal.user_id), HOUR)
            .await;
        let mut outcome = evaluate(user_limit, user);
        if let Credential::ApiKey {
            key_id,
            rate_limit_per_hour,
        } = &principal.credential
        {
            let key = self.limiter.hit(&key_rate_key(key_id), HOUR).await;
            let key_outcome = evaluate(*rate_limit_per_hour, key);
            outcome = tighter(outcome, key_outcome);
        }
        outcome
    }

    /// Counts a request to a public route against the client IP's per-minute limit.
    pub async fn limit_public(&self, ip: IpAddr) -> RateOutcome {
        let Some(limit) = self.public_per_minute else {
            return RateOutcome {
                status: None,
                verdict: Ok(()),
            };
        };
        let counter = self.limiter.hit(&format!("rate:ip:{}", client_group(ip)), MINUTE).await;
        evaluate(Some(limit), counter)
    }

    fn record_usage(&self, key_id: &str, now: Timestamp) {
        let mut usage = self.usage.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = usage.entry(key_id.to_owned()).or_insert_with(|| KeyUsage {
            key_id: key_id.to_owned(),
            count: 0,
            last_used_at: now,
        });
        entry.count += 1;
        entry.last_used_at = entry.last_used_at.max(now);
    }

    /// Usage recorded here and not yet flushed, for one key.
    pub fn pending_usage(&self, key_id: &str) -> Option<KeyUsage> {
        let usage = self.usage.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        usage.get(key_id).cloned()
    }

    /// Writes buffered key usage in one batch (called periodically and at shutdown).
    pub async fn flush_usage(&self) -> Result<()> {
        let batch: Vec<KeyUsage> = {
            let mut usage = self.usage.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            usage.drain().map(|(_, usage)| usage).collect()
        };
        if batch.is_empty() {
            return Ok(());
        }
        if let Err(err) = self.store.add_key_usage(batch.clone()).await {
            // Put it back so the next flush tries again.
            let mut usage = self.usage.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            for item in batch {
                let entry = usage.entry(item.key_id.clone()).or_insert_with(|| KeyUsage {
                    count: 0,
                    ..item.clone()
                });
                entry.count += item.count;
                entry.last_used_at = entry.last_used_at.max(item.last_used_at);
            }
            return Err(err);
        }
        Ok(())
    }
}

/// A cached fact from one slot of a `get_many`.
fn decode<T: for<'de> Deserialize<'de>>(slot: Option<&Option<Vec<u8>>>) -> Option<T> {
    slot.and_then(Option::as_ref)
        .and_then(|bytes| serde_json::from_slice(bytes).ok())
}

fn principal_of(user_id: &str, account: &AccountFact, credential: Credential) -> Result<Principal> {
    let status = account.status()?;
    if let Some(refusal) = status.refusal() {
        return Err(refusal);
    }
    Ok(Principal {
        user_id: user_id.to_owned(),
        username: account.username.clone(),
        tier: account.tier()?,
        status,
        is_admin: account.is_admin,
        credential,
    })
}

fn evaluate(limit: Option<u64>, counter: crate::ports::Counter) -> RateOutcome {
    let Some(limit) = limit else {
        return RateOutcome {
            status: None,
            verdict: Ok(()),
        };
    };
    let reset_secs = counter.resets_in.as_secs().max(1);
    let status = RateStatus {
        limit,
        remaining: limit.saturating_sub(counter.count),
        reset_secs,
    };
    let verdict = if counter.count > limit {
        Err(Error::new(
            ErrorKind::RateLimited,
            "rate_limited",
            "rate limit exceeded; retry later",
        )
        .retry_after(reset_secs))
    } else {
        Ok(())
    };
    RateOutcome {
        status: Some(status),
        verdict,
    }
}

/// Of two outcomes, the refusal if either refuses, and the status with less room left.
fn tighter(a: RateOutcome, b: RateOutcome) -> RateOutcome {
    let status = match (a.status, b.status) {
        (Some(x), Some(y)) => Some(if y.remaining < x.remaining { y } else { x }),
        (x, y) => x.or(y),
    };
    RateOutcome {
        status,
        verdict: a.verdict.and(b.verdict),
    }
}
