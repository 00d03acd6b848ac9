use std::collections::{HashMap, HashSet};

use sea_orm::sea_query::{Condition, Expr, ExprTrait as _, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};

use super::items::{circuits_of_user, item_of};
use super::{ROWS_PER_STATEMENT, SqlStore, paged};
use crate::adapters::db::entities::{
    activity, circuit, circuit_item, circuit_member, circuit_role, item, join_request, operation, published_item,
};
use crate::domain::audit::Activity;
use crate::domain::audit::ports::ActivityRepo;
use crate::domain::circuits::circuit::{AliasConfig, Circuit, CircuitItem, CircuitSettings, CircuitStatus};
use crate::domain::circuits::join_request::{JoinRequest, RequestStatus};
use crate::domain::circuits::operation::{Operation, OperationStatus, OperationType};
use crate::domain::circuits::ports::{
    CircuitItemRepo, CircuitRepo, JoinRequestRepo, MemberRepo, OperationRepo, RoleRepo,
};
use crate::domain::circuits::public_page::PublicSettings;
use crate::domain::circuits::roles::{CustomRole, Member, MemberRole, PermissionSet};
use crate::domain::items::item::Item;
use crate::domain::page::{Cursor, Page, PageRequest};
use crate::domain::{Error, Result};

pub(super) fn circuit_of(row: circuit::Model) -> Result<Circuit> {
    let alias_config: AliasConfig =
        serde_json::from_value(row.alias_config).map_err(|e| Error::internal(format!("stored alias_config: {e}")))?;
    let public: Option<PublicSettings> = row
        .public_settings
        .map(serde_json::from_value)
        .transpose()
        .map_err(|e| Error::internal(format!("stored public_settings: {e}")))?;
    Ok(Circuit {
        circuit_id: row.circuit_id,
        name: row.name,
        description: row.description,
        owner_id: row.owner_id,
        status: if row.status == "Inactive" {
            CircuitStatus::Inactive
        } else {
            CircuitStatus::Active
        },
        settings: CircuitSettings {
            require_approval_for_push: row.require_approval_for_push,
            require_approval_for_pull: row.require_approval_for_pull,
            allow_public_visibility: row.allow_public_visibility,
        },
        alias_config,
        adapter_type: row.adapter_type,
        public,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

pub(super) fn role_of(row: circuit_role::Model) -> Result<CustomRole> {
    let names: Vec<String> = serde_json::from_value(row.permissions)
        .map_err(|e| Error::internal(format!("stored role permissions: {e}")))?;
    Ok(CustomRole {
        permissions: PermissionSet::parse(&names)?,
        role_id: row.role_id,
        circuit_id: row.circuit_id,
        role_name: row.role_name,
        description: row.description,
        color: row.color,
        created_at: row.created_at,
    })
}

/// Members with their custom roles' permissions resolved (one query for all the roles).
pub(super) async fn members_with_roles<C: ConnectionTrait>(
    c: &C,
    rows: Vec<circuit_member::Model>,
) -> Result<Vec<Member>> {
    let role_ids: Vec<String> = rows.iter().filter_map(|r| r.custom_role.clone()).collect();
    let roles: HashMap<String, PermissionSet> = if role_ids.is_empty() {
        HashMap::new()
    } else {
        circuit_role::Entity::find()
            .filter(circuit_role::Column::RoleId.is_in(role_ids))
            .all(c)
            .await?
            .into_iter()
            .map(|row| role_of(row).map(|role| (role.role_id, role.permissions)))
            .collect::<Result<_>>()?
    };
    rows.into_iter()
        .map(|row| {
            Ok(Member {
                role: row.role.parse::<MemberRole>()?,
                custom_permissions: row.custom_role.as_ref().and_then(|id| roles.get(id).copied()),
                circuit_id: row.circuit_id,
                user_id: row.user_id,
                username: row.username,
                custom_role: row.custom_role,
                joined_at: row.joined_at,
            })
        })
        .collect()
}

fn request_of(row: join_request::Model) -> JoinRequest {
    JoinRequest {
        status: match row.status.as_str() {
            "Approved" => RequestStatus::Approved,
            "Rejected" => RequestStatus::Rejected,
            _ => RequestStatus::Pending,
        },
        circuit_id: row.circuit_id,
        user_id: row.user_id,
        username: row.username,
        message: row.message,
        created_at: row.created_at,
        decided_by: row.decided_by,
        decided_at: row.decided_at,
        reason: row.reason,
    }
}

pub(super) fn operation_of(row: operation::Model) -> Result<Operation> {
    Ok(Operation {
        operation_type: match row.operation_type.as_str() {
            "Push" => OperationType::Push,
            "Pull" => OperationType::Pull,
            other => return Err(Error::internal(format!("stored operation type {other:?}"))),
        },
        status: match row.status.as_str() {
            "Pending" => OperationStatus::Pending,
            "Completed" => OperationStatus::Completed,
            "Rejected" => OperationStatus::Rejected,
            "Failed" => OperationStatus::Failed,
            other => return Err(Error::internal(format!("stored operation status {other:?}"))),
        },
        operation_id: row.operation_id,
        circuit_id: row.circuit_id,
        dfid: row.dfid,
        requester_id: row.requester_id,
        created_at: row.created_at,
        decided_by: row.decided_by,
        decided_at: row.decided_at,
        reason: row.reason,
        minted: row.minted,
        local_id: row.local_id,
    })
}

fn activity_of(row: activity::Model) -> Activity {
    Activity {
        id: row.id,
        activity_type: row.activity_type,
        actor_id: row.actor_id,
        circuit_id: row.circuit_id,
        dfid: row.dfid,
        operation_id: row.operation_id,
        summary: row.summary,
        at: row.at,
    }
}

/// The items the circuit's public page may show: those it publishes and still holds.
fn shown(circuit_id: &str) -> Select<item::Entity> {
    let mut select = item::Entity::find();
    QuerySelect::query(&mut select)
        .inner_join(
            published_item::Entity,
            item_in_circuit(
                published_item::Entity,
                published_item::Column::CircuitId,
                published_item::Column::Dfid,
                circuit_id,
            ),
        )
        .inner_join(
            circuit_item::Entity,
            item_in_circuit(
                circuit_item::Entity,
                circuit_item::Column::CircuitId,
                circuit_item::Column::Dfid,
                circuit_id,
            ),
        );
    select
}

/// Joins a table keyed by circuit and DFID to the selected item's row, for one circuit.
fn item_in_circuit<E: EntityTrait, C: ColumnTrait>(table: E, circuit: C, dfid: C, circuit_id: &str) -> Condition {
    Condition::all()
        .add(Expr::col((table, dfid)).equals((item::Entity, item::Column::Dfid)))
        .add(Expr::col((table, circuit)).eq(circuit_id))
}

#[async_trait::async_trait]
impl CircuitRepo for SqlStore {
    async fn circuit(&self, circuit_id: &str) -> Result<Option<Circuit>> {
        let row = self
            .db
            .read("circuit", |c| {
                Box::pin(async move { Ok(circuit::Entity::find_by_id(circuit_id).one(c).await?) })
            })
            .await?;
        row.map(circuit_of).transpose()
    }

    async fn circuits_of(&self, user_id: &str, page: &PageRequest) -> Result<Page<Circuit>> {
        let select = circuit::Entity::find().filter(circuit::Column::CircuitId.in_subquery(circuits_of_user(user_id)));
        let select = paged(select, circuit::Column::CreatedAt, circuit::Column::CircuitId, page);
        let rows = self
            .db
            .read("circuits_of", |c| Box::pin(async move { Ok(select.all(c).await?) }))
            .await?;
        let circuits = rows.into_iter().map(circuit_of).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(circuits, page, |c| Cursor {
            at: c.created_at,
            id: c.circuit_id.clone(),
        }))
    }

    async fn count_owned_circuits(&self, owner_id: &str) -> Result<u64> {
        self.db
            .read("count_owned_circuits", |c| {
                Box::pin(async move {
                    Ok(circuit::Entity::find()
                        .filter(circuit::Column::OwnerId.eq(owner_id))
                        .filter(circuit::Column::Status.eq(CircuitStatus::Active.as_str()))
                        .count(c)
                        .await?)
                })
            })
            .await
    }

    async fn circuit_counts(&self, circuit_id: &str) -> Result<(u64, u64)> {
        self.db
            .read("circuit_counts", |c| {
                Box::pin(async move {
                    let members = circuit_member::Entity::find()
                        .filter(circuit_member::Column::CircuitId.eq(circuit_id))
                        .count(c)
                        .await?;
                    let items = circuit_item::Entity::find()
                        .filter(circuit_item::Column::CircuitId.eq(circuit_id))
                        .count(c)
                        .await?;
                    Ok((members, items))
                })
            })
            .await
    }
}

#[async_trait::async_trait]
impl MemberRepo for SqlStore {
    async fn member(&self, circuit_id: &str, user_id: &str) -> Result<Option<Member>> {
        let members = self
            .db
            .read("member", |c| {
                Box::pin(async move {
                    let rows = circuit_member::Entity::find_by_id((circuit_id.to_owned(), user_id.to_owned()))
                        .all(c)
                        .await?;
                    members_with_roles(c, rows).await
                })
            })
            .await?;
        Ok(members.into_iter().next())
    }

    async fn membership(&self, circuit_id: &str, user_id: &str) -> Result<Option<(Circuit, Member)>> {
        let found = self
            .db
            .read("membership", |c| {
                Box::pin(async move {
                    let row = circuit_member::Entity::find_by_id((circuit_id.to_owned(), user_id.to_owned()))
                        .find_also_related(circuit::Entity)
                        .one(c)
                        .await?;
                    let Some((member, Some(circuit))) = row else {
                        return Ok(None);
                    };
                    let member = members_with_roles(c, vec![member]).await?.pop();
                    Ok(member.map(|member| (circuit, member)))
                })
            })
            .await?;
        found
            .map(|(circuit, member)| Ok((circuit_of(circuit)?, member)))
            .transpose()
    }

    async fn members(&self, circuit_id: &str, page: &PageRequest) -> Result<Page<Member>> {
        let select = circuit_member::Entity::find().filter(circuit_member::Column::CircuitId.eq(circuit_id));
        let select = paged(
            select,
            circuit_member::Column::JoinedAt,
            circuit_member::Column::UserId,
            page,
        );
        let members = self
            .db
            .read("members", |c| {
                Box::pin(async move {
                    let rows = select.all(c).await?;
                    members_with_roles(c, rows).await
                })
            })
            .await?;
        Ok(Page::from_rows(members, page, |m| Cursor {
            at: m.joined_at,
            id: m.user_id.clone(),
        }))
    }

    async fn privileged_members(&self, circuit_id: &str) -> Result<Vec<Member>> {
        self.db
            .read("privileged_members", |c| {
                Box::pin(async move {
                    let rows = circuit_member::Entity::find()
                        .filter(circuit_member::Column::CircuitId.eq(circuit_id))
                        .filter(
                            Condition::any()
                                .add(circuit_member::Column::Role.is_in(["Owner", "Admin"]))
                                .add(circuit_member::Column::CustomRole.is_not_null()),
                        )
                        .limit(1000)
                        .all(c)
                        .await?;
                    members_with_roles(c, rows).await
                })
            })
            .await
    }
}

#[async_trait::async_trait]
impl RoleRepo for SqlStore {
    async fn role(&self, role_id: &str) -> Result<Option<CustomRole>> {
        let row = self
            .db
            .read("role", |c| {
                Box::pin(async move { Ok(circuit_role::Entity::find_by_id(role_id).one(c).await?) })
            })
            .await?;
        row.map(role_of).transpose()
    }

    async fn roles(&self, circuit_id: &str, page: &PageRequest) -> Result<Page<CustomRole>> {
        let select = circuit_role::Entity::find().filter(circuit_role::Column::CircuitId.eq(circuit_id));
        let select = paged(
            select,
            circuit_role::Column::CreatedAt,
            circuit_role::Column::RoleId,
            page,
        );
        let rows = self
            .db
            .read("roles", |c| Box::pin(async move { Ok(select.all(c).await?) }))
            .await?;
        let roles = rows.into_iter().map(role_of).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(roles, page, |r| Cursor {
            at: r.created_at,
            id: r.role_id.clone(),
        }))
    }

    async fn role_in_use(&self, role_id: &str) -> Result<bool> {
        self.db
            .read("role_in_use", |c| {
                Box::pin(async move {
                    Ok(circuit_member::Entity::find()
                        .filter(circuit_member::Column::CustomRole.eq(role_id))
                        .one(c)
                        .await?
                        .is_some())
                })
            })
            .await
    }
}

#[async_trait::async_trait]
impl JoinRequestRepo for SqlStore {
    async fn join_request(&self, circuit_id: &str, user_id: &str) -> Result<Option<JoinRequest>> {
        let row = self
            .db
            .read("join_request", |c| {
                Box::pin(async move {
                    Ok(
                        join_request::Entity::find_by_id((circuit_id.to_owned(), user_id.to_owned()))
                            .one(c)
                            .await?,
                    )
                })
            })
            .await?;
        Ok(row.map(request_of))
    }

    async fn pending_join_requests(&self, circuit_id: &str, page: &PageRequest) -> Result<Page<JoinRequest>> {
        let select = join_request::Entity::find()
            .filter(join_request::Column::CircuitId.eq(circuit_id))
            .filter(join_request::Column::Status.eq(RequestStatus::Pending.as_str()));
        let select = paged(
            select,
            join_request::Column::CreatedAt,
            join_request::Column::UserId,
            page,
        );
        let rows = self
            .db
            .read("join_requests", |c| Box::pin(async move { Ok(select.all(c).await?) }))
            .await?;
        Ok(Page::from_rows(rows.into_iter().map(request_of).collect(), page, |r| {
            Cursor {
                at: r.created_at,
                id: r.user_id.clone(),
            }
        }))
    }
}

#[async_trait::async_trait]
impl OperationRepo for SqlStore {
    async fn operation(&self, operation_id: &str) -> Result<Option<Operation>> {
        let row = self
            .db
            .read("operation", |c| {
                Box::pin(async move { Ok(operation::Entity::find_by_id(operation_id).one(c).await?) })
            })
            .await?;
        row.map(operation_of).transpose()
    }

    async fn operations(
        &self,
        circuit_id: &str,
        status: Option<OperationStatus>,
        page: &PageRequest,
    ) -> Result<Page<Operation>> {
        let mut select = operation::Entity::find().filter(operation::Column::CircuitId.eq(circuit_id));
        if let Some(status) = status {
            select = select.filter(operation::Column::Status.eq(status.as_str()));
        }
        let select = paged(
            select,
            operation::Column::CreatedAt,
            operation::Column::OperationId,
            page,
        );
        let rows = self
            .db
            .read("operations", |c| Box::pin(async move { Ok(select.all(c).await?) }))
            .await?;
        let operations = rows.into_iter().map(operation_of).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(operations, page, |o| Cursor {
            at: o.created_at,
            id: o.operation_id.clone(),
        }))
    }

    async fn open_operation(
        &self,
        circuit_id: &str,
        dfid: &str,
        operation_type: OperationType,
        requester_id: Option<&str>,
    ) -> Result<Option<Operation>> {
        let mut select = operation::Entity::find()
            .filter(operation::Column::CircuitId.eq(circuit_id))
            .filter(operation::Column::Dfid.eq(dfid))
            .filter(operation::Column::OperationType.eq(operation_type.as_str()))
            .filter(
                operation::Column::Status
                    .is_in([OperationStatus::Pending.as_str(), OperationStatus::Completed.as_str()]),
            );
        if let Some(requester_id) = requester_id {
            select = select.filter(operation::Column::RequesterId.eq(requester_id));
        }
        let row = self
            .db
            .read("open_operation", |c| {
                Box::pin(async move { Ok(select.order_by_desc(operation::Column::CreatedAt).one(c).await?) })
            })
            .await?;
        row.map(operation_of).transpose()
    }

    async fn open_pushes(&self, circuit_id: &str, dfids: &[String]) -> Result<HashSet<String>> {
        let mut open = HashSet::new();
        // Chunks keep each statement under SQLite's bound-parameter limit.
        for chunk in dfids.chunks(ROWS_PER_STATEMENT) {
            let held = Query::select()
                .expr(Expr::val(1))
                .from(circuit_item::Entity)
                .and_where(
                    Expr::col((circuit_item::Entity, circuit_item::Column::CircuitId))
                        .equals((operation::Entity, operation::Column::CircuitId)),
                )
                .and_where(
                    Expr::col((circuit_item::Entity, circuit_item::Column::Dfid))
                        .equals((operation::Entity, operation::Column::Dfid)),
                )
                .to_owned();
            let select = operation::Entity::find()
                .select_only()
                .column(operation::Column::Dfid)
                .distinct()
                .filter(operation::Column::CircuitId.eq(circuit_id))
                .filter(operation::Column::OperationType.eq(OperationType::Push.as_str()))
                .filter(operation::Column::Dfid.is_in(chunk.iter().map(String::as_str)))
                .filter(
                    Condition::any()
                        .add(operation::Column::Status.eq(OperationStatus::Pending.as_str()))
                        .add(
                            Condition::all()
                                .add(operation::Column::Status.eq(OperationStatus::Completed.as_str()))
                                .add(Expr::exists(held)),
                        ),
                )
                .into_tuple::<String>();
            let rows = self
                .db
                .read("open_pushes", |c| Box::pin(async move { Ok(select.all(c).await?) }))
                .await?;
            open.extend(rows);
        }
        Ok(open)
    }
}

