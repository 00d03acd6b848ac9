//! `/api/circuits/{id}/post-actions`: webhook settings, webhooks, test deliveries, deliveries.

use crate::domain::circuits::circuit::CircuitId;
use crate::domain::partners::webhook::redacted_url;
use std::collections::BTreeMap;

use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};

use super::caller::Caller;
use super::error::ApiResult;
use super::types::{UtcTime, list_of, mirror, page};
use super::{ApiTags, State};
use crate::domain::epcis::subscription::EpcisSubscription;
use crate::domain::partners::ports::DeliveryFilter;
use crate::domain::partners::trigger::TriggerKind;
use crate::domain::partners::webhook::{AuthType, Delivery, DeliveryStatus, PostActionSettings, RetryConfig, Webhook};
use crate::domain::partners::webhook_service::WebhookInput;

pub struct WebhooksApi;

/// What a webhook can be told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum TriggerName {
    ItemPushed,
    ItemTokenized,
    ItemApproved,
    ItemPublished,
    EventCreated,
    EpcisEvent,
}

impl From<TriggerName> for TriggerKind {
    fn from(t: TriggerName) -> Self {
        match t {
            TriggerName::ItemPushed => TriggerKind::ItemPushed,
            TriggerName::ItemTokenized => TriggerKind::ItemTokenized,
            TriggerName::ItemApproved => TriggerKind::ItemApproved,
            TriggerName::ItemPublished => TriggerKind::ItemPublished,
            TriggerName::EventCreated => TriggerKind::EventCreated,
            TriggerName::EpcisEvent => TriggerKind::EpcisEvent,
        }
    }
}

impl From<TriggerKind> for TriggerName {
    fn from(t: TriggerKind) -> Self {
        match t {
            TriggerKind::ItemPushed => TriggerName::ItemPushed,
            TriggerKind::ItemTokenized => TriggerName::ItemTokenized,
            TriggerKind::ItemApproved => TriggerName::ItemApproved,
            TriggerKind::ItemPublished => TriggerName::ItemPublished,
            TriggerKind::EventCreated => TriggerName::EventCreated,
            TriggerKind::EpcisEvent => TriggerName::EpcisEvent,
        }
    }
}

mirror!(
    /// How the webhook authenticates to its receiver (with `auth_credentials`).
    AuthTypeName <=> AuthType, "PascalCase" { None, BearerToken, ApiKey, BasicAuth, CustomHeader }
);
mirror!(
    /// `Pending`, `InProgress` (being sent), `Retrying` (waiting for its next attempt),
    /// `Delivered` (2xx), `Failed` (final).
    DeliveryStatusName <=> DeliveryStatus, "PascalCase" { Pending, InProgress, Retrying, Delivered, Failed }
);

/// Which triggers are sent, whether payloads carry storage details, and which EPCIS events
/// `epcis_event` sends.
#[derive(Object)]
struct SettingsBody {
    enabled: bool,
    trigger_events: Vec<TriggerName>,
    #[oai(default)]
    include_storage_details: bool,
    /// EPCIS 2.0 REST query parameters as a query string (`EQ_bizStep=shipping&MATCH_epc=...`,
    /// the parameters of `GET /api/epcis/events` except paging): `epcis_event` sends each
    /// captured or native event of the circuit that matches, as an `EPCISQueryDocument` whose
    /// `subscriptionID` is the webhook's id. Absent or empty: every event.
    #[oai(validator(max_length = 2048), skip_serializing_if_is_none)]
    epcis_query: Option<String>,
}

impl From<PostActionSettings> for SettingsBody {
    fn from(s: PostActionSettings) -> Self {
        Self {
            enabled: s.enabled,
            trigger_events: s.trigger_events.into_iter().map(Into::into).collect(),
            include_storage_details: s.include_storage_details,
            epcis_query: s.epcis_query.map(|query| query.as_str().to_owned()),
        }
    }
}

