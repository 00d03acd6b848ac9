//! The unit of work's statements for webhooks, their delivery outbox, and storage records.

use sea_orm::sea_query::{Condition, Expr, ExprTrait as _, JoinType, OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QueryTrait,
};

use std::collections::HashMap;

use super::held::HeldInserts;
use super::partners::settings_of;
use crate::adapters::db::entities::{
    circuit, circuit_item, item, post_action_setting, storage_record, trigger, webhook, webhook_attempt,
    webhook_delivery,
};
use crate::domain::epcis::subscription::delivery_document;
use crate::domain::items::identifier::Identifier;
use crate::domain::partners::storage::{StorageOutcome, StorageRecord, StorageStatus};
use crate::domain::partners::trigger::{Trigger, TriggerKind};
use crate::domain::partners::webhook::{
    AttemptResult, Delivery, DeliveryStatus, PostActionSettings, StorageRef, Webhook, payload,
};
use crate::domain::{Error, Result, Timestamp};

fn to_json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value> {
    serde_json::to_value(value).map_err(|e| Error::internal(format!("json: {e}")))
}

fn webhook_model(w: &Webhook) -> Result<webhook::ActiveModel> {
    Ok(webhook::ActiveModel {
        webhook_id: Set(w.webhook_id.clone()),
        circuit_id: Set(w.circuit_id.clone()),
        name: Set(w.name.clone()),
        url: Set(w.url.clone()),
        method: Set(w.method.clone()),
        headers: Set(to_json(&w.headers)?),
        auth_type: Set(w.auth_type.as_str().to_owned()),
        auth_credentials: Set(w.auth_credentials.clone()),
        signing_secret: Set(w.signing_secret.clone()),
        enabled: Set(w.enabled),
        retry_config: Set(to_json(&w.retry_config)?),
        created_at: Set(w.created_at),
        updated_at: Set(w.updated_at),
    })
}

fn delivery_model(d: &Delivery) -> webhook_delivery::ActiveModel {
    webhook_delivery::ActiveModel {
        delivery_id: Set(d.delivery_id.clone()),
        webhook_id: Set(d.webhook_id.clone()),
        circuit_id: Set(d.circuit_id.clone()),
        event_type: Set(d.event_type.clone()),
        payload: Set(d.payload.clone()),
        status: Set(d.status.as_str().to_owned()),
        attempts: Set(i32::try_from(d.attempts).unwrap_or(i32::MAX)),
        next_attempt_at: Set(d.next_attempt_at),
        lease_until: Set(None),
        last_status_code: Set(d.last_status_code.map(i32::from)),
        last_error: Set(d.last_error.clone()),
        created_at: Set(d.created_at),
        updated_at: Set(d.updated_at),
        delivered_at: Set(d.delivered_at),
    }
}

/// Triggers for partners: recorded, then fanned out to a delivery per enabled webhook of the
/// circuit when its settings announce the trigger's kind. Settings are read once per circuit, so
/// a batch of pushes costs a few statements when nobody listens.
pub(super) async fn triggers<C: ConnectionTrait>(
    txn: &C,
    triggers: Vec<Trigger>,
    held: &mut HeldInserts,
) -> Result<()> {
    let rows = triggers
        .iter()
        .map(|t| trigger::ActiveModel {
            id: Set(t.id.clone()),
            kind: Set(t.kind.as_str().to_owned()),
            circuit_id: Set(t.circuit_id.clone()),
            dfid: Set(t.dfid.clone()),
            actor_id: Set(t.actor_id.clone()),
            operation_id: Set(t.operation_id.clone()),
            operation_status: Set(t.operation_status.clone()),
            event: Set(recorded_event(t)),
            occurred_at: Set(t.occurred_at),
        })
        .collect::<Vec<_>>();
    held.insert(txn, rows).await?;
    // The fan-out reads the items and circuit entries the same unit of work may be writing.
    held.write(txn).await?;
    let mut settings: HashMap<String, Option<PostActionSettings>> = HashMap::new();
    for t in triggers {
        if !settings.contains_key(&t.circuit_id) {
            let read = post_action_setting::Entity::find_by_id(t.circuit_id.clone())
                .one(txn)
                .await?
                .map(settings_of);
            settings.insert(t.circuit_id.clone(), read);
        }
        if let Some(Some(announced)) = settings.get(&t.circuit_id)
            && announced.announces(&t)
        {
            fan_out(txn, t, announced, held).await?;
        }
    }
    Ok(())
}

/// What a trigger's record keeps of its event: an EPCIS event only by its `eventID`, as the event
/// itself is stored where it was captured or recorded.
fn recorded_event(t: &Trigger) -> Option<serde_json::Value> {
    match (t.kind, &t.event) {
        (TriggerKind::EpcisEvent, Some(event)) => Some(serde_json::json!({ "eventID": event.get("eventID") })),
        _ => t.event.clone(),
    }
}

/// One row per enabled webhook of a trigger's circuit, with what every delivery's payload says
/// besides the trigger: the circuit's name, the item's identifiers and who pushed it there.
#[derive(FromQueryResult)]
struct Audience {
    webhook_id: String,
    circuit_name: String,
    identifiers: Option<serde_json::Value>,
    pushed_by: Option<String>,
}