#[async_trait::async_trait]
impl CircuitItemRepo for SqlStore {
    async fn circuit_items(&self, circuit_id: &str, page: &PageRequest) -> Result<Page<CircuitItem>> {
        let select = circuit_item::Entity::find().filter(circuit_item::Column::CircuitId.eq(circuit_id));
        let select = paged(select, circuit_item::Column::PushedAt, circuit_item::Column::Dfid, page);
        let rows = self
            .db
            .read("circuit_items", |c| Box::pin(async move { Ok(select.all(c).await?) }))
            .await?;
        let items = rows
            .into_iter()
            .map(|r| CircuitItem {
                circuit_id: r.circuit_id,
                dfid: r.dfid,
                pushed_by: r.pushed_by,
                pushed_at: r.pushed_at,
            })
            .collect();
        Ok(Page::from_rows(items, page, |i| Cursor {
            at: i.pushed_at,
            id: i.dfid.clone(),
        }))
    }

    async fn holds_item(&self, circuit_id: &str, dfid: &str) -> Result<bool> {
        self.db
            .read("holds_item", |c| {
                Box::pin(async move {
                    Ok(
                        circuit_item::Entity::find_by_id((circuit_id.to_owned(), dfid.to_owned()))
                            .one(c)
                            .await?
                            .is_some(),
                    )
                })
            })
            .await
    }

