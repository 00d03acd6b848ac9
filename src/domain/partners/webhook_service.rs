//! Post-action webhooks: settings and webhooks (ManagePermissions), test deliveries, the
//! delivery list, and the sender that works through the outbox.

use crate::domain::circuits::circuit::CircuitId;
use crate::domain::partners::webhook::redacted_url;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::domain::Timestamp;
use crate::domain::audit::AuditEntry;
use crate::domain::changes::{Change, UnitOfWork};
use crate::domain::circuits::membership::circuit_member;
use crate::domain::circuits::ports::{CircuitRepo, MemberRepo};
use crate::domain::circuits::roles::Permission;
use crate::domain::identity::access::{Principal, RequestMeta};
use crate::domain::page::{Page, PageRequest};
use crate::domain::partners::ports::{DeliveryFilter, OutgoingRequest, SecretCipher, WebhookRepo, WebhookTransport};
use crate::domain::partners::webhook::{
    AttemptResult, AuthType, Delivery, DeliveryStatus, PostActionSettings, RetryConfig, Verdict, Webhook,
    check_credentials, check_custom_headers, check_url, request_headers, signature, verdict,
};
use crate::domain::secrets::random_token;
use crate::domain::{Error, Result};
use crate::ports::{Clock, IdGenerator};

/// How long a sender may hold a claimed delivery before another may take it over.
const LEASE: Duration = Duration::from_secs(120);
/// Deliveries claimed at once by one sender.
const BATCH: u64 = 32;
/// The `test` route's timeout: it answers synchronously.
const TEST_TIMEOUT: Duration = Duration::from_secs(5);

combined_port!(
    /// What webhook management and delivery need from storage.
    pub trait WebhookStore: UnitOfWork, CircuitRepo, MemberRepo, WebhookRepo
);

pub struct WebhookService {
    pub(crate) store: Arc<dyn WebhookStore>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: Arc<dyn IdGenerator>,
    pub(crate) cipher: Arc<dyn SecretCipher>,
    pub(crate) transport: Arc<dyn WebhookTransport>,
    /// Timeout of one delivery attempt.
    pub(crate) attempt_timeout: Duration,
}

/// A webhook as a client describes it (PUT replaces all of it; an absent `auth_credentials`
/// keeps the stored ones).
#[derive(Debug, Clone)]
pub struct WebhookInput {
    pub name: String,
    pub url: String,
    pub method: Option<String>,
    /// On update, `None` keeps the stored headers.
    pub headers: Option<Vec<(String, String)>>,
    pub auth_type: AuthType,
    pub auth_credentials: Option<String>,
    pub enabled: bool,
    pub retry_config: Option<RetryConfig>,
}

/// A test delivery's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct TestResult {
    pub delivery_id: String,
    pub status: DeliveryStatus,
    pub response_code: Option<u16>,
    pub duration_ms: u64,
}

impl WebhookService {
    async fn manager(
        &self,
        principal: &Principal,
        circuit_id: &str,
    ) -> Result<crate::domain::circuits::circuit::Circuit> {
        let (circuit, member) = circuit_member(self.store.as_ref(), circuit_id, &principal.user_id).await?;
        member.require(Permission::ManagePermissions)?;
        Ok(circuit)
    }

    pub async fn settings(&self, principal: &Principal, circuit_id: &CircuitId) -> Result<PostActionSettings> {
        self.manager(principal, circuit_id).await?;
        self.store.post_action_settings(circuit_id).await
    }

    pub async fn set_settings(
        &self,
        principal: &Principal,
        circuit_id: &CircuitId,
        settings: PostActionSettings,
        meta: &RequestMeta,
    ) -> Result<PostActionSettings> {
        self.manager(principal, circuit_id).await?;
        let now = self.clock.now();
        let kinds: Vec<&str> = settings.trigger_events.iter().map(|k| k.as_str()).collect();
        self.store
            .commit(vec![
                Change::UpsertPostActionSettings {
                    circuit_id: circuit_id.to_string(),
                    settings: settings.clone(),
                    at: now,
                },
                Change::Audit(AuditEntry::new(
                    self.ids.new_id(),
                    "post_action_settings_changed",
                    Some(&principal.user_id),
                    ("circuit", Some(circuit_id)),
                    meta,
                    now,
                    json!({
                        "enabled": settings.enabled,
                        "trigger_events": kinds,
                        "epcis_query": settings.epcis_query.as_ref().map(|query| query.as_str()),
                    }),
                )),
            ])
            .await?;
        Ok(settings)
    }

