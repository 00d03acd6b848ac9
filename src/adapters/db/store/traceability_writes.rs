//! The unit of work's statements for items, events and circuits.

use sea_orm::sea_query::{CaseStatement, Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    QueryTrait,
};

use super::held::HeldInserts;
use super::items::{identifier_row, lost_race};
use super::{ROWS_PER_STATEMENT, insert_all};
use crate::adapters::db::entities::{
    activity, canonical_name, circuit, circuit_item, circuit_member, circuit_role, event, item, item_access,
    item_identifier, join_request, local_event, local_item, operation, published_item, user,
};
use crate::domain::audit::Activity;
use crate::domain::circuits::circuit::{Circuit, CircuitStatus};
use crate::domain::circuits::join_request::{JoinRequest, RequestStatus};
use crate::domain::circuits::operation::{Operation, OperationStatus};
use crate::domain::circuits::roles::{CustomRole, Member, MemberRole};
use crate::domain::identity::access::TierPolicy;
use crate::domain::items::event::{Event, LocalEvent};
use crate::domain::items::identifier::Identifier;
use crate::domain::items::item::{Item, ItemStatus, LocalItem};
use crate::domain::{Error, Result, Timestamp};

fn circuit_model(c: &Circuit) -> Result<circuit::ActiveModel> {
    let alias_config =
        serde_json::to_value(&c.alias_config).map_err(|e| Error::internal(format!("alias_config: {e}")))?;
    let public = c
        .public
        .as_ref()
        .map(serde_json::to_value)
        .transpose()
        .map_err(|e| Error::internal(format!("public_settings: {e}")))?;
    Ok(circuit::ActiveModel {
        circuit_id: Set(c.circuit_id.clone()),
        name: Set(c.name.clone()),
        description: Set(c.description.clone()),
        owner_id: Set(c.owner_id.clone()),
        status: Set(c.status.as_str().to_owned()),
        require_approval_for_push: Set(c.settings.require_approval_for_push),
        require_approval_for_pull: Set(c.settings.require_approval_for_pull),
        allow_public_visibility: Set(c.settings.allow_public_visibility),
        alias_config: Set(alias_config),
        adapter_type: Set(c.adapter_type.clone()),
        public_settings: Set(public),
        created_at: Set(c.created_at),
        updated_at: Set(c.updated_at),
    })
}

fn identifiers_json(identifiers: &[crate::domain::items::identifier::Identifier]) -> Result<serde_json::Value> {
    serde_json::to_value(identifiers).map_err(|e| Error::internal(format!("identifiers: {e}")))
}

fn role_model(role: &CustomRole) -> circuit_role::ActiveModel {
    circuit_role::ActiveModel {
        role_id: Set(role.role_id.clone()),
        circuit_id: Set(role.circuit_id.clone()),
        role_name: Set(role.role_name.clone()),
        permissions: Set(serde_json::json!(role.permissions.names())),
        description: Set(role.description.clone()),
        color: Set(role.color.clone()),
        created_at: Set(role.created_at),
    }
}

pub(super) async fn insert_local_items<C: ConnectionTrait>(txn: &C, locals: Vec<LocalItem>) -> Result<()> {
    insert_all(txn, local_item_rows(locals)?).await
}

pub(super) fn local_item_rows(locals: Vec<LocalItem>) -> Result<Vec<local_item::ActiveModel>> {
    locals
        .into_iter()
        .map(|local| {
            Ok(local_item::ActiveModel {
                identifiers: Set(identifiers_json(&local.identifiers)?),
                local_id: Set(local.local_id),
                owner_id: Set(local.owner_id),
                enriched_data: Set(serde_json::Value::Object(local.enriched_data)),
                dfid: Set(local.dfid),
                created_at: Set(local.created_at),
            })
        })
        .collect()
}

/// Guard: maps each `(local_id, dfid)` local item to its DFID; fails with `concurrent_write`
/// when any was mapped meanwhile.
pub(super) async fn map_local_items<C: ConnectionTrait>(txn: &C, mappings: Vec<(String, String)>) -> Result<()> {
    for chunk in mappings.chunks(ROWS_PER_STATEMENT) {
        let mut dfid_of = CaseStatement::new();
        for (local_id, dfid) in chunk {
            dfid_of = dfid_of.case(
                local_item::Column::LocalId.eq(local_id.as_str()),
                Expr::val(dfid.as_str()),
            );
        }
        let mapped = local_item::Entity::update_many()
            .col_expr(local_item::Column::Dfid, dfid_of.into())
            .filter(local_item::Column::LocalId.is_in(chunk.iter().map(|(local_id, _)| local_id.as_str())))
            .filter(local_item::Column::Dfid.is_null())
            .exec(txn)
            .await?;
        if mapped.rows_affected != chunk.len() as u64 {
            return Err(lost_race("the local item"));
        }
    }
    Ok(())
}