/// A delivery of `t` for each enabled webhook of its circuit, each with its payload fixed now
/// (retries resend the same body). The webhooks and the payload's facts are one statement.
async fn fan_out<C: ConnectionTrait>(
    txn: &C,
    t: Trigger,
    settings: &PostActionSettings,
    held: &mut HeldInserts,
) -> Result<()> {
    let hook = |column| Expr::col((webhook::Entity, column));
    let query = Query::select()
        .expr_as(hook(webhook::Column::WebhookId), "webhook_id")
        .expr_as(Expr::col((circuit::Entity, circuit::Column::Name)), "circuit_name")
        .expr_as(Expr::col((item::Entity, item::Column::Identifiers)), "identifiers")
        .expr_as(
            Expr::col((circuit_item::Entity, circuit_item::Column::PushedBy)),
            "pushed_by",
        )
        .from(webhook::Entity)
        .inner_join(
            circuit::Entity,
            Expr::col((circuit::Entity, circuit::Column::CircuitId))
                .equals((webhook::Entity, webhook::Column::CircuitId)),
        )
        .left_join(
            item::Entity,
            Expr::col((item::Entity, item::Column::Dfid)).eq(t.dfid.clone()),
        )
        .join(
            JoinType::LeftJoin,
            circuit_item::Entity,
            Condition::all()
                .add(
                    Expr::col((circuit_item::Entity, circuit_item::Column::CircuitId))
                        .equals((webhook::Entity, webhook::Column::CircuitId)),
                )
                .add(Expr::col((circuit_item::Entity, circuit_item::Column::Dfid)).eq(t.dfid.clone())),
        )
        .and_where(hook(webhook::Column::CircuitId).eq(t.circuit_id.clone()))
        .and_where(hook(webhook::Column::Enabled).eq(true))
        .to_owned();
    let hooks = Audience::find_by_statement(txn.get_database_backend().build(&query))
        .all(txn)
        .await?;
    let Some(first) = hooks.first() else {
        return Ok(());
    };
    let circuit_name = first.circuit_name.clone();
    let identifiers: Vec<Identifier> = first
        .identifiers
        .clone()
        .and_then(|value| serde_json::from_value(value).ok())
        .unwrap_or_default();
    let pushed_by = first.pushed_by.clone();
    let storage = if settings.include_storage_details {
        storage_record::Entity::find()
            .filter(storage_record::Column::Dfid.eq(t.dfid.clone()))
            .filter(storage_record::Column::CircuitId.eq(t.circuit_id.clone()))
            .order_by_desc(storage_record::Column::CreatedAt)
            .one(txn)
            .await?
            .map(|r| StorageRef {
                adapter_type: r.adapter_type,
                cid: r.cid,
                location: r.location,
            })
    } else {
        None
    };
    let mut deliveries = Vec::with_capacity(hooks.len());
    for hook in hooks {
        let delivery_id = uuid::Uuid::new_v4().to_string();
        let body = if t.kind == TriggerKind::EpcisEvent {
            delivery_document(&t, &hook.webhook_id)
        } else {
            payload(
                &t,
                &delivery_id,
                &circuit_name,
                &identifiers,
                pushed_by.as_deref(),
                storage.as_ref(),
            )
        };
        let delivery = Delivery {
            delivery_id,
            webhook_id: hook.webhook_id,
            circuit_id: t.circuit_id.clone(),
            event_type: t.kind.as_str().to_owned(),
            payload: body.to_string(),
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: t.occurred_at,
            last_status_code: None,
            last_error: None,
            created_at: t.occurred_at,
            updated_at: t.occurred_at,
            delivered_at: None,
        };
        deliveries.push(delivery_model(&delivery));
    }
    held.insert(txn, deliveries).await
}