/// Retries after network errors, timeouts, 408, 429 and 5xx: exponential backoff with jitter.
/// `max_retries: 3` means up to 4 attempts.
#[derive(Object, Clone, Copy)]
struct RetryConfigBody {
    #[oai(default = "default_max_retries")]
    max_retries: u32,
    #[oai(default = "default_initial_delay")]
    initial_delay_ms: u64,
    #[oai(default = "default_max_delay")]
    max_delay_ms: u64,
    #[oai(default = "default_multiplier")]
    backoff_multiplier: f64,
}

fn default_max_retries() -> u32 {
    RetryConfig::default().max_retries
}
fn default_initial_delay() -> u64 {
    RetryConfig::default().initial_delay_ms
}
fn default_max_delay() -> u64 {
    RetryConfig::default().max_delay_ms
}
fn default_multiplier() -> f64 {
    RetryConfig::default().backoff_multiplier
}

impl From<RetryConfigBody> for RetryConfig {
    fn from(r: RetryConfigBody) -> Self {
        Self {
            max_retries: r.max_retries,
            initial_delay_ms: r.initial_delay_ms,
            max_delay_ms: r.max_delay_ms,
            backoff_multiplier: r.backoff_multiplier,
        }
    }
}

impl From<RetryConfig> for RetryConfigBody {
    fn from(r: RetryConfig) -> Self {
        Self {
            max_retries: r.max_retries,
            initial_delay_ms: r.initial_delay_ms,
            max_delay_ms: r.max_delay_ms,
            backoff_multiplier: r.backoff_multiplier,
        }
    }
}

#[derive(Object)]
struct WebhookBody {
    name: String,
    /// http or https, resolving only to publicly routable addresses (checked again at every
    /// delivery).
    url: String,
    /// `POST` (default), `PUT` or `PATCH`.
    #[oai(nullable)]
    method: Option<String>,
    /// Extra headers, their values stored encrypted and never returned. `Host`, `Content-Type`,
    /// `Content-Length`, `Authorization`, `X-DeFarm-*` and hop-by-hop headers (`Connection`,
    /// `Keep-Alive`, `Transfer-Encoding`, `TE`, `Trailer`, `Upgrade`, `Proxy-*`) are refused. On
    /// update, omit to keep the stored ones.
    #[oai(nullable)]
    headers: Option<BTreeMap<String, String>>,
    #[oai(nullable)]
    auth_type: Option<AuthTypeName>,
    /// Token, key, `user:password` or `Header-Name: value`. Stored encrypted; never returned.
    /// On update, omit to keep the stored ones.
    #[oai(nullable)]
    auth_credentials: Option<String>,
    #[oai(default = "enabled_by_default")]
    enabled: bool,
    #[oai(nullable)]
    retry_config: Option<RetryConfigBody>,
}

fn enabled_by_default() -> bool {
    true
}

impl From<WebhookBody> for WebhookInput {
    fn from(b: WebhookBody) -> Self {
        Self {
            name: b.name,
            url: b.url,
            method: b.method,
            headers: b.headers.map(|h| h.into_iter().collect()),
            auth_type: b.auth_type.map_or(AuthType::None, Into::into),
            auth_credentials: b.auth_credentials,
            enabled: b.enabled,
            retry_config: b.retry_config.map(Into::into),
        }
    }
}

/// A webhook (its credentials and signing secret are never returned).
#[derive(Object)]
pub struct WebhookView {
    webhook_id: String,
    circuit_id: String,
    name: String,
    /// Query values are shown as `***`.
    url: String,
    method: String,
    /// The custom headers' names; their values are never returned.
    header_names: Vec<String>,
    auth_type: AuthTypeName,
    has_credentials: bool,
    enabled: bool,
    retry_config: RetryConfigBody,
    created_at: UtcTime,
    updated_at: UtcTime,
}

impl From<Webhook> for WebhookView {
    fn from(w: Webhook) -> Self {
        Self {
            webhook_id: w.webhook_id,
            circuit_id: w.circuit_id,
            name: w.name,
            url: redacted_url(&w.url),
            method: w.method,
            header_names: w.headers.into_iter().map(|(name, _)| name).collect(),
            auth_type: w.auth_type.into(),
            has_credentials: w.auth_credentials.is_some(),
            enabled: w.enabled,
            retry_config: w.retry_config.into(),
            created_at: w.created_at.into(),
            updated_at: w.updated_at.into(),
        }
    }
}