pub(super) fn item_rows(items: Vec<Item>) -> Result<Vec<item::ActiveModel>> {
    items
        .into_iter()
        .map(|new| {
            Ok(item::ActiveModel {
                identifiers: Set(identifiers_json(&new.identifiers)?),
                dfid: Set(new.dfid),
                created_by: Set(new.created_by),
                status: Set(new.status.as_str().to_owned()),
                enriched_data: Set(serde_json::Value::Object(new.enriched_data)),
                created_at: Set(new.created_at),
                updated_at: Set(new.updated_at),
                latest_cid: Set(new.latest_cid),
                current_version: sea_orm::NotSet,
            })
        })
        .collect()
}

pub(super) async fn update_item<C: ConnectionTrait>(
    txn: &C,
    dfid: String,
    expected_updated_at: Timestamp,
    identifiers: Vec<Identifier>,
    enriched_data: serde_json::Map<String, serde_json::Value>,
    status: ItemStatus,
    updated_at: Timestamp,
) -> Result<()> {
    let updated = item::Entity::update_many()
        .col_expr(item::Column::Identifiers, Expr::value(identifiers_json(&identifiers)?))
        .col_expr(
            item::Column::EnrichedData,
            Expr::value(serde_json::Value::Object(enriched_data)),
        )
        .col_expr(item::Column::Status, Expr::value(status.as_str()))
        .col_expr(item::Column::UpdatedAt, Expr::value(updated_at))
        .filter(item::Column::Dfid.eq(dfid))
        .filter(item::Column::UpdatedAt.eq(expected_updated_at))
        .exec(txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(lost_race("the item"));
    }
    Ok(())
}

/// Identifiers added to items, each as `(dfid, identifiers, added_by, at)`; canonical ones claim
/// their names (a name claimed meanwhile fails the unit of work).
/// The identifier rows of `additions` (`(dfid, identifiers, added_by, at)`), and the canonical
/// names among them.
pub(super) fn identifier_rows(
    additions: Vec<(String, Vec<Identifier>, String, Timestamp)>,
) -> (Vec<item_identifier::ActiveModel>, Vec<canonical_name::ActiveModel>) {
    let mut rows = Vec::new();
    let mut names = Vec::new();
    for (dfid, identifiers, added_by, at) in &additions {
        for identifier in identifiers {
            rows.push(identifier_row(dfid, identifier, added_by, *at));
            if identifier.is_canonical() {
                names.push(canonical_name::ActiveModel {
                    key: Set(identifier.key.clone()),
                    value: Set(identifier.value.clone()),
                    dfid: Set(dfid.clone()),
                });
            }
        }
    }
    (rows, names)
}

pub(super) fn event_rows(events: Vec<Event>) -> Vec<event::ActiveModel> {
    events
        .into_iter()
        .map(|e| event::ActiveModel {
            event_id: Set(e.event_id),
            dfid: Set(e.dfid),
            event_type: Set(e.event_type),
            visibility: Set(e.visibility.as_str().to_owned()),
            source: Set(e.source),
            metadata: Set(e.metadata),
            occurred_at: Set(e.occurred_at),
            recorded_at: Set(e.recorded_at),
            content_hash: Set(e.content_hash),
        })
        .collect()
}