    pub async fn list(
        &self,
        principal: &Principal,
        circuit_id: &CircuitId,
        page: &PageRequest,
    ) -> Result<Page<Webhook>> {
        self.manager(principal, circuit_id).await?;
        self.store.webhooks(circuit_id, page).await
    }

    pub async fn get(&self, principal: &Principal, circuit_id: &CircuitId, webhook_id: &str) -> Result<Webhook> {
        self.manager(principal, circuit_id).await?;
        self.webhook_in(circuit_id, webhook_id).await
    }

    async fn webhook_in(&self, circuit_id: &str, webhook_id: &str) -> Result<Webhook> {
        self.store
            .webhook(webhook_id)
            .await?
            .filter(|w| w.circuit_id == circuit_id)
            .ok_or_else(|| Error::not_found("webhook"))
    }

    /// Custom headers with their values encrypted.
    fn sealed(&self, headers: Vec<(String, String)>) -> Result<Vec<(String, String)>> {
        headers
            .into_iter()
            .map(|(name, value)| Ok((name, self.cipher.seal(&value)?)))
            .collect()
    }

    /// Custom headers with their values decrypted. A value that does not open was stored before
    /// header values were encrypted, and is sent as stored.
    fn opened(&self, headers: &[(String, String)]) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(name, value)| (name.clone(), self.cipher.open(value).unwrap_or_else(|_| value.clone())))
            .collect()
    }

    /// Validates `input` and resolves its host: loopback, private and other non-global
    /// destinations are refused (400) unless the server allows them.
    async fn validated(&self, input: &WebhookInput) -> Result<(String, RetryConfig)> {
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Error::field("name", "1 to 100 characters"));
        }
        check_url(&input.url)?;
        let method = input.method.clone().unwrap_or_else(|| "POST".to_owned()).to_uppercase();
        if !matches!(method.as_str(), "POST" | "PUT" | "PATCH") {
            return Err(Error::field("method", "POST, PUT or PATCH"));
        }
        check_custom_headers(input.headers.as_deref().unwrap_or_default())?;
        let retry_config = input.retry_config.unwrap_or_default();
        retry_config.validate()?;
        self.transport.check_destination(&input.url).await?;
        Ok((method, retry_config))
    }

    /// Creates a webhook and returns it with its signing secret, shown this once.
    pub async fn create(
        &self,
        principal: &Principal,
        circuit_id: &CircuitId,
        input: WebhookInput,
        meta: &RequestMeta,
    ) -> Result<(Webhook, String)> {
        self.manager(principal, circuit_id).await?;
        check_credentials(input.auth_type, input.auth_credentials.as_deref())?;
        let (method, retry_config) = self.validated(&input).await?;
        let secret = format!("whsec_{}", random_token(32));
        let now = self.clock.now();
        let webhook = Webhook {
            webhook_id: self.ids.new_id(),
            circuit_id: circuit_id.to_string(),
            name: input.name.trim().to_owned(),
            url: input.url,
            method,
            headers: self.sealed(input.headers.unwrap_or_default())?,
            auth_type: input.auth_type,
            auth_credentials: input.auth_credentials.map(|c| self.cipher.seal(&c)).transpose()?,
            signing_secret: self.cipher.seal(&secret)?,
            enabled: input.enabled,
            retry_config,
            created_at: now,
            updated_at: now,
        };
        self.store
            .commit(vec![
                Change::InsertWebhook(webhook.clone()),
                Change::Audit(AuditEntry::new(
                    self.ids.new_id(),
                    "webhook_created",
                    Some(&principal.user_id),
                    ("webhook", Some(&webhook.webhook_id)),
                    meta,
                    now,
                    json!({ "circuit_id": circuit_id, "url": redacted_url(&webhook.url) }),
                )),
            ])
            .await?;
        Ok((webhook, secret))
    }

    pub async fn update(
        &self,
        principal: &Principal,
        circuit_id: &CircuitId,
        webhook_id: &str,
        input: WebhookInput,
        meta: &RequestMeta,
    ) -> Result<Webhook> {
        self.manager(principal, circuit_id).await?;
        let existing = self.webhook_in(circuit_id, webhook_id).await?;
        let credentials = match input.auth_credentials.as_deref() {
            Some(new) => Some(new.to_owned()),
            None => existing
                .auth_credentials
                .as_deref()
                .map(|c| self.cipher.open(c))
                .transpose()?,
        };
        check_credentials(input.auth_type, credentials.as_deref())?;
        let (method, retry_config) = self.validated(&input).await?;
        let now = self.clock.now();
        let webhook = Webhook {
            name: input.name.trim().to_owned(),
            url: input.url,
            method,
            headers: match input.headers {
                Some(headers) => self.sealed(headers)?,
                None => existing.headers.clone(),
            },
            auth_type: input.auth_type,
            auth_credentials: credentials.map(|c| self.cipher.seal(&c)).transpose()?,
            enabled: input.enabled,
            retry_config,
            updated_at: now,
            ..existing
        };
        self.store
            .commit(vec![
                Change::UpdateWebhook(webhook.clone()),
                Change::Audit(AuditEntry::new(
                    self.ids.new_id(),
                    "webhook_updated",
                    Some(&principal.user_id),
                    ("webhook", Some(webhook_id)),
                    meta,
                    now,
                    json!({ "circuit_id": circuit_id, "enabled": webhook.enabled }),
                )),
            ])
            .await?;
        Ok(webhook)
    }

    pub async fn delete(
        &self,
        principal: &Principal,
        circuit_id: &CircuitId,
        webhook_id: &str,
        meta: &RequestMeta,
    ) -> Result<()> {
        self.manager(principal, circuit_id).await?;
        let webhook = self.webhook_in(circuit_id, webhook_id).await?;
        let now = self.clock.now();
        self.store
            .commit(vec![
                Change::DeleteWebhook {
                    webhook_id: webhook_id.to_owned(),
                },
                Change::Audit(AuditEntry::new(
                    self.ids.new_id(),
                    "webhook_deleted",
                    Some(&principal.user_id),
                    ("webhook", Some(webhook_id)),
                    meta,
                    now,
                    json!({ "circuit_id": circuit_id, "url": webhook.url }),
                )),
            ])
            .await
    }

    pub async fn deliveries(
        &self,
        principal: &Principal,
        circuit_id: &CircuitId,
        filter: &DeliveryFilter,
        page: &PageRequest,
    ) -> Result<Page<Delivery>> {
        self.manager(principal, circuit_id).await?;
        self.store.deliveries(circuit_id, filter, page).await
    }

    /// Sends one real `test` delivery now and waits for it (short timeout); it is recorded like
    /// any other delivery but never retried.
    pub async fn test(&self, principal: &Principal, circuit_id: &CircuitId, webhook_id: &str) -> Result<TestResult> {
        let circuit = self.manager(principal, circuit_id).await?;
        let webhook = self.webhook_in(circuit_id, webhook_id).await?;
        let now = self.clock.now();
        let delivery_id = self.ids.new_id();
        let body = json!({
            "event_type": "test",
            "delivery_id": delivery_id,
            "circuit_id": circuit_id,
            "circuit_name": circuit.name,
            "occurred_at": crate::domain::items::event::format_occurred_at(now),
            "item": null,
            "operation_id": null,
            "operation_status": null,
        });
        let delivery = Delivery {
            delivery_id: delivery_id.clone(),
            webhook_id: webhook.webhook_id.clone(),
            circuit_id: circuit_id.to_string(),
            event_type: "test".to_owned(),
            payload: body.to_string(),
            status: DeliveryStatus::InProgress,
            attempts: 0,
            next_attempt_at: now,
            last_status_code: None,
            last_error: None,
            created_at: now,
            updated_at: now,
            delivered_at: None,
        };
        self.store
            .commit(vec![Change::InsertDelivery(delivery.clone())])
            .await?;
        let result = self.attempt(&delivery, &webhook, TEST_TIMEOUT).await;
        let status = if verdict(&result) == Verdict::Delivered {
            DeliveryStatus::Delivered
        } else {
            DeliveryStatus::Failed
        };
        let at = self.clock.now();
        self.store
            .commit(vec![Change::RecordAttempt {
                delivery_id: delivery_id.clone(),
                attempt: 1,
                result: result.clone(),
                status,
                next_attempt_at: at,
                at,
            }])
            .await?;
        Ok(TestResult {
            delivery_id,
            status,
            response_code: result.status_code,
            duration_ms: u64::try_from(result.duration.as_millis()).unwrap_or(u64::MAX),
        })
    }

    /// One attempt of `delivery`: signed now, over the unchanged body.
    async fn attempt(&self, delivery: &Delivery, webhook: &Webhook, timeout: Duration) -> AttemptResult {
        let prepared = (|| -> Result<OutgoingRequest> {
            let secret = self.cipher.open(&webhook.signing_secret)?;
            let credentials = webhook
                .auth_credentials
                .as_deref()
                .map(|c| self.cipher.open(c))
                .transpose()?;
            let timestamp = self.clock.now().timestamp();
            let signature = signature(&secret, timestamp, &delivery.payload)?;
            let custom = self.opened(&webhook.headers);
            let headers = request_headers(
                webhook,
                &custom,
                credentials.as_deref(),
                &delivery.event_type,
                &delivery.delivery_id,
                timestamp,
                &signature,
            );
            Ok(OutgoingRequest {
                url: webhook.url.clone(),
                method: webhook.method.clone(),
                headers,
                body: delivery.payload.clone(),
                timeout,
            })
        })();
        match prepared {
            Ok(request) => self.transport.send(request).await,
            Err(err) => AttemptResult {
                status_code: None,
                error: Some(format!("could not prepare the request: {}", err.message)),
                duration: Duration::ZERO,
            },
        }
    }

    /// Claims due deliveries and sends them (concurrently), recording each attempt and
    /// scheduling retries. Returns how many were attempted.
    pub async fn deliver_due(&self) -> Result<usize> {
        let claimed = self.store.claim_deliveries(self.clock.now(), BATCH, LEASE).await?;
        let count = claimed.len();
        let sends = claimed
            .into_iter()
            .map(|(delivery, webhook)| self.deliver(delivery, webhook));
        for outcome in futures_util::future::join_all(sends).await {
            if let Err(err) = outcome {
                tracing::warn!(error = %err, "could not record a delivery attempt; its lease will expire and it will be retried");
            }
        }
        Ok(count)
    }

    async fn deliver(&self, delivery: Delivery, webhook: Webhook) -> Result<()> {
        let span = tracing::info_span!("webhook.deliver", delivery_id = %delivery.delivery_id, webhook_id = %webhook.webhook_id, event = %delivery.event_type, attempt = delivery.attempts + 1, status_code = tracing::field::Empty);
        let result =
            tracing::Instrument::instrument(self.attempt(&delivery, &webhook, self.attempt_timeout), span.clone())
                .await;
        if let Some(code) = result.status_code {
            span.record("status_code", code);
        }
        let attempt = delivery.attempts + 1;
        let now = self.clock.now();
        let (status, next_attempt_at) = next_state(&webhook.retry_config, &result, attempt, now, rand::random::<f64>());
        metrics::histogram!("defarm_webhook_attempt_seconds").record(result.duration.as_secs_f64());
        metrics::counter!("defarm_webhook_attempts_total", "outcome" => status.as_str()).increment(1);
        if matches!(status, DeliveryStatus::Delivered | DeliveryStatus::Failed) {
            metrics::counter!("defarm_webhook_deliveries_total", "outcome" => status.as_str()).increment(1);
        }
        self.store
            .commit(vec![Change::RecordAttempt {
                delivery_id: delivery.delivery_id,
                attempt,
                result,
                status,
                next_attempt_at,
                at: now,
            }])
            .await
    }
}

