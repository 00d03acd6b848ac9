//! `/api/api-keys`: keys for programs, managed with a user session.

use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::caller::SessionCaller;
use super::error::ApiResult;
use super::types::{UtcTime, list_of, page};
use super::{ApiTags, State};
use crate::domain::identity::access::{ApiKey, KeyPermissions};
use crate::domain::identity::api_keys::{ApiKeyPatch, KeyUsageReport, NewApiKey};

pub struct ApiKeysApi;

/// What a key may do: `read` allows GET/HEAD, `write` (which implies `read`) the other methods,
/// `admin` the `/api/admin` routes (administrators only).
#[derive(Object, Clone, Copy)]
struct Permissions {
    #[oai(default)]
    read: bool,
    #[oai(default)]
    write: bool,
    #[oai(default)]
    admin: bool,
}

impl From<Permissions> for KeyPermissions {
    fn from(p: Permissions) -> Self {
        Self {
            read: p.read,
            write: p.write,
            admin: p.admin,
        }
    }
}

impl From<KeyPermissions> for Permissions {
    fn from(p: KeyPermissions) -> Self {
        Self {
            read: p.read,
            write: p.write,
            admin: p.admin,
        }
    }
}

#[derive(Object)]
struct CreateApiKeyRequest {
    name: String,
    permissions: Permissions,
    #[oai(nullable)]
    expires_at: Option<UtcTime>,
    /// IP addresses or CIDR ranges the key may be used from; empty = anywhere.
    #[oai(nullable)]
    allowed_ips: Option<Vec<String>>,
    /// Path prefixes the key may call (whole segments: `/api/items` allows `/api/items/x`).
    #[oai(nullable)]
    allowed_endpoints: Option<Vec<String>>,
    #[oai(nullable)]
    rate_limit_per_hour: Option<u64>,
    #[oai(nullable)]
    organization_type: Option<String>,
    #[oai(nullable)]
    notes: Option<String>,
}

#[derive(Object)]
struct UpdateApiKeyRequest {
    #[oai(nullable)]
    name: Option<String>,
    #[oai(nullable)]
    is_active: Option<bool>,
    #[oai(nullable)]
    notes: Option<String>,
    #[oai(nullable)]
    allowed_ips: Option<Vec<String>>,
    #[oai(nullable)]
    rate_limit_per_hour: Option<u64>,
}

/// An API key, without the key itself.
#[derive(Object)]
pub struct ApiKeyView {
    id: String,
    name: String,
    /// The first 8 characters after `dfm_`.
    key_prefix: String,
    permissions: Permissions,
    is_active: bool,
    created_at: UtcTime,
    #[oai(nullable)]
    expires_at: Option<UtcTime>,
    #[oai(nullable)]
    last_used_at: Option<UtcTime>,
    usage_count: i64,
    allowed_ips: Vec<String>,
    allowed_endpoints: Vec<String>,
    #[oai(nullable)]
    rate_limit_per_hour: Option<u64>,
    #[oai(nullable)]
    organization_type: Option<String>,
    #[oai(nullable)]
    notes: Option<String>,
}

impl From<ApiKey> for ApiKeyView {
    fn from(key: ApiKey) -> Self {
        Self {
            id: key.id,
            name: key.name,
            key_prefix: key.key_prefix,
            permissions: key.permissions.into(),
            is_active: key.is_active,
            created_at: key.created_at.into(),
            expires_at: key.expires_at.map(UtcTime),
            last_used_at: key.last_used_at.map(UtcTime),
            usage_count: key.usage_count,
            allowed_ips: key.allowed_ips.iter().map(ToString::to_string).collect(),
            allowed_endpoints: key.allowed_endpoints,
            rate_limit_per_hour: key.rate_limit_per_hour,
            organization_type: key.organization_type,
            notes: key.notes,
        }
    }
}

/// A new key: the key object plus `key`, shown this once.
#[derive(Object)]
struct CreatedApiKey {
    #[oai(flatten)]
    api_key: ApiKeyView,
    /// `dfm_` + 32 base62 characters. Store it now: it is never shown again.
    key: String,
}

#[derive(Object)]
struct ApiKeyUsage {
    usage_count: i64,
    #[oai(nullable)]
    last_used_at: Option<UtcTime>,
    requests_last_hour: u64,
}

