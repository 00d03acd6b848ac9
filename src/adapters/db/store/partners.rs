use std::collections::HashMap;
use std::time::Duration;

use sea_orm::sea_query::{Condition, Expr, LockBehavior, LockType, Query};
use sea_orm::{ColumnTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{SqlStore, paged};
use crate::adapters::db::entities::{mail_outbox, post_action_setting, storage_record, webhook, webhook_delivery};
use crate::domain::epcis::subscription::EpcisSubscription;
use crate::domain::page::{Cursor, Page, PageRequest};
use crate::domain::partners::ports::{DeliveryFilter, OutboxDepth, OutboxRepo, StorageRepo, WebhookRepo};
use crate::domain::partners::storage::{StorageRecord, StorageStatus};
use crate::domain::partners::trigger::TriggerKind;
use crate::domain::partners::webhook::{AuthType, Delivery, DeliveryStatus, PostActionSettings, RetryConfig, Webhook};
use crate::domain::{Error, Result, Timestamp};

pub(super) fn settings_of(row: post_action_setting::Model) -> PostActionSettings {
    let names: Vec<String> = serde_json::from_value(row.trigger_events).unwrap_or_default();
    let mut trigger_events: Vec<TriggerKind> = names.iter().filter_map(|n| TriggerKind::from_text(n)).collect();
    let epcis_query = match row.epcis_query.as_deref().map(EpcisSubscription::parse) {
        Some(Ok(query)) => Some(query),
        Some(Err(error)) => {
            // Checked when saved; a query a later version reads differently sends nothing
            // rather than every event.
            tracing::warn!(circuit_id = %row.circuit_id, %error, "stored epcis_query no longer reads; epcis_event is off");
            trigger_events.retain(|kind| *kind != TriggerKind::EpcisEvent);
            None
        }
        None => None,
    };
    PostActionSettings {
        enabled: row.enabled,
        trigger_events,
        include_storage_details: row.include_storage_details,
        epcis_query,
    }
}

pub(super) fn webhook_of(row: webhook::Model) -> Result<Webhook> {
    let headers: Vec<(String, String)> =
        serde_json::from_value(row.headers).map_err(|e| Error::internal(format!("stored webhook headers: {e}")))?;
    let retry_config: RetryConfig =
        serde_json::from_value(row.retry_config).map_err(|e| Error::internal(format!("stored retry_config: {e}")))?;
    Ok(Webhook {
        webhook_id: row.webhook_id,
        circuit_id: row.circuit_id,
        name: row.name,
        url: row.url,
        method: row.method,
        headers,
        auth_type: AuthType::from_text(&row.auth_type).unwrap_or(AuthType::None),
        auth_credentials: row.auth_credentials,
        signing_secret: row.signing_secret,
        enabled: row.enabled,
        retry_config,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

pub(super) fn delivery_of(row: webhook_delivery::Model) -> Delivery {
    Delivery {
        delivery_id: row.delivery_id,
        webhook_id: row.webhook_id,
        circuit_id: row.circuit_id,
        event_type: row.event_type,
        payload: row.payload,
        status: DeliveryStatus::from_text(&row.status).unwrap_or(DeliveryStatus::Pending),
        attempts: u32::try_from(row.attempts).unwrap_or(0),
        next_attempt_at: row.next_attempt_at,
        last_status_code: row.last_status_code.and_then(|c| u16::try_from(c).ok()),
        last_error: row.last_error,
        created_at: row.created_at,
        updated_at: row.updated_at,
        delivered_at: row.delivered_at,
    }
}

pub(super) fn storage_of(row: storage_record::Model) -> StorageRecord {
    StorageRecord {
        record_id: row.record_id,
        dfid: row.dfid,
        circuit_id: row.circuit_id,
        adapter_type: row.adapter_type,
        cid: row.cid,
        status: StorageStatus::from_text(&row.status).unwrap_or(StorageStatus::Pending),
        location: row.location,
        triggered_by: row.triggered_by,
        triggered_by_id: row.triggered_by_id,
        created_at: row.created_at,
        stored_at: row.stored_at,
        metadata: row.metadata,
        document: row.document.into_bytes(),
        attempts: u32::try_from(row.attempts).unwrap_or(0),
    }
}

pub(super) fn lease_end(now: Timestamp, lease: Duration) -> Timestamp {
    now + chrono::Duration::from_std(lease).unwrap_or_else(|_| chrono::Duration::seconds(60))
}

/// Rows of an outbox table due for work: waiting ones whose time has come, and in-progress ones
/// whose lease ran out.
pub(super) fn due(
    status: impl ColumnTrait,
    next_attempt_at: impl ColumnTrait,
    lease_until: impl ColumnTrait,
    waiting: &[&str],
    now: Timestamp,
) -> Condition {
    Condition::any()
        .add(
            Condition::all()
                .add(status.is_in(waiting.to_vec()))
                .add(next_attempt_at.lte(now)),
        )
        .add(Condition::all().add(status.eq("InProgress")).add(lease_until.lt(now)))
}

#[async_trait::async_trait]
impl WebhookRepo for SqlStore {
    async fn post_action_settings(&self, circuit_id: &str) -> Result<PostActionSettings> {
        let row = self
            .db
            .read("post_action_settings", |c| {
                Box::pin(async move { Ok(post_action_setting::Entity::find_by_id(circuit_id).one(c).await?) })
            })
            .await?;
        Ok(row.map(settings_of).unwrap_or_default())
    }

    async fn webhooks(&self, circuit_id: &str, page: &PageRequest) -> Result<Page<Webhook>> {
        let select = webhook::Entity::find().filter(webhook::Column::CircuitId.eq(circuit_id));
        let select = paged(select, webhook::Column::CreatedAt, webhook::Column::WebhookId, page);
        let rows = self
            .db
            .read("webhooks", |c| Box::pin(async move { Ok(select.all(c).await?) }))
            .await?;
        let webhooks = rows.into_iter().map(webhook_of).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(webhooks, page, |w| Cursor {
            at: w.created_at,
            id: w.webhook_id.clone(),
        }))
    }

    async fn webhook(&self, webhook_id: &str) -> Result<Option<Webhook>> {
        let row = self
            .db
            .read("webhook", |c| {
                Box::pin(async move { Ok(webhook::Entity::find_by_id(webhook_id).one(c).await?) })
            })
            .await?;
        row.map(webhook_of).transpose()
    }

    async fn deliveries(
        &self,
        circuit_id: &str,
        filter: &DeliveryFilter,
        page: &PageRequest,
    ) -> Result<Page<Delivery>> {
        let mut select = webhook_delivery::Entity::find().filter(webhook_delivery::Column::CircuitId.eq(circuit_id));
        if let Some(webhook_id) = &filter.webhook_id {
            select = select.filter(webhook_delivery::Column::WebhookId.eq(webhook_id.as_str()));
        }
        if let Some(status) = filter.status {
            select = select.filter(webhook_delivery::Column::Status.eq(status.as_str()));
        }
        let select = paged(
            select,
            webhook_delivery::Column::CreatedAt,
            webhook_delivery::Column::DeliveryId,
            page,
        );
        let rows = self
            .db
            .read("deliveries", |c| Box::pin(async move { Ok(select.all(c).await?) }))
            .await?;
        Ok(Page::from_rows(
            rows.into_iter().map(delivery_of).collect(),
            page,
            |d| Cursor {
                at: d.created_at,
                id: d.delivery_id.clone(),
            },
        ))
    }

    async fn claim_deliveries(&self, now: Timestamp, limit: u64, lease: Duration) -> Result<Vec<(Delivery, Webhook)>> {
        let backend = self.db.backend();
        let claimed = self
            .db
            .write("claim_deliveries", move |txn| {
                Box::pin(async move {
                    use webhook_delivery::Column as D;
                    let mut candidates = Query::select()
                        .column(D::DeliveryId)
                        .from(webhook_delivery::Entity)
                        .cond_where(due(
                            D::Status,
                            D::NextAttemptAt,
                            D::LeaseUntil,
                            &["Pending", "Retrying"],
                            now,
                        ))
                        .order_by(D::NextAttemptAt, sea_orm::sea_query::Order::Asc)
                        .limit(limit)
                        .to_owned();
                    // Replicas claim different rows: a row another transaction is claiming is
                    // skipped, not waited for. SQLite serves one instance, whose one worker needs
                    // no row locks.
                    if backend == DbBackend::Postgres {
                        candidates.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
                    }
                    let rows = webhook_delivery::Entity::update_many()
                        .col_expr(D::Status, Expr::value(DeliveryStatus::InProgress.as_str()))
                        .col_expr(D::LeaseUntil, Expr::value(lease_end(now, lease)))
                        .col_expr(D::UpdatedAt, Expr::value(now))
                        .filter(D::DeliveryId.in_subquery(candidates))
                        .exec_with_returning(txn)
                        .await?;
                    let ids: Vec<String> = rows.iter().map(|r| r.webhook_id.clone()).collect();
                    let hooks = if ids.is_empty() {
                        Vec::new()
                    } else {
                        webhook::Entity::find()
                            .filter(webhook::Column::WebhookId.is_in(ids))
                            .all(txn)
                            .await?
                    };
                    Ok((rows, hooks))
                })
            })
            .await?;
        let (rows, hooks) = claimed;
        let hooks: HashMap<String, Webhook> = hooks
            .into_iter()
            .map(|row| webhook_of(row).map(|w| (w.webhook_id.clone(), w)))
            .collect::<Result<_>>()?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let hook = hooks.get(&row.webhook_id).cloned();
                hook.map(|hook| (delivery_of(row), hook))
            })
            .collect())
    }
}