    async fn shown_item(&self, circuit_id: &str, dfid: &str) -> Result<Option<Item>> {
        let select = shown(circuit_id).filter(item::Column::Dfid.eq(dfid));
        let row = self
            .db
            .read("shown_item", |c| Box::pin(async move { Ok(select.one(c).await?) }))
            .await?;
        row.map(item_of).transpose()
    }

    async fn shown_items(&self, circuit_id: &str, limit: u32) -> Result<Vec<Item>> {
        let select = shown(circuit_id)
            .order_by_asc(Expr::col((published_item::Entity, published_item::Column::PublishedAt)))
            .order_by_asc(Expr::col((item::Entity, item::Column::Dfid)))
            .limit(u64::from(limit));
        let rows = self
            .db
            .read("shown_items", |c| Box::pin(async move { Ok(select.all(c).await?) }))
            .await?;
        rows.into_iter().map(item_of).collect()
    }

    async fn published_items(&self, circuit_id: &str, limit: u32) -> Result<Vec<String>> {
        let rows = self
            .db
            .read("published_items", |c| {
                Box::pin(async move {
                    Ok(published_item::Entity::find()
                        .filter(published_item::Column::CircuitId.eq(circuit_id))
                        .order_by_asc(published_item::Column::PublishedAt)
                        .order_by_asc(published_item::Column::Dfid)
                        .limit(u64::from(limit))
                        .all(c)
                        .await?)
                })
            })
            .await?;
        Ok(rows.into_iter().map(|r| r.dfid).collect())
    }