pub(super) async fn upsert_post_action_settings<C: ConnectionTrait>(
    txn: &C,
    circuit_id: String,
    settings: PostActionSettings,
    at: Timestamp,
) -> Result<()> {
    let names: Vec<&str> = settings.trigger_events.iter().map(|k| k.as_str()).collect();
    post_action_setting::Entity::insert(post_action_setting::ActiveModel {
        circuit_id: Set(circuit_id),
        enabled: Set(settings.enabled),
        trigger_events: Set(to_json(&names)?),
        include_storage_details: Set(settings.include_storage_details),
        epcis_query: Set(settings.epcis_query.as_ref().map(|query| query.as_str().to_owned())),
        updated_at: Set(at),
    })
    .on_conflict(
        OnConflict::column(post_action_setting::Column::CircuitId)
            .update_columns([
                post_action_setting::Column::Enabled,
                post_action_setting::Column::TriggerEvents,
                post_action_setting::Column::IncludeStorageDetails,
                post_action_setting::Column::EpcisQuery,
                post_action_setting::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

pub(super) async fn insert_webhook<C: ConnectionTrait>(txn: &C, w: Webhook) -> Result<()> {
    webhook::Entity::insert(webhook_model(&w)?)
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

pub(super) async fn update_webhook<C: ConnectionTrait>(txn: &C, w: Webhook) -> Result<()> {
    webhook::Entity::update_many()
        .set(webhook::ActiveModel {
            webhook_id: sea_orm::ActiveValue::NotSet,
            circuit_id: sea_orm::ActiveValue::NotSet,
            signing_secret: sea_orm::ActiveValue::NotSet,
            created_at: sea_orm::ActiveValue::NotSet,
            ..webhook_model(&w)?
        })
        .filter(webhook::Column::WebhookId.eq(w.webhook_id))
        .exec(txn)
        .await?;
    Ok(())
}

pub(super) async fn delete_webhook<C: ConnectionTrait>(txn: &C, webhook_id: String) -> Result<()> {
    webhook::Entity::delete_by_id(webhook_id).exec(txn).await?;
    Ok(())
}

pub(super) async fn insert_delivery<C: ConnectionTrait>(txn: &C, d: Delivery) -> Result<()> {
    webhook_delivery::Entity::insert(delivery_model(&d))
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

pub(super) async fn record_attempt<C: ConnectionTrait>(
    txn: &C,
    delivery_id: String,
    attempt: u32,
    result: AttemptResult,
    status: DeliveryStatus,
    next_attempt_at: Timestamp,
    at: Timestamp,
) -> Result<()> {
    let mut held = HeldInserts::new(txn);
    let attempt_row = webhook_attempt::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        delivery_id: Set(delivery_id.clone()),
        attempt: Set(i32::try_from(attempt).unwrap_or(i32::MAX)),
        status_code: Set(result.status_code.map(i32::from)),
        error: Set(result.error.clone()),
        duration_ms: Set(i64::try_from(result.duration.as_millis()).unwrap_or(i64::MAX)),
        at: Set(at),
    };
    held.insert(txn, vec![attempt_row]).await?;
    let mut update = webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Status, Expr::value(status.as_str()))
        .col_expr(
            webhook_delivery::Column::Attempts,
            Expr::value(i32::try_from(attempt).unwrap_or(i32::MAX)),
        )
        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(next_attempt_at))
        .col_expr(
            webhook_delivery::Column::LeaseUntil,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .col_expr(
            webhook_delivery::Column::LastStatusCode,
            Expr::value(result.status_code.map(i32::from)),
        )
        .col_expr(webhook_delivery::Column::LastError, Expr::value(result.error))
        .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(at));
    if status == DeliveryStatus::Delivered {
        update = update.col_expr(webhook_delivery::Column::DeliveredAt, Expr::value(at));
    }
    // On PostgreSQL the attempt and the delivery's new state are one statement.
    let update = update
        .filter(webhook_delivery::Column::DeliveryId.eq(delivery_id))
        .into_query();
    held.write_with(txn, update).await
}

pub(super) async fn insert_storage_record<C: ConnectionTrait>(txn: &C, r: StorageRecord) -> Result<()> {
    let document = String::from_utf8(r.document).map_err(|_| Error::internal("storage document is not UTF-8"))?;
    storage_record::Entity::insert(storage_record::ActiveModel {
        record_id: Set(r.record_id),
        dfid: Set(r.dfid),
        circuit_id: Set(r.circuit_id),
        adapter_type: Set(r.adapter_type),
        cid: Set(r.cid),
        status: Set(r.status.as_str().to_owned()),
        location: Set(r.location),
        triggered_by: Set(r.triggered_by),
        triggered_by_id: Set(r.triggered_by_id),
        created_at: Set(r.created_at),
        stored_at: Set(r.stored_at),
        metadata: Set(r.metadata),
        document: Set(document),
        attempts: Set(0),
        next_attempt_at: Set(r.created_at),
        lease_until: Set(None),
        last_error: Set(None),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

pub(super) async fn record_storage<C: ConnectionTrait>(txn: &C, outcome: StorageOutcome) -> Result<()> {
    let StorageOutcome {
        record_id,
        dfid,
        cid,
        status,
        attempts,
        next_attempt_at,
        error,
        at,
    } = outcome;
    let mut update = storage_record::Entity::update_many()
        .col_expr(storage_record::Column::Status, Expr::value(status.as_str()))
        .col_expr(
            storage_record::Column::Attempts,
            Expr::value(i32::try_from(attempts).unwrap_or(i32::MAX)),
        )
        .col_expr(storage_record::Column::NextAttemptAt, Expr::value(next_attempt_at))
        .col_expr(
            storage_record::Column::LeaseUntil,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .col_expr(storage_record::Column::LastError, Expr::value(error));
    if status == StorageStatus::Stored {
        update = update.col_expr(storage_record::Column::StoredAt, Expr::value(at));
    }
    update
        .filter(storage_record::Column::RecordId.eq(record_id))
        .exec(txn)
        .await?;
    if status == StorageStatus::Stored {
        item::Entity::update_many()
            .col_expr(item::Column::LatestCid, Expr::value(cid))
            .filter(item::Column::Dfid.eq(dfid))
            .exec(txn)
            .await?;
    }
    Ok(())
}
