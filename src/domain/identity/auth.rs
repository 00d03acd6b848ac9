//! Accounts and sessions: register, login, refresh, logout, password changes, and the
//! administrator bootstrap (resets are in `password_reset`).

use std::sync::Arc;

use chrono::Duration;
use serde_json::json;

use crate::domain::Timestamp;
use crate::domain::audit::AuditEntry;
use crate::domain::changes::{Change, UnitOfWork};
use crate::domain::identity::access::{Claims, Principal, RequestMeta, Session, client_group};
use crate::domain::identity::account::{
    Account, AccountStatus, Tier, check_password_policy, new_user_id, validate_email, validate_username,
};
use crate::domain::identity::guard::{account_cache_key, api_key_cache_key, session_cache_key};
use crate::domain::identity::lockout::Lockout;
use crate::domain::identity::password_reset::ResetPurpose;
use crate::domain::identity::ports::{AccountRepo, ApiKeyRepo, PasswordCheck, PasswordHasher, TokenSigner};
use crate::domain::partners::ports::SecretCipher;
use crate::domain::secrets::random_token;
use crate::domain::{Error, Result};
use crate::ports::{Cache, Clock, IdGenerator, RateLimiter};

combined_port!(
    /// What accounts and sessions need from storage.
    pub trait AuthStore: UnitOfWork, AccountRepo, ApiKeyRepo
);

#[derive(Debug, Clone)]
pub struct AuthSettings {
    pub jwt_ttl: Duration,
    pub session_max: Duration,
    /// Failed logins per (account, IP) before a lock; 0 disables the lock.
    pub login_max_failures: u64,
    pub lockout: Duration,
    pub reset_ttl: Duration,
}

pub struct AuthService {
    pub(crate) store: Arc<dyn AuthStore>,
    pub(crate) hasher: Arc<dyn PasswordHasher>,
    pub(crate) tokens: Arc<dyn TokenSigner>,
    pub(crate) cache: Arc<dyn Cache>,
    pub(crate) limiter: Arc<dyn RateLimiter>,
    /// Seals queued mail (it may hold a reset token).
    pub(crate) cipher: Arc<dyn SecretCipher>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: Arc<dyn IdGenerator>,
    pub(crate) settings: AuthSettings,
}

#[derive(Debug, Clone)]
pub struct Registration {
    pub username: String,
    pub email: String,
    pub password: String,
    pub workspace_name: Option<String>,
}

/// A signed session token and what the client needs to know about it.
#[derive(Debug, Clone, PartialEq)]
pub struct IssuedToken {
    pub token: String,
    pub expires_at: Timestamp,
    pub user_id: String,
    pub workspace_id: String,
}

/// An account created from the command line or the bootstrap variables.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub email: String,
    /// `None`: the account gets no usable password and its owner is mailed a token to choose
    /// one (an administrator never knows it).
    pub password: Option<String>,
    pub is_admin: bool,
    pub tier: Tier,
    pub status: AccountStatus,
}

impl AuthService {
    pub async fn register(&self, input: Registration, meta: &RequestMeta) -> Result<IssuedToken> {
        let username = input.username.trim().to_owned();
        let email = input.email.trim().to_owned();
        validate_username(&username)?;
        validate_email(&email)?;
        check_password_policy(&input.password)?;
        if let Some(name) = &input.workspace_name
            && (name.trim().is_empty() || name.chars().count() > 128)
        {
            return Err(Error::field("workspace_name", "1 to 128 characters"));
        }
        let password_hash = self.hasher.hash(input.password).await?;
        let now = self.clock.now();
        let workspace_name = input
            .workspace_name
            .map(|name| name.trim().to_owned())
            .unwrap_or_else(|| format!("{username}'s workspace"));
        let account = Account {
            id: new_user_id(self.ids.as_ref()),
            username,
            email,
            password_hash,
            tier: Tier::Basic,
            status: AccountStatus::Active,
            is_admin: false,
            workspace_id: self.ids.new_id(),
            session_epoch: 0,
            created_at: now,
            updated_at: now,
            last_login_at: Some(now),
        };
        let session = self.new_session(&account, now, meta);
        let token = self.sign(&session)?;
        let changes = vec![
            Change::InsertWorkspace {
                id: account.workspace_id.clone(),
                name: workspace_name,
                owner_id: account.id.clone(),
                created_at: now,
            },
            Change::InsertAccount(account.clone()),
            Change::InsertSession(session.clone()),
            Change::Audit(AuditEntry::new(
                self.ids.new_id(),
                "account_registered",
                Some(&account.id),
                ("user", Some(&account.id)),
                meta,
                now,
                json!({ "username": account.username }),
            )),
        ];
        self.store.commit(changes).await?;
        Ok(IssuedToken {
            token,
            expires_at: session.expires_at,
            user_id: account.id,
            workspace_id: account.workspace_id,
        })
    }