    async fn publishing_circuits(&self, dfid: &str, limit: u32) -> Result<Vec<String>> {
        let rows = self
            .db
            .read("publishing_circuits", |c| {
                Box::pin(async move {
                    Ok(published_item::Entity::find()
                        .filter(published_item::Column::Dfid.eq(dfid))
                        .order_by_asc(published_item::Column::PublishedAt)
                        .order_by_asc(published_item::Column::CircuitId)
                        .limit(u64::from(limit))
                        .all(c)
                        .await?)
                })
            })
            .await?;
        Ok(rows.into_iter().map(|r| r.circuit_id).collect())
    }
}

#[async_trait::async_trait]
impl ActivityRepo for SqlStore {
    async fn activities(&self, user_id: &str, circuit_id: Option<&str>, page: &PageRequest) -> Result<Page<Activity>> {
        let select = match circuit_id {
            Some(circuit_id) => activity::Entity::find().filter(activity::Column::CircuitId.eq(circuit_id)),
            None => activity::Entity::find().filter(
                Condition::any()
                    .add(activity::Column::ActorId.eq(user_id))
                    .add(activity::Column::CircuitId.in_subquery(circuits_of_user(user_id))),
            ),
        };
        let select = paged(select, activity::Column::At, activity::Column::Id, page);
        let rows = self
            .db
            .read("activities", |c| Box::pin(async move { Ok(select.all(c).await?) }))
            .await?;
        Ok(Page::from_rows(
            rows.into_iter().map(activity_of).collect(),
            page,
            |a| Cursor {
                at: a.at,
                id: a.id.clone(),
            },
        ))
    }
}
