//! API keys: created and managed by their owner with a user session; used by programs.

use std::sync::Arc;

use ipnet::IpNet;
use serde_json::json;

use crate::domain::audit::AuditEntry;
use crate::domain::changes::{Change, UnitOfWork};
use crate::domain::identity::access::{ApiKey, KeyPermissions, Principal, RequestMeta};
use crate::domain::identity::guard::{Guard, api_key_cache_key, key_rate_key};
use crate::domain::identity::ports::ApiKeyRepo;
use crate::domain::page::{Page, PageRequest};
use crate::domain::secrets::{random_base62, sha256_hex};
use crate::domain::{Error, Result, Timestamp};
use crate::ports::{Cache, Clock, IdGenerator, RateLimiter};

combined_port!(
    /// What API key management needs from storage.
    pub trait ApiKeyStore: UnitOfWork, ApiKeyRepo
);

pub struct ApiKeyService {
    pub(crate) store: Arc<dyn ApiKeyStore>,
    pub(crate) cache: Arc<dyn Cache>,
    pub(crate) limiter: Arc<dyn RateLimiter>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: Arc<dyn IdGenerator>,
    pub(crate) guard: Arc<Guard>,
}

#[derive(Debug, Clone, Default)]
pub struct NewApiKey {
    pub name: String,
    pub permissions: KeyPermissions,
    pub expires_at: Option<Timestamp>,
    pub allowed_ips: Vec<String>,
    pub allowed_endpoints: Vec<String>,
    pub rate_limit_per_hour: Option<u64>,
    pub organization_type: Option<String>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ApiKeyPatch {
    pub name: Option<String>,
    pub is_active: Option<bool>,
    pub notes: Option<String>,
    pub allowed_ips: Option<Vec<String>>,
    pub rate_limit_per_hour: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeyUsageReport {
    pub usage_count: i64,
    pub last_used_at: Option<Timestamp>,
    pub requests_last_hour: u64,
}

fn validate_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::field("name", "1 to 100 characters"));
    }
    Ok(name.to_owned())
}

fn parse_ips(ips: &[String]) -> Result<Vec<IpNet>> {
    if ips.len() > 100 {
        return Err(Error::field("allowed_ips", "at most 100 entries"));
    }
    ips.iter()
        .map(|text| {
            let text = text.trim();
            text.parse::<IpNet>()
                .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| Error::field("allowed_ips", format!("{text:?} is not an IP address or CIDR range")))
        })
        .collect()
}

fn validate_endpoints(endpoints: &[String]) -> Result<Vec<String>> {
    if endpoints.len() > 100 {
        return Err(Error::field("allowed_endpoints", "at most 100 entries"));
    }
    endpoints
        .iter()
        .map(|prefix| {
            if !prefix.starts_with('/') || prefix.len() > 200 || prefix.chars().any(char::is_whitespace) {
                return Err(Error::field(
                    "allowed_endpoints",
                    format!("{prefix:?} must be a path starting with /"),
                ));
            }
            Ok(prefix.clone())
        })
        .collect()
}

fn validate_rate(rate: Option<u64>) -> Result<Option<u64>> {
    match rate {
        Some(rate) if !(1..=10_000_000).contains(&rate) => {
            Err(Error::field("rate_limit_per_hour", "between 1 and 10000000"))
        }
        other => Ok(other),
    }
}

fn validate_text(field: &str, value: Option<String>, max: usize) -> Result<Option<String>> {
    match value {
        Some(text) if text.chars().count() > max => Err(Error::field(field, format!("at most {max} characters"))),
        other => Ok(other),
    }
}

impl ApiKeyService {
    /// Creates a key and returns it with the full key text, which is never shown again.
    pub async fn create(&self, owner: &Principal, input: NewApiKey, meta: &RequestMeta) -> Result<(ApiKey, String)> {
        let name = validate_name(&input.name)?;
        if input.permissions.admin && !owner.is_admin {
            return Err(Error::forbidden(
                "admin_required",
                "only administrators can create keys with admin permission",
            ));
        }
        if !(input.permissions.read || input.permissions.write || input.permissions.admin) {
            return Err(Error::field("permissions", "grant at least one of read, write, admin"));
        }
        let now = self.clock.now();
        if input.expires_at.is_some_and(|at| at <= now) {
            return Err(Error::field("expires_at", "must be in the future"));
        }
        let secret = random_base62(32);
        let raw_key = format!("dfm_{secret}");
        let key = ApiKey {
            id: self.ids.new_id(),
            user_id: owner.user_id.clone(),
            name,
            key_hash: sha256_hex(raw_key.as_bytes()),
            key_prefix: secret.chars().take(8).collect(),
            permissions: input.permissions,
            is_active: true,
            created_at: now,
            expires_at: input.expires_at,
            last_used_at: None,
            usage_count: 0,
            allowed_ips: parse_ips(&input.allowed_ips)?,
            allowed_endpoints: validate_endpoints(&input.allowed_endpoints)?,
            rate_limit_per_hour: validate_rate(input.rate_limit_per_hour)?,
            organization_type: validate_text("organization_type", input.organization_type, 64)?,
            notes: validate_text("notes", input.notes, 1000)?,
            revoked_at: None,
        };
        self.store
            .commit(vec![
                Change::InsertApiKey(key.clone()),
                Change::Audit(AuditEntry::new(
                    self.ids.new_id(),
                    "api_key_created",
                    Some(&owner.user_id),
                    ("api_key", Some(&key.id)),
                    meta,
                    now,
                    json!({ "name": key.name, "permissions": key.permissions }),
                )),
            ])
            .await?;
        Ok((key, raw_key))
    }