#[async_trait::async_trait]
impl StorageRepo for SqlStore {
    async fn claim_storage(&self, now: Timestamp, limit: u64, lease: Duration) -> Result<Vec<StorageRecord>> {
        let backend = self.db.backend();
        let rows = self
            .db
            .write("claim_storage", move |txn| {
                Box::pin(async move {
                    use storage_record::Column as S;
                    let mut candidates = Query::select()
                        .column(S::RecordId)
                        .from(storage_record::Entity)
                        .cond_where(due(S::Status, S::NextAttemptAt, S::LeaseUntil, &["Pending"], now))
                        .order_by(S::NextAttemptAt, sea_orm::sea_query::Order::Asc)
                        .limit(limit)
                        .to_owned();
                    if backend == DbBackend::Postgres {
                        candidates.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
                    }
                    Ok(storage_record::Entity::update_many()
                        .col_expr(S::Status, Expr::value("InProgress"))
                        .col_expr(S::LeaseUntil, Expr::value(lease_end(now, lease)))
                        .filter(S::RecordId.in_subquery(candidates))
                        .exec_with_returning(txn)
                        .await?)
                })
            })
            .await?;
        Ok(rows.into_iter().map(storage_of).collect())
    }

    async fn storage_records(&self, dfid: &str, page: &PageRequest) -> Result<Page<StorageRecord>> {
        let select = storage_record::Entity::find().filter(storage_record::Column::Dfid.eq(dfid));
        let select = paged(
            select,
            storage_record::Column::CreatedAt,
            storage_record::Column::RecordId,
            page,
        );
        let rows = self
            .db
            .read("storage_records", |c| Box::pin(async move { Ok(select.all(c).await?) }))
            .await?;
        Ok(Page::from_rows(rows.into_iter().map(storage_of).collect(), page, |r| {
            Cursor {
                at: r.created_at,
                id: r.record_id.clone(),
            }
        }))
    }

