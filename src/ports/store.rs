//! Persistence: reads per aggregate, and one `commit` that writes a use case's changes in one
//! transaction.

use crate::domain::Result;
use crate::domain::access::{ApiKey, Session};
use crate::domain::account::{Account, AccountStatus, Tier, Timestamp};
use crate::domain::audit::{AuditEntry, AuditFilter};
use crate::domain::changes::Change;
use crate::domain::page::{Page, PageRequest};

#[async_trait::async_trait]
pub trait UnitOfWork: Send + Sync {
    /// Writes every change or none. Unique-index violations come back as 409 with the code of
    /// the rule they break (`username_taken`...), failed guards with their own error.
    async fn commit(&self, changes: Vec<Change>) -> Result<()>;
}

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

#[async_trait::async_trait]
pub trait AccountStore: Send + Sync {
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
pub trait ApiKeyStore: Send + Sync {
    async fn api_key(&self, key_id: &str) -> Result<Option<ApiKey>>;
    async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>>;
    async fn api_keys(&self, user_id: &str, page: &PageRequest) -> Result<Page<ApiKey>>;
    /// Adds batched usage counts (one statement per key, not per request).
    async fn add_key_usage(&self, usage: Vec<KeyUsage>) -> Result<()>;
}

#[async_trait::async_trait]
pub trait AuditStore: Send + Sync {
    async fn audit(&self, filter: &AuditFilter, page: &PageRequest) -> Result<Page<AuditEntry>>;
}

/// Everything the use cases need from the database.
pub trait Store: UnitOfWork + AccountStore + ApiKeyStore + AuditStore {}

impl<T: UnitOfWork + AccountStore + ApiKeyStore + AuditStore> Store for T {}