    /// Logs in by username or email. Wrong username and wrong password look the same, cost the
    /// same one verification, and count toward the (account, IP) lockout.
    pub async fn login(&self, login: &str, password: String, meta: &RequestMeta) -> Result<IssuedToken> {
        let login_key = login.trim().to_lowercase();
        if login_key.is_empty() || login_key.len() > 254 || password.is_empty() || password.len() > 1024 {
            return Err(invalid_credentials());
        }
        let account = self.store.account_by_login(&login_key).await?;
        let subject = account
            .as_ref()
            .map_or_else(|| format!("name:{login_key}"), |a| a.id.clone());
        let client = client_group(meta.ip);
        let lockout = Lockout::new(
            self.limiter.as_ref(),
            "login",
            &format!("{subject}:{client}"),
            self.settings.login_max_failures,
            self.settings.lockout.to_std().unwrap_or_default(),
        );
        if let Some(lock) = lockout.lock().await {
            return Err(Error::new(
                crate::domain::ErrorKind::RateLimited,
                "login_locked",
                "too many failed logins; try again later",
            )
            .retry_after(lock.resets_in.as_secs().max(1)));
        }

        // A client whose logins failed lately hashes in the suspects' half of the slots.
        let suspect = self.limiter.peek(&client_failures_key(&client)).await.is_some();
        let check = match (&account, suspect) {
            (Some(account), false) => {
                self.hasher
                    .verify(password.clone(), account.password_hash.clone())
                    .await?
            }
            (Some(account), true) => {
                self.hasher
                    .verify_suspect(password.clone(), account.password_hash.clone())
                    .await?
            }
            (None, false) => {
                self.hasher.verify_dummy(password.clone()).await?;
                PasswordCheck::Mismatch
            }
            (None, true) => {
                self.hasher.verify_dummy_suspect(password.clone()).await?;
                PasswordCheck::Mismatch
            }
        };
        let now = self.clock.now();
        let (account, needs_rehash) = match (account, check) {
            (Some(account), PasswordCheck::Match { needs_rehash }) => (account, needs_rehash),
            (account, _) => {
                self.record_failed_login(account.as_ref(), &login_key, &lockout, meta, now)
                    .await;
                return Err(invalid_credentials());
            }
        };
        if let Some(refusal) = account.status.refusal() {
            return Err(refusal);
        }
        lockout.forget_failures().await;
        let new_password_hash = if needs_rehash {
            Some(self.hasher.hash(password).await?)
        } else {
            None
        };
        let session = self.new_session(&account, now, meta);
        let token = self.sign(&session)?;
        let changes = vec![
            Change::RecordLogin {
                user_id: account.id.clone(),
                at: now,
                new_password_hash: new_password_hash.clone(),
            },
            Change::InsertSession(session.clone()),
            Change::Audit(AuditEntry::new(
                self.ids.new_id(),
                "login_succeeded",
                Some(&account.id),
                ("session", Some(&session.id)),
                meta,
                now,
                json!({ "password_rehashed": new_password_hash.is_some() }),
            )),
        ];
        self.store.commit(changes).await?;
        Ok(IssuedToken {
            token,
            expires_at: session.expires_at,
            user_id: account.id,
            workspace_id: account.workspace_id,
        })
    }