    async fn items_with_cid(&self, cid: &str) -> Result<Vec<String>> {
        let rows = self
            .db
            .read("items_with_cid", |c| {
                Box::pin(async move {
                    Ok(storage_record::Entity::find()
                        .filter(storage_record::Column::Cid.eq(cid))
                        .filter(storage_record::Column::Status.eq(StorageStatus::Stored.as_str()))
                        .limit(100)
                        .all(c)
                        .await?)
                })
            })
            .await?;
        let mut dfids: Vec<String> = rows.into_iter().map(|r| r.dfid).collect();
        dfids.sort();
        dfids.dedup();
        Ok(dfids)
    }
}

#[async_trait::async_trait]
impl OutboxRepo for SqlStore {
    async fn outbox_depth(&self) -> Result<OutboxDepth> {
        self.db
            .read("outbox_depth", |c| {
                Box::pin(async move {
                    let waiting = ["Pending", "Retrying", "InProgress"];
                    let deliveries = webhook_delivery::Entity::find()
                        .filter(webhook_delivery::Column::Status.is_in(waiting))
                        .count(c)
                        .await?;
                    let oldest = webhook_delivery::Entity::find()
                        .filter(webhook_delivery::Column::Status.is_in(waiting))
                        .order_by_asc(webhook_delivery::Column::CreatedAt)
                        .one(c)
                        .await?
                        .map(|row| row.created_at);
                    let storage = storage_record::Entity::find()
                        .filter(storage_record::Column::Status.is_in(["Pending", "InProgress"]))
                        .count(c)
                        .await?;
                    let mail = mail_outbox::Entity::find()
                        .filter(mail_outbox::Column::Status.is_in(["Pending", "InProgress"]))
                        .count(c)
                        .await?;
                    Ok(OutboxDepth {
                        deliveries,
                        storage,
                        mail,
                        oldest,
                    })
                })
            })
            .await
    }
}