/// Where a delivery goes after attempt number `attempt`: delivered, failed, or retried after
/// the backoff (while `max_retries` allows).
pub fn next_state(
    config: &RetryConfig,
    result: &AttemptResult,
    attempt: u32,
    now: Timestamp,
    jitter: f64,
) -> (DeliveryStatus, Timestamp) {
    match verdict(result) {
        Verdict::Delivered => (DeliveryStatus::Delivered, now),
        Verdict::Fail => (DeliveryStatus::Failed, now),
        Verdict::Retry if attempt > config.max_retries => (DeliveryStatus::Failed, now),
        Verdict::Retry => {
            let delay = chrono::Duration::from_std(config.delay(attempt, jitter))
                .unwrap_or_else(|_| chrono::Duration::seconds(30));
            (DeliveryStatus::Retrying, now + delay)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(code: Option<u16>) -> AttemptResult {
        AttemptResult {
            status_code: code,
            error: None,
            duration: Duration::ZERO,
        }
    }

    #[test]
    fn retries_until_max_retries_are_spent() {
        let config = RetryConfig::default();
        let now = chrono::Utc::now();
        let (status, at) = next_state(&config, &result(Some(500)), 1, now, 1.0);
        assert_eq!(status, DeliveryStatus::Retrying);
        assert_eq!(at - now, chrono::Duration::milliseconds(1000));
        assert_eq!(
            next_state(&config, &result(None), 3, now, 1.0).0,
            DeliveryStatus::Retrying
        );
        // max_retries 3 means up to 4 attempts.
        assert_eq!(
            next_state(&config, &result(Some(503)), 4, now, 1.0).0,
            DeliveryStatus::Failed
        );
        assert_eq!(
            next_state(&config, &result(Some(400)), 1, now, 1.0).0,
            DeliveryStatus::Failed
        );
        assert_eq!(
            next_state(&config, &result(Some(200)), 2, now, 1.0).0,
            DeliveryStatus::Delivered
        );
    }
}