    async fn record_failed_login(
        &self,
        account: Option<&Account>,
        login_key: &str,
        lockout: &Lockout<'_>,
        meta: &RequestMeta,
        now: Timestamp,
    ) {
        lockout.record_failure().await;
        let window = self.settings.lockout.to_std().unwrap_or_default();
        self.limiter
            .hit(&client_failures_key(&client_group(meta.ip)), window)
            .await;
        let entry = AuditEntry::new(
            self.ids.new_id(),
            "login_failed",
            account.map(|a| a.id.as_str()),
            ("user", account.map(|a| a.id.as_str())),
            meta,
            now,
            json!({ "login": login_key }),
        );
        // The failure itself is the answer; a lost audit row must not turn it into a 5xx.
        if let Err(err) = self.store.commit(vec![Change::Audit(entry)]).await {
            tracing::warn!(error = %err, "could not audit a failed login");
        }
    }

    /// A new token for the same session, with a new expiry capped at the session's maximum.
    pub async fn refresh(&self, principal: &Principal, meta: &RequestMeta) -> Result<IssuedToken> {
        let session_id = session_of(principal)?;
        let mut session = self.store.session(session_id).await?.ok_or_else(revoked)?;
        let account = self.store.account(&principal.user_id).await?.ok_or_else(revoked)?;
        let now = self.clock.now();
        session.expires_at = (now + self.settings.jwt_ttl).min(session.max_expires_at);
        if session.expires_at <= now {
            return Err(Error::unauthenticated(
                "session_expired",
                "this session has reached its maximum age; log in again",
            ));
        }
        let token = self.sign(&session)?;
        self.store
            .commit(vec![
                Change::ExtendSession {
                    session_id: session.id.clone(),
                    expires_at: session.expires_at,
                },
                Change::Audit(AuditEntry::new(
                    self.ids.new_id(),
                    "session_refreshed",
                    Some(&account.id),
                    ("session", Some(&session.id)),
                    meta,
                    now,
                    json!({}),
                )),
            ])
            .await?;
        self.cache.delete(&session_cache_key(&session.id)).await;
        Ok(IssuedToken {
            token,
            expires_at: session.expires_at,
            user_id: account.id,
            workspace_id: account.workspace_id,
        })
    }

    pub async fn logout(&self, principal: &Principal, meta: &RequestMeta) -> Result<()> {
        let session_id = session_of(principal)?.to_owned();
        let now = self.clock.now();
        self.store
            .commit(vec![
                Change::RevokeSession {
                    session_id: session_id.clone(),
                    at: now,
                },
                Change::Audit(AuditEntry::new(
                    self.ids.new_id(),
                    "logout",
                    Some(&principal.user_id),
                    ("session", Some(&session_id)),
                    meta,
                    now,
                    json!({}),
                )),
            ])
            .await?;
        self.forget_session(&session_id).await;
        Ok(())
    }

    /// Ends every session, and with `revoke_api_keys` every API key too.
    pub async fn logout_all(&self, principal: &Principal, revoke_api_keys: bool, meta: &RequestMeta) -> Result<()> {
        let account = self.store.account(&principal.user_id).await?.ok_or_else(revoked)?;
        let now = self.clock.now();
        self.revoke_access(&account, None, revoke_api_keys, Vec::new(), "logout_all", meta, now)
            .await
    }

    pub async fn profile(&self, principal: &Principal) -> Result<Account> {
        self.store.account(&principal.user_id).await?.ok_or_else(revoked)
    }