    pub async fn list(&self, owner: &Principal, page: &PageRequest) -> Result<Page<ApiKey>> {
        let page = self.store.api_keys(&owner.user_id, page).await?;
        Ok(page.map(|key| self.with_pending_usage(key)))
    }

    /// The owner's key; anyone else's is 404.
    pub async fn get(&self, owner: &Principal, key_id: &str) -> Result<ApiKey> {
        let key = self
            .store
            .api_key(key_id)
            .await?
            .filter(|key| key.user_id == owner.user_id && key.revoked_at.is_none())
            .ok_or_else(|| Error::not_found("API key"))?;
        Ok(self.with_pending_usage(key))
    }

    pub async fn update(
        &self,
        owner: &Principal,
        key_id: &str,
        patch: ApiKeyPatch,
        meta: &RequestMeta,
    ) -> Result<ApiKey> {
        let mut key = self.get(owner, key_id).await?;
        if let Some(name) = patch.name {
            key.name = validate_name(&name)?;
        }
        if let Some(is_active) = patch.is_active {
            key.is_active = is_active;
        }
        if patch.notes.is_some() {
            key.notes = validate_text("notes", patch.notes, 1000)?;
        }
        if let Some(ips) = patch.allowed_ips {
            key.allowed_ips = parse_ips(&ips)?;
        }
        if patch.rate_limit_per_hour.is_some() {
            key.rate_limit_per_hour = validate_rate(patch.rate_limit_per_hour)?;
        }
        let now = self.clock.now();
        self.store
            .commit(vec![
                Change::UpdateApiKey(key.clone()),
                Change::Audit(AuditEntry::new(
                    self.ids.new_id(),
                    "api_key_updated",
                    Some(&owner.user_id),
                    ("api_key", Some(&key.id)),
                    meta,
                    now,
                    json!({ "is_active": key.is_active }),
                )),
            ])
            .await?;
        self.cache.delete(&api_key_cache_key(&key.key_hash)).await;
        Ok(key)
    }

    /// Revokes the key; it stops working on the next request.
    pub async fn revoke(&self, owner: &Principal, key_id: &str, meta: &RequestMeta) -> Result<()> {
        let key = self.get(owner, key_id).await?;
        let now = self.clock.now();
        self.store
            .commit(vec![
                Change::RevokeApiKey {
                    key_id: key.id.clone(),
                    at: now,
                },
                Change::Audit(AuditEntry::new(
                    self.ids.new_id(),
                    "api_key_revoked",
                    Some(&owner.user_id),
                    ("api_key", Some(&key.id)),
                    meta,
                    now,
                    json!({ "name": key.name }),
                )),
            ])
            .await?;
        if !self.cache.delete(&api_key_cache_key(&key.key_hash)).await {
            tracing::error!(key_id = %key.id, "could not invalidate a revoked API key in the cache");
        }
        Ok(())
    }

    pub async fn usage(&self, owner: &Principal, key_id: &str) -> Result<KeyUsageReport> {
        let key = self.get(owner, key_id).await?;
        let requests_last_hour = self.limiter.peek(&key_rate_key(&key.id)).await.map_or(0, |c| c.count);
        Ok(KeyUsageReport {
            usage_count: key.usage_count,
            last_used_at: key.last_used_at,
            requests_last_hour,
        })
    }

    /// Adds usage this process has counted but not yet written.
    fn with_pending_usage(&self, mut key: ApiKey) -> ApiKey {
        if let Some(pending) = self.guard.pending_usage(&key.id) {
            key.usage_count += pending.count;
            key.last_used_at = key.last_used_at.max(Some(pending.last_used_at));
        }
        key
    }
}
