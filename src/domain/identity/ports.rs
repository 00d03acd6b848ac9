//! What identity and access need from the world: accounts, sessions and keys in storage,
//! password hashing, session tokens, and mail.

use crate::domain::identity::access::{ApiKey, Claims, Session};
use crate::domain::identity::account::{Account, AccountStatus, Tier};
use crate::domain::page::{Page, PageRequest};
use crate::domain::{Result, Timestamp};

/// Filters for the admin's user list.
#[derive(Debug, Clone, Default)]
pub struct AccountFilter {
    pub tier: Option<Tier>,
    pub status: Option<AccountStatus>,
    /// Case-insensitive substring of username or email.
    pub query: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResetToken {
    pub token_hash: String,
    pub user_id: String,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

/// Accounts, their sessions and their reset tokens.
#[async_trait::async_trait]
pub trait AccountRepo: Send + Sync {
    async fn account(&self, user_id: &str) -> Result<Option<Account>>;
    /// By username or email, compared case-insensitively (`login` is already lowercased).
    async fn account_by_login(&self, login: &str) -> Result<Option<Account>>;
    async fn accounts(&self, filter: &AccountFilter, page: &PageRequest) -> Result<Page<Account>>;
    async fn session(&self, session_id: &str) -> Result<Option<Session>>;
    async fn reset_token(&self, token_hash: &str) -> Result<Option<ResetToken>>;
}

/// Usage of one API key since the last flush.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyUsage {
    pub key_id: String,
    pub count: i64,
    pub last_used_at: Timestamp,
}

#[async_trait::async_trait]
pub trait ApiKeyRepo: Send + Sync {
    async fn api_key(&self, key_id: &str) -> Result<Option<ApiKey>>;
    async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>>;
    async fn api_keys(&self, user_id: &str, page: &PageRequest) -> Result<Page<ApiKey>>;
    /// The hashes of the account's unrevoked keys, to evict from caches when they all go.
    async fn active_key_hashes(&self, user_id: &str) -> Result<Vec<String>>;
    /// Adds batched usage counts (one statement per key, not per request).
    async fn add_key_usage(&self, usage: Vec<KeyUsage>) -> Result<()>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCheck {
    Mismatch,
    /// `needs_rehash`: the stored hash is a legacy (bcrypt) one to replace with argon2id.
    Match {
        needs_rehash: bool,
    },
}

/// CPU-heavy, so implementations run off the async workers behind a bounded queue and answer
/// 503 (`Unavailable`) when the queue is full for too long.
#[async_trait::async_trait]
pub trait PasswordHasher: Send + Sync {
    async fn hash(&self, password: String) -> Result<String>;
    async fn verify(&self, password: String, hash: String) -> Result<PasswordCheck>;
    /// One verification against a fixed hash, so an unknown username costs what a known one does.
    async fn verify_dummy(&self, password: String) -> Result<()>;
    /// `verify` for a client with recent failed logins: such checks together hold at most half
    /// of the hashing slots, so a flood of wrong passwords leaves the other half to everyone
    /// else.
    async fn verify_suspect(&self, password: String, hash: String) -> Result<PasswordCheck> {
        self.verify(password, hash).await
    }
    /// `verify_dummy` in the suspects' half.
    async fn verify_dummy_suspect(&self, password: String) -> Result<()> {
        self.verify_dummy(password).await
    }
}

pub trait TokenSigner: Send + Sync {
    fn sign(&self, claims: &Claims) -> Result<String>;
    /// Checks signature and expiry; 401 `invalid_token` otherwise.
    fn verify(&self, token: &str) -> Result<Claims>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailMessage {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Outgoing email.
#[async_trait::async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, message: MailMessage) -> Result<()>;
}