    /// Changes the password after checking the current one; every other session is revoked,
    /// and with `revoke_api_keys` every API key.
    pub async fn change_password(
        &self,
        principal: &Principal,
        current: String,
        new: String,
        revoke_api_keys: bool,
        meta: &RequestMeta,
    ) -> Result<()> {
        let session_id = session_of(principal)?.to_owned();
        check_password_policy(&new)?;
        let account = self.store.account(&principal.user_id).await?.ok_or_else(revoked)?;
        if self.hasher.verify(current, account.password_hash.clone()).await? == PasswordCheck::Mismatch {
            return Err(
                Error::invalid("invalid_current_password", "the current password is wrong")
                    .with_details(json!({ "field": "current_password" })),
            );
        }
        let password_hash = self.hasher.hash(new).await?;
        let now = self.clock.now();
        let new_hash = Change::SetPasswordHash {
            user_id: account.id.clone(),
            password_hash,
            at: now,
        };
        let keep = Some(session_id.clone());
        self.revoke_access(
            &account,
            keep,
            revoke_api_keys,
            vec![new_hash],
            "password_changed",
            meta,
            now,
        )
        .await?;
        // The kept session moved to the new epoch; its cached fact still has the old one.
        self.forget_session(&session_id).await;
        Ok(())
    }

    /// Creates an account for the command line, the bootstrap variables or an administrator
    /// (`actor`); 409 if the username or email is taken.
    pub async fn create_user(&self, user: NewUser, actor: Option<&str>, meta: &RequestMeta) -> Result<Account> {
        let username = user.username.trim().to_owned();
        let email = user.email.trim().to_owned();
        validate_username(&username)?;
        validate_email(&email)?;
        if let Some(password) = &user.password {
            check_password_policy(password)?;
        }
        let invited = user.password.is_none();
        // An invited account's password is random and never shown: nobody can log in with it
        // until its owner chooses one, and its hash costs a login what any other does.
        let password = user.password.unwrap_or_else(|| random_token(32));
        let password_hash = self.hasher.hash(password).await?;
        let now = self.clock.now();
        let account = Account {
            id: new_user_id(self.ids.as_ref()),
            username,
            email,
            password_hash,
            tier: user.tier,
            status: user.status,
            is_admin: user.is_admin,
            workspace_id: self.ids.new_id(),
            session_epoch: 0,
            created_at: now,
            updated_at: now,
            last_login_at: None,
        };
        self.store
            .commit(vec![
                Change::InsertWorkspace {
                    id: account.workspace_id.clone(),
                    name: format!("{}'s workspace", account.username),
                    owner_id: account.id.clone(),
                    created_at: now,
                },
                Change::InsertAccount(account.clone()),
                Change::Audit(AuditEntry::new(
                    self.ids.new_id(),
                    "account_created",
                    actor,
                    ("user", Some(&account.id)),
                    meta,
                    now,
                    json!({
                        "username": account.username,
                        "is_admin": account.is_admin,
                        "tier": account.tier.as_str(),
                        "status": account.status.as_str(),
                    }),
                )),
            ])
            .await?;
        // The account exists either way; an administrator can send the token again.
        if invited
            && let Err(err) = self
                .mail_reset_token(&account, ResetPurpose::NewAccount, actor, meta)
                .await
        {
            tracing::warn!(error = %err, user_id = %account.id, "could not send a new account its password token");
        }
        Ok(account)
    }

    /// Creates the bootstrap administrator unless an account with that username exists.
    /// Returns whether it was created.
    pub async fn ensure_admin(&self, user: NewUser, meta: &RequestMeta) -> Result<bool> {
        if self
            .store
            .account_by_login(&user.username.to_lowercase())
            .await?
            .is_some()
        {
            return Ok(false);
        }
        match self.create_user(user, None, meta).await {
            Ok(_) => Ok(true),
            // Another replica created it first.
            Err(err) if err.is("username_taken") => Ok(false),
            Err(err) => Err(err),
        }
    }

    fn new_session(&self, account: &Account, now: Timestamp, meta: &RequestMeta) -> Session {
        let max_expires_at = now + self.settings.session_max;
        Session {
            id: self.ids.new_id(),
            user_id: account.id.clone(),
            epoch: account.session_epoch,
            created_at: now,
            expires_at: (now + self.settings.jwt_ttl).min(max_expires_at),
            max_expires_at,
            revoked_at: None,
            ip: Some(meta.ip.to_string()),
            user_agent: meta.user_agent.clone(),
        }
    }