list_of!(
    /// A page of webhooks, newest first.
    WebhookList,
    WebhookView
);

/// A new webhook and its signing secret, shown this once.
#[derive(Object)]
struct CreatedWebhook {
    #[oai(flatten)]
    webhook: WebhookView,
    /// Verify `X-DeFarm-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`
    /// with it. Store it now: it is never shown again.
    signing_secret: String,
}

/// One delivery: the same `delivery_id` (header `X-DeFarm-Delivery`) on every attempt.
#[derive(Object)]
pub struct DeliveryView {
    delivery_id: String,
    webhook_id: String,
    event_type: String,
    status: DeliveryStatusName,
    attempts: u32,
    next_attempt_at: UtcTime,
    #[oai(nullable)]
    last_status_code: Option<u16>,
    #[oai(nullable)]
    last_error: Option<String>,
    created_at: UtcTime,
    updated_at: UtcTime,
    #[oai(nullable)]
    delivered_at: Option<UtcTime>,
    /// The JSON body sent.
    payload: serde_json::Value,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        Self {
            payload: serde_json::from_str(&d.payload).unwrap_or(serde_json::Value::Null),
            delivery_id: d.delivery_id,
            webhook_id: d.webhook_id,
            event_type: d.event_type,
            status: d.status.into(),
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at.into(),
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            created_at: d.created_at.into(),
            updated_at: d.updated_at.into(),
            delivered_at: d.delivered_at.map(UtcTime),
        }
    }
}

list_of!(
    /// A page of deliveries, newest first.
    DeliveryList,
    DeliveryView
);

#[derive(Object)]
struct TestResultView {
    delivery_id: String,
    status: DeliveryStatusName,
    #[oai(nullable)]
    response_code: Option<u16>,
    duration_ms: u64,
}

#[derive(ApiResponse)]
enum WebhookCreated {
    /// Created; `signing_secret` is shown this once.
    #[oai(status = 201)]
    Created(Json<CreatedWebhook>),
}

#[derive(ApiResponse)]
enum Deleted {
    /// Deleted.
    #[oai(status = 204)]
    Done,
}