pub(super) async fn insert_local_event<C: ConnectionTrait>(txn: &C, e: LocalEvent) -> Result<()> {
    local_event::Entity::insert(local_event::ActiveModel {
        local_event_id: Set(e.local_event_id),
        owner_id: Set(e.owner_id),
        event_type: Set(e.event_type),
        visibility: Set(e.visibility.as_str().to_owned()),
        metadata: Set(e.metadata),
        occurred_at: Set(e.occurred_at),
        created_at: Set(e.created_at),
        event_id: Set(e.event_id),
        dfid: Set(e.dfid),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

pub(super) async fn attach_local_event<C: ConnectionTrait>(
    txn: &C,
    local_event_id: String,
    event_id: String,
    dfid: String,
) -> Result<()> {
    let attached = local_event::Entity::update_many()
        .col_expr(local_event::Column::EventId, Expr::value(event_id))
        .col_expr(local_event::Column::Dfid, Expr::value(dfid))
        .filter(local_event::Column::LocalEventId.eq(local_event_id))
        .filter(local_event::Column::EventId.is_null())
        .exec(txn)
        .await?;
    if attached.rows_affected != 1 {
        return Err(lost_race("the local event"));
    }
    Ok(())
}

/// Counts the owner's active circuits with the owner's row locked (PostgreSQL; SQLite's immediate
/// transactions already run one writer at a time), and refuses one past the limit.
pub(super) async fn hold_circuit_limit<C: ConnectionTrait>(txn: &C, owner_id: String, limit: u64) -> Result<()> {
    lock_owner(txn, &owner_id).await?;
    let owned = circuit::Entity::find()
        .filter(circuit::Column::OwnerId.eq(owner_id))
        .filter(circuit::Column::Status.eq(CircuitStatus::Active.as_str()))
        .count(txn)
        .await?;
    TierPolicy::check_count(Some(limit), owned, "circuits")
}

/// Counts the owner's local items created since `since` with the owner's row locked, like
/// `hold_circuit_limit`.
pub(super) async fn hold_item_limit<C: ConnectionTrait>(
    txn: &C,
    owner_id: String,
    since: Timestamp,
    limit: u64,
    adding: u64,
) -> Result<()> {
    lock_owner(txn, &owner_id).await?;
    let created = local_item::Entity::find()
        .filter(local_item::Column::OwnerId.eq(owner_id))
        .filter(local_item::Column::CreatedAt.gte(since))
        .count(txn)
        .await?;
    TierPolicy::check_room(Some(limit), created, adding, "new items per month")
}

/// Serializes an owner's limited creations on PostgreSQL; SQLite's immediate transactions run
/// one writer at a time already.
async fn lock_owner<C: ConnectionTrait>(txn: &C, owner_id: &str) -> Result<()> {
    if txn.get_database_backend() == DbBackend::Postgres {
        user::Entity::find_by_id(owner_id.to_owned())
            .lock_exclusive()
            .one(txn)
            .await?;
    }
    Ok(())
}

pub(super) async fn insert_circuit<C: ConnectionTrait>(txn: &C, c: Circuit) -> Result<()> {
    circuit::Entity::insert(circuit_model(&c)?)
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

pub(super) async fn update_circuit<C: ConnectionTrait>(txn: &C, c: Circuit) -> Result<()> {
    let model = circuit_model(&c)?;
    circuit::Entity::update_many()
        .set(circuit::ActiveModel {
            circuit_id: sea_orm::ActiveValue::NotSet,
            owner_id: sea_orm::ActiveValue::NotSet,
            created_at: sea_orm::ActiveValue::NotSet,
            ..model
        })
        .filter(circuit::Column::CircuitId.eq(c.circuit_id))
        .exec(txn)
        .await?;
    Ok(())
}

pub(super) async fn insert_member<C: ConnectionTrait>(txn: &C, m: Member) -> Result<()> {
    circuit_member::Entity::insert(circuit_member::ActiveModel {
        circuit_id: Set(m.circuit_id),
        user_id: Set(m.user_id),
        username: Set(m.username),
        role: Set(m.role.as_str().to_owned()),
        custom_role: Set(m.custom_role),
        joined_at: Set(m.joined_at),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

pub(super) async fn update_member<C: ConnectionTrait>(
    txn: &C,
    circuit_id: String,
    user_id: String,
    role: MemberRole,
    custom_role: Option<String>,
) -> Result<()> {
    circuit_member::Entity::update_many()
        .col_expr(circuit_member::Column::Role, Expr::value(role.as_str()))
        .col_expr(circuit_member::Column::CustomRole, Expr::value(custom_role))
        .filter(circuit_member::Column::CircuitId.eq(circuit_id))
        .filter(circuit_member::Column::UserId.eq(user_id))
        .exec(txn)
        .await?;
    Ok(())
}

pub(super) async fn remove_member<C: ConnectionTrait>(txn: &C, circuit_id: String, user_id: String) -> Result<()> {
    circuit_member::Entity::delete_many()
        .filter(circuit_member::Column::CircuitId.eq(circuit_id))
        .filter(circuit_member::Column::UserId.eq(user_id))
        .exec(txn)
        .await?;
    Ok(())
}

pub(super) async fn insert_role<C: ConnectionTrait>(txn: &C, role: CustomRole) -> Result<()> {
    circuit_role::Entity::insert(role_model(&role))
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

pub(super) async fn update_role<C: ConnectionTrait>(txn: &C, role: CustomRole) -> Result<()> {
    circuit_role::Entity::update_many()
        .set(circuit_role::ActiveModel {
            role_id: sea_orm::ActiveValue::NotSet,
            circuit_id: sea_orm::ActiveValue::NotSet,
            created_at: sea_orm::ActiveValue::NotSet,
            ..role_model(&role)
        })
        .filter(circuit_role::Column::RoleId.eq(role.role_id))
        .exec(txn)
        .await?;
    Ok(())
}

pub(super) async fn delete_role<C: ConnectionTrait>(txn: &C, role_id: String) -> Result<()> {
    circuit_role::Entity::delete_by_id(role_id).exec(txn).await?;
    Ok(())
}

pub(super) async fn upsert_join_request<C: ConnectionTrait>(txn: &C, r: JoinRequest) -> Result<()> {
    join_request::Entity::insert(join_request::ActiveModel {
        circuit_id: Set(r.circuit_id),
        user_id: Set(r.user_id),
        username: Set(r.username),
        message: Set(r.message),
        status: Set(r.status.as_str().to_owned()),
        created_at: Set(r.created_at),
        decided_by: Set(None),
        decided_at: Set(None),
        reason: Set(None),
    })
    .on_conflict(
        OnConflict::columns([join_request::Column::CircuitId, join_request::Column::UserId])
            .update_columns([
                join_request::Column::Username,
                join_request::Column::Message,
                join_request::Column::Status,
                join_request::Column::CreatedAt,
                join_request::Column::DecidedBy,
                join_request::Column::DecidedAt,
                join_request::Column::Reason,
            ])
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

pub(super) async fn decide_join_request<C: ConnectionTrait>(
    txn: &C,
    circuit_id: String,
    user_id: String,
    status: RequestStatus,
    decided_by: String,
    at: Timestamp,
    reason: Option<String>,
) -> Result<()> {
    let decided = join_request::Entity::update_many()
        .col_expr(join_request::Column::Status, Expr::value(status.as_str()))
        .col_expr(join_request::Column::DecidedBy, Expr::value(decided_by))
        .col_expr(join_request::Column::DecidedAt, Expr::value(at))
        .col_expr(join_request::Column::Reason, Expr::value(reason))
        .filter(join_request::Column::CircuitId.eq(circuit_id))
        .filter(join_request::Column::UserId.eq(user_id))
        .filter(join_request::Column::Status.eq(RequestStatus::Pending.as_str()))
        .exec(txn)
        .await?;
    if decided.rows_affected != 1 {
        return Err(Error::conflict(
            "request_not_pending",
            "this join request was decided meanwhile",
        ));
    }
    Ok(())
}

pub(super) fn operation_rows(operations: Vec<Operation>) -> Vec<operation::ActiveModel> {
    operations
        .into_iter()
        .map(|op| operation::ActiveModel {
            operation_id: Set(op.operation_id),
            circuit_id: Set(op.circuit_id),
            dfid: Set(op.dfid),
            operation_type: Set(op.operation_type.as_str().to_owned()),
            requester_id: Set(op.requester_id),
            status: Set(op.status.as_str().to_owned()),
            created_at: Set(op.created_at),
            decided_by: Set(op.decided_by),
            decided_at: Set(op.decided_at),
            reason: Set(op.reason),
            minted: Set(op.minted),
            local_id: Set(op.local_id),
        })
        .collect()
}

pub(super) async fn decide_operation<C: ConnectionTrait>(
    txn: &C,
    operation_id: String,
    status: OperationStatus,
    decided_by: String,
    at: Timestamp,
    reason: Option<String>,
) -> Result<()> {
    let decided = operation::Entity::update_many()
        .col_expr(operation::Column::Status, Expr::value(status.as_str()))
        .col_expr(operation::Column::DecidedBy, Expr::value(decided_by))
        .col_expr(operation::Column::DecidedAt, Expr::value(at))
        .col_expr(operation::Column::Reason, Expr::value(reason))
        .filter(operation::Column::OperationId.eq(operation_id))
        .filter(operation::Column::Status.eq(OperationStatus::Pending.as_str()))
        .exec(txn)
        .await?;
    if decided.rows_affected != 1 {
        return Err(Error::conflict(
            "operation_not_pending",
            "this operation was decided meanwhile",
        ));
    }
    Ok(())
}

/// Items joining circuits, each as `(circuit_id, dfid, pushed_by, pushed_at)`; one already
/// there stays as it was.
pub(super) async fn add_circuit_items<C: ConnectionTrait>(
    txn: &C,
    added: Vec<(String, String, String, Timestamp)>,
    held: &mut HeldInserts,
) -> Result<()> {
    for chunk in added.chunks(ROWS_PER_STATEMENT) {
        let rows = chunk
            .iter()
            .cloned()
            .map(|(circuit_id, dfid, pushed_by, pushed_at)| circuit_item::ActiveModel {
                circuit_id: Set(circuit_id),
                dfid: Set(dfid),
                pushed_by: Set(pushed_by),
                pushed_at: Set(pushed_at),
            });
        let statement = circuit_item::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([circuit_item::Column::CircuitId, circuit_item::Column::Dfid])
                    .do_nothing()
                    .to_owned(),
            )
            .into_query();
        held.insert_statement(txn, statement, chunk.len()).await?;
    }
    Ok(())
}

pub(super) async fn remove_circuit_item<C: ConnectionTrait>(txn: &C, circuit_id: String, dfid: String) -> Result<()> {
    let removed = circuit_item::Entity::delete_many()
        .filter(circuit_item::Column::CircuitId.eq(circuit_id.clone()))
        .filter(circuit_item::Column::Dfid.eq(dfid.clone()))
        .exec(txn)
        .await?;
    if removed.rows_affected != 1 {
        return Err(Error::not_found("item in this circuit"));
    }
    published_item::Entity::delete_many()
        .filter(published_item::Column::CircuitId.eq(circuit_id.clone()))
        .filter(published_item::Column::Dfid.eq(dfid.clone()))
        .exec(txn)
        .await?;
    item_access::Entity::delete_many()
        .filter(item_access::Column::CircuitId.eq(circuit_id))
        .filter(item_access::Column::Dfid.eq(dfid))
        .exec(txn)
        .await?;
    Ok(())
}

pub(super) async fn grant_item_access<C: ConnectionTrait>(
    txn: &C,
    dfid: String,
    user_id: String,
    circuit_id: String,
    at: Timestamp,
) -> Result<()> {
    item_access::Entity::insert(item_access::ActiveModel {
        dfid: Set(dfid),
        user_id: Set(user_id),
        granted_at: Set(at),
        circuit_id: Set(Some(circuit_id)),
    })
    .on_conflict(
        OnConflict::columns([item_access::Column::Dfid, item_access::Column::UserId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

pub(super) async fn set_published_items<C: ConnectionTrait>(
    txn: &C,
    circuit_id: String,
    dfids: Vec<String>,
    at: Timestamp,
) -> Result<()> {
    published_item::Entity::delete_many()
        .filter(published_item::Column::CircuitId.eq(circuit_id.clone()))
        .exec(txn)
        .await?;
    for dfid in dfids {
        published_item::Entity::insert(published_item::ActiveModel {
            circuit_id: Set(circuit_id.clone()),
            dfid: Set(dfid),
            published_at: Set(at),
        })
        .exec_without_returning(txn)
        .await?;
    }
    Ok(())
}

pub(super) async fn publish_item<C: ConnectionTrait>(
    txn: &C,
    circuit_id: String,
    dfid: String,
    at: Timestamp,
) -> Result<()> {
    published_item::Entity::insert(published_item::ActiveModel {
        circuit_id: Set(circuit_id),
        dfid: Set(dfid),
        published_at: Set(at),
    })
    .on_conflict(
        OnConflict::columns([published_item::Column::CircuitId, published_item::Column::Dfid])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

pub(super) fn activity_rows(activities: Vec<Activity>) -> Vec<activity::ActiveModel> {
    activities
        .into_iter()
        .map(|a| activity::ActiveModel {
            id: Set(a.id),
            activity_type: Set(a.activity_type),
            actor_id: Set(a.actor_id),
            circuit_id: Set(a.circuit_id),
            dfid: Set(a.dfid),
            operation_id: Set(a.operation_id),
            summary: Set(a.summary),
            at: Set(a.at),
        })
        .collect()
}