    fn sign(&self, session: &Session) -> Result<String> {
        let _span = tracing::debug_span!("jwt.sign").entered();
        self.tokens.sign(&Claims {
            sub: session.user_id.clone(),
            sid: session.id.clone(),
            iat: session.created_at.timestamp(),
            exp: session.expires_at.timestamp(),
        })
    }

    pub(super) fn revoke_sessions(&self, account: &Account, keep: Option<String>, now: Timestamp) -> Change {
        Change::RevokeSessions {
            user_id: account.id.clone(),
            keep,
            new_epoch: account.session_epoch + 1,
            at: now,
        }
    }

    /// The hashes of the keys to revoke with the account's sessions (none unless `revoke`).
    /// Commits `changes` with the account's sessions revoked (all but `keep`), its API keys too
    /// when `revoke_api_keys`, and an audit entry `action` counting the keys; then drops what the
    /// caches held of them.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn revoke_access(
        &self,
        account: &Account,
        keep: Option<String>,
        revoke_api_keys: bool,
        mut changes: Vec<Change>,
        action: &'static str,
        meta: &RequestMeta,
        now: Timestamp,
    ) -> Result<()> {
        let keys = self.keys_to_revoke(account, revoke_api_keys).await?;
        changes.push(self.revoke_sessions(account, keep, now));
        changes.push(Change::Audit(AuditEntry::new(
            self.ids.new_id(),
            action,
            Some(&account.id),
            ("user", Some(&account.id)),
            meta,
            now,
            json!({ "api_keys_revoked": keys.len() }),
        )));
        changes.extend(revoke_keys(account, &keys, now));
        self.store.commit(changes).await?;
        self.forget_account(&account.id).await;
        self.forget_keys(&keys).await;
        Ok(())
    }

    pub(super) async fn keys_to_revoke(&self, account: &Account, revoke: bool) -> Result<Vec<String>> {
        if revoke {
            self.store.active_key_hashes(&account.id).await
        } else {
            Ok(Vec::new())
        }
    }

    pub(super) async fn forget_keys(&self, key_hashes: &[String]) {
        for key_hash in key_hashes {
            if !self.cache.delete(&api_key_cache_key(key_hash)).await {
                tracing::error!("could not invalidate a revoked API key in the cache");
            }
        }
    }

    async fn forget_session(&self, session_id: &str) {
        if !self.cache.delete(&session_cache_key(session_id)).await {
            tracing::error!(session_id, "could not invalidate a revoked session in the cache");
        }
    }

    pub(crate) async fn forget_account(&self, user_id: &str) {
        if !self.cache.delete(&account_cache_key(user_id)).await {
            tracing::error!(user_id, "could not invalidate an account in the cache");
        }
    }
}

/// Revokes every key of the account when there are any (a key made meanwhile goes too: the
/// statement names the account, not the keys read).
pub(super) fn revoke_keys(account: &Account, key_hashes: &[String], now: Timestamp) -> Option<Change> {
    (!key_hashes.is_empty()).then(|| Change::RevokeApiKeysOf {
        user_id: account.id.clone(),
        at: now,
    })
}

/// Failed logins from one client (an IPv4 address or an IPv6 /64), whatever the account.
fn client_failures_key(client: &str) -> String {
    format!("login-client-failures:{client}")
}

fn invalid_credentials() -> Error {
    Error::unauthenticated("invalid_credentials", "invalid username or password")
}

fn revoked() -> Error {
    Error::unauthenticated("session_revoked", "this session is no longer valid")
}

fn session_of(principal: &Principal) -> Result<&str> {
    principal
        .session_id()
        .ok_or_else(|| Error::forbidden("session_required", "this route needs a user session, not an API key"))
}