impl From<KeyUsageReport> for ApiKeyUsage {
    fn from(report: KeyUsageReport) -> Self {
        Self {
            usage_count: report.usage_count,
            last_used_at: report.last_used_at.map(UtcTime),
            requests_last_hour: report.requests_last_hour,
        }
    }
}

list_of!(
    /// A page of API keys, newest first.
    ApiKeyList,
    ApiKeyView
);

#[derive(ApiResponse)]
enum CreateResponse {
    /// Created; `key` is shown this once.
    #[oai(status = 201)]
    Created(Json<CreatedApiKey>),
}

#[derive(ApiResponse)]
enum Revoked {
    /// Revoked; the key stops working at once.
    #[oai(status = 204)]
    Done,
}

#[OpenApi(tag = "ApiTags::ApiKeys")]
impl ApiKeysApi {
    /// Create an API key. Only administrators can grant `admin`.
    #[oai(path = "/api/api-keys", method = "post", operation_id = "create_api_key")]
    async fn create(
        &self,
        state: State<'_>,
        caller: SessionCaller,
        body: Json<CreateApiKeyRequest>,
    ) -> ApiResult<CreateResponse> {
        let body = body.0;
        let input = NewApiKey {
            name: body.name,
            permissions: body.permissions.into(),
            expires_at: body.expires_at.map(|time| time.0),
            allowed_ips: body.allowed_ips.unwrap_or_default(),
            allowed_endpoints: body.allowed_endpoints.unwrap_or_default(),
            rate_limit_per_hour: body.rate_limit_per_hour,
            organization_type: body.organization_type,
            notes: body.notes,
        };
        let (key, raw) = state.api_keys.create(&caller.principal, input, &caller.meta).await?;
        Ok(CreateResponse::Created(Json(CreatedApiKey {
            api_key: key.into(),
            key: raw,
        })))
    }

    /// The caller's keys (never the key or its hash).
    #[oai(path = "/api/api-keys", method = "get", operation_id = "list_api_keys")]
    async fn list(
        &self,
        state: State<'_>,
        caller: SessionCaller,
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<ApiKeyList>> {
        let page = page(limit.0, cursor.0)?;
        Ok(Json(state.api_keys.list(&caller.principal, &page).await?.into()))
    }

    /// One of the caller's keys.
    #[oai(path = "/api/api-keys/:id", method = "get", operation_id = "get_api_key")]
    async fn get(&self, state: State<'_>, caller: SessionCaller, id: Path<String>) -> ApiResult<Json<ApiKeyView>> {
        Ok(Json(state.api_keys.get(&caller.principal, &id.0).await?.into()))
    }

    /// Rename, enable or disable, or change a key's notes, IPs or rate limit.
    #[oai(path = "/api/api-keys/:id", method = "patch", operation_id = "update_api_key")]
    async fn update(
        &self,
        state: State<'_>,
        caller: SessionCaller,
        id: Path<String>,
        body: Json<UpdateApiKeyRequest>,
    ) -> ApiResult<Json<ApiKeyView>> {
        let body = body.0;
        let patch = ApiKeyPatch {
            name: body.name,
            is_active: body.is_active,
            notes: body.notes,
            allowed_ips: body.allowed_ips,
            rate_limit_per_hour: body.rate_limit_per_hour,
        };
        Ok(Json(
            state
                .api_keys
                .update(&caller.principal, &id.0, patch, &caller.meta)
                .await?
                .into(),
        ))
    }

    /// Revoke a key; it stops working at once.
    #[oai(path = "/api/api-keys/:id", method = "delete", operation_id = "revoke_api_key")]
    async fn revoke(&self, state: State<'_>, caller: SessionCaller, id: Path<String>) -> ApiResult<Revoked> {
        state.api_keys.revoke(&caller.principal, &id.0, &caller.meta).await?;
        Ok(Revoked::Done)
    }

    /// How much a key has been used.
    #[oai(path = "/api/api-keys/:id/usage", method = "get", operation_id = "api_key_usage")]
    async fn usage(&self, state: State<'_>, caller: SessionCaller, id: Path<String>) -> ApiResult<Json<ApiKeyUsage>> {
        Ok(Json(state.api_keys.usage(&caller.principal, &id.0).await?.into()))
    }
}
