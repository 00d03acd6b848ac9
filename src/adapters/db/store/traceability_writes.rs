//! The unit of work's statements for items, events and circuits.

use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::items::{identifier_row, lost_race};
use crate::adapters::db::entities::{
    activity, canonical_name, circuit, circuit_item, circuit_member, circuit_role, event, item, item_access,
    item_identifier, join_request, local_event, local_item, notification, operation, published_item,
};
use crate::domain::changes::Change;
use crate::domain::circuits::circuit::{Circuit, CustomRole, RequestStatus};
use crate::domain::circuits::operation::OperationStatus;
use crate::domain::{Error, Result};

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

pub(super) async fn apply<C: ConnectionTrait>(txn: &C, change: Change) -> Result<()> {
    match change {
        Change::InsertLocalItem(local) => {
            let identifiers = identifiers_json(&local.identifiers)?;
            local_item::Entity::insert(local_item::ActiveModel {
                local_id: Set(local.local_id),
                owner_id: Set(local.owner_id),
                identifiers: Set(identifiers),
                enriched_data: Set(serde_json::Value::Object(local.enriched_data)),
                dfid: Set(local.dfid),
                created_at: Set(local.created_at),
            })
            .exec_without_returning(txn)
            .await?;
        }
        Change::MapLocalItem { local_id, dfid } => {
            let mapped = local_item::Entity::update_many()
                .col_expr(local_item::Column::Dfid, Expr::value(dfid))
                .filter(local_item::Column::LocalId.eq(local_id))
                .filter(local_item::Column::Dfid.is_null())
                .exec(txn)
                .await?;
            if mapped.rows_affected != 1 {
                return Err(lost_race("the local item"));
            }
        }
        Change::InsertItem(new) => {
            item::Entity::insert(item::ActiveModel {
                identifiers: Set(identifiers_json(&new.identifiers)?),
                dfid: Set(new.dfid),
                created_by: Set(new.created_by),
                status: Set(new.status.as_str().to_owned()),
                enriched_data: Set(serde_json::Value::Object(new.enriched_data)),
                created_at: Set(new.created_at),
                updated_at: Set(new.updated_at),
                latest_cid: Set(new.latest_cid),
            })
            .exec_without_returning(txn)
            .await?;
        }
        Change::UpdateItem {
            dfid,
            expected_updated_at,
            identifiers,
            enriched_data,
            status,
            updated_at,
        } => {
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
        }
        Change::AddIdentifiers {
            dfid,
            identifiers,
            added_by,
            at,
        } => {
            for identifier in &identifiers {
                item_identifier::Entity::insert(identifier_row(&dfid, identifier, &added_by, at))
                    .exec_without_returning(txn)
                    .await?;
                if identifier.is_canonical() {
                    canonical_name::Entity::insert(canonical_name::ActiveModel {
                        key: Set(identifier.key.clone()),
                        value: Set(identifier.value.clone()),
                        dfid: Set(dfid.clone()),
                    })
                    .exec_without_returning(txn)
                    .await?;
                }
            }
        }
        Change::InsertEvent(e) => {
            event::Entity::insert(event::ActiveModel {
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
            .exec_without_returning(txn)
            .await?;
        }
        Change::InsertLocalEvent(e) => {
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
        }
        Change::AttachLocalEvent {
            local_event_id,
            event_id,
            dfid,
        } => {
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
        }
        Change::InsertCircuit(c) => {
            circuit::Entity::insert(circuit_model(&c)?)
                .exec_without_returning(txn)
                .await?;
        }
        Change::UpdateCircuit(c) => {
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
        }
        Change::InsertMember(m) => {
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
        }
        Change::UpdateMember {
            circuit_id,
            user_id,
            role,
            custom_role,
        } => {
            circuit_member::Entity::update_many()
                .col_expr(circuit_member::Column::Role, Expr::value(role.as_str()))
                .col_expr(circuit_member::Column::CustomRole, Expr::value(custom_role))
                .filter(circuit_member::Column::CircuitId.eq(circuit_id))
                .filter(circuit_member::Column::UserId.eq(user_id))
                .exec(txn)
                .await?;
        }
        Change::RemoveMember { circuit_id, user_id } => {
            circuit_member::Entity::delete_many()
                .filter(circuit_member::Column::CircuitId.eq(circuit_id))
                .filter(circuit_member::Column::UserId.eq(user_id))
                .exec(txn)
                .await?;
        }
        Change::InsertRole(role) => {
            circuit_role::Entity::insert(role_model(&role))
                .exec_without_returning(txn)
                .await?;
        }
        Change::UpdateRole(role) => {
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
        }
        Change::DeleteRole { role_id } => {
            circuit_role::Entity::delete_by_id(role_id).exec(txn).await?;
        }
        Change::UpsertJoinRequest(r) => {
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
        }
        Change::DecideJoinRequest {
            circuit_id,
            user_id,
            status,
            decided_by,
            at,
            reason,
        } => {
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
        }
        Change::InsertOperation(op) => {
            operation::Entity::insert(operation::ActiveModel {
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
            .exec_without_returning(txn)
            .await?;
        }
        Change::DecideOperation {
            operation_id,
            status,
            decided_by,
            at,
            reason,
        } => {
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
        }
        Change::AddCircuitItem {
            circuit_id,
            dfid,
            pushed_by,
            pushed_at,
        } => {
            circuit_item::Entity::insert(circuit_item::ActiveModel {
                circuit_id: Set(circuit_id),
                dfid: Set(dfid),
                pushed_by: Set(pushed_by),
                pushed_at: Set(pushed_at),
            })
            .on_conflict(
                OnConflict::columns([circuit_item::Column::CircuitId, circuit_item::Column::Dfid])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
        }
        Change::GrantItemAccess { dfid, user_id, at } => {
            item_access::Entity::insert(item_access::ActiveModel {
                dfid: Set(dfid),
                user_id: Set(user_id),
                granted_at: Set(at),
            })
            .on_conflict(
                OnConflict::columns([item_access::Column::Dfid, item_access::Column::UserId])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
        }
        Change::SetPublishedItems { circuit_id, dfids, at } => {
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
        }
        Change::PublishItem { circuit_id, dfid, at } => {
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
        }
        Change::Activity(a) => {
            activity::Entity::insert(activity::ActiveModel {
                id: Set(a.id),
                activity_type: Set(a.activity_type),
                actor_id: Set(a.actor_id),
                circuit_id: Set(a.circuit_id),
                dfid: Set(a.dfid),
                operation_id: Set(a.operation_id),
                summary: Set(a.summary),
                at: Set(a.at),
            })
            .exec_without_returning(txn)
            .await?;
        }
        Change::Notify(n) => {
            notification::Entity::insert(notification::ActiveModel {
                id: Set(n.id),
                user_id: Set(n.user_id),
                notification_type: Set(n.notification_type.as_str().to_owned()),
                title: Set(n.title),
                message: Set(n.message),
                read: Set(n.read),
                created_at: Set(n.created_at),
                data: Set(n.data),
            })
            .exec_without_returning(txn)
            .await?;
        }
        partner => super::partner_writes::apply(txn, partner).await?,
    }
    Ok(())
}