#[OpenApi(tag = "ApiTags::Webhooks")]
impl WebhooksApi {
    /// Webhook settings of the circuit (ManagePermissions).
    #[oai(
        path = "/api/circuits/:id/post-actions",
        method = "get",
        operation_id = "get_post_actions"
    )]
    async fn settings(&self, state: State<'_>, caller: Caller, id: Path<String>) -> ApiResult<Json<SettingsBody>> {
        Ok(Json(
            state
                .webhooks
                .settings(&caller.principal, &CircuitId::parse(&id.0)?)
                .await?
                .into(),
        ))
    }

    /// Replace the webhook settings (ManagePermissions).
    #[oai(
        path = "/api/circuits/:id/post-actions",
        method = "put",
        operation_id = "set_post_actions"
    )]
    async fn set_settings(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        body: Json<SettingsBody>,
    ) -> ApiResult<Json<SettingsBody>> {
        let body = body.0;
        let settings = PostActionSettings {
            enabled: body.enabled,
            trigger_events: body.trigger_events.into_iter().map(Into::into).collect(),
            include_storage_details: body.include_storage_details,
            epcis_query: body
                .epcis_query
                .as_deref()
                .filter(|text| !text.is_empty())
                .map(EpcisSubscription::parse)
                .transpose()?,
        };
        Ok(Json(
            state
                .webhooks
                .set_settings(&caller.principal, &CircuitId::parse(&id.0)?, settings, &caller.meta)
                .await?
                .into(),
        ))
    }

    /// The circuit's webhooks (ManagePermissions).
    #[oai(
        path = "/api/circuits/:id/post-actions/webhooks",
        method = "get",
        operation_id = "list_webhooks"
    )]
    async fn list(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<WebhookList>> {
        let page = page(limit.0, cursor.0)?;
        Ok(Json(
            state
                .webhooks
                .list(&caller.principal, &CircuitId::parse(&id.0)?, &page)
                .await?
                .into(),
        ))
    }

    /// Create a webhook (ManagePermissions); the signing secret is generated and shown once.
    #[oai(
        path = "/api/circuits/:id/post-actions/webhooks",
        method = "post",
        operation_id = "create_webhook"
    )]
    async fn create(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        body: Json<WebhookBody>,
    ) -> ApiResult<WebhookCreated> {
        let (webhook, secret) = state
            .webhooks
            .create(
                &caller.principal,
                &CircuitId::parse(&id.0)?,
                body.0.into(),
                &caller.meta,
            )
            .await?;
        Ok(WebhookCreated::Created(Json(CreatedWebhook {
            webhook: webhook.into(),
            signing_secret: secret,
        })))
    }

    /// One webhook (ManagePermissions).
    #[oai(
        path = "/api/circuits/:id/post-actions/webhooks/:webhook_id",
        method = "get",
        operation_id = "get_webhook"
    )]
    async fn get(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        webhook_id: Path<String>,
    ) -> ApiResult<Json<WebhookView>> {
        Ok(Json(
            state
                .webhooks
                .get(&caller.principal, &CircuitId::parse(&id.0)?, &webhook_id.0)
                .await?
                .into(),
        ))
    }

    /// Replace a webhook (ManagePermissions); omitted `auth_credentials` are kept.
    #[oai(
        path = "/api/circuits/:id/post-actions/webhooks/:webhook_id",
        method = "put",
        operation_id = "update_webhook"
    )]
    async fn update(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        webhook_id: Path<String>,
        body: Json<WebhookBody>,
    ) -> ApiResult<Json<WebhookView>> {
        let webhook = state
            .webhooks
            .update(
                &caller.principal,
                &CircuitId::parse(&id.0)?,
                &webhook_id.0,
                body.0.into(),
                &caller.meta,
            )
            .await?;
        Ok(Json(webhook.into()))
    }

    /// Delete a webhook (ManagePermissions).
    #[oai(
        path = "/api/circuits/:id/post-actions/webhooks/:webhook_id",
        method = "delete",
        operation_id = "delete_webhook"
    )]
    async fn delete(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        webhook_id: Path<String>,
    ) -> ApiResult<Deleted> {
        state
            .webhooks
            .delete(
                &caller.principal,
                &CircuitId::parse(&id.0)?,
                &webhook_id.0,
                &caller.meta,
            )
            .await?;
        Ok(Deleted::Done)
    }

    /// Send a real `test` delivery now and report how it went (5 s timeout, never retried).
    #[oai(
        path = "/api/circuits/:id/post-actions/webhooks/:webhook_id/test",
        method = "post",
        operation_id = "test_webhook"
    )]
    async fn test(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        webhook_id: Path<String>,
    ) -> ApiResult<Json<TestResultView>> {
        let result = state
            .webhooks
            .test(&caller.principal, &CircuitId::parse(&id.0)?, &webhook_id.0)
            .await?;
        Ok(Json(TestResultView {
            delivery_id: result.delivery_id,
            status: result.status.into(),
            response_code: result.response_code,
            duration_ms: result.duration_ms,
        }))
    }

    /// The circuit's deliveries, by webhook and status (ManagePermissions).
    #[oai(
        path = "/api/circuits/:id/post-actions/deliveries",
        method = "get",
        operation_id = "list_deliveries"
    )]
    #[expect(
        clippy::too_many_arguments,
        reason = "poem-openapi takes one argument per query parameter"
    )]
    async fn deliveries(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        webhook_id: Query<Option<String>>,
        status: Query<Option<DeliveryStatusName>>,
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<DeliveryList>> {
        let filter = DeliveryFilter {
            webhook_id: webhook_id.0,
            status: status.0.map(Into::into),
        };
        let page = page(limit.0, cursor.0)?;
        Ok(Json(
            state
                .webhooks
                .deliveries(&caller.principal, &CircuitId::parse(&id.0)?, &filter, &page)
                .await?
                .into(),
        ))
    }
}
