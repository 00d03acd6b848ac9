use sea_orm::sea_query::{Condition, Expr, ExprTrait as _, JoinType, OnConflict, Order, Query, SelectStatement};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, FromQueryResult, QueryFilter};
use std::collections::HashMap;

use super::circuits::members_with_roles;
use super::{ROWS_PER_STATEMENT, SqlStore, paged};
use crate::adapters::db::entities::{
    canonical_name, circuit_item, circuit_member, dfid_counter, item, item_access, item_identifier, local_item,
};
use crate::domain::items::identifier::{IdType, Identifier, Scope};
use crate::domain::items::item::{Item, ItemStatus, LocalItem};
use crate::domain::items::ports::{ItemFilter, ItemRepo, ViewerFacts};
use crate::domain::page::{Cursor, Page, PageRequest};
use crate::domain::{Error, Result, Timestamp};

fn json_object(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    match value {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}

pub(super) fn local_item_of(row: local_item::Model) -> Result<LocalItem> {
    Ok(LocalItem {
        identifiers: serde_json::from_value(row.identifiers)
            .map_err(|e| Error::internal(format!("stored local item identifiers: {e}")))?,
        enriched_data: json_object(row.enriched_data),
        local_id: row.local_id,
        owner_id: row.owner_id,
        dfid: row.dfid,
        created_at: row.created_at,
    })
}

pub(super) fn identifier_row(
    dfid: &str,
    identifier: &Identifier,
    added_by: &str,
    at: Timestamp,
) -> item_identifier::ActiveModel {
    item_identifier::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        dfid: Set(dfid.to_owned()),
        namespace: Set(identifier.namespace.as_str().to_owned()),
        key: Set(identifier.key.clone()),
        value: Set(identifier.value.clone()),
        id_type: Set(match identifier.id_type {
            IdType::Canonical => "Canonical".to_owned(),
            IdType::Contextual => "Contextual".to_owned(),
        }),
        scope: Set(identifier.scope.map(|s| {
            match s {
                Scope::User => "user",
                Scope::Organization => "organization",
                Scope::Circuit => "circuit",
            }
            .to_owned()
        })),
        verified: Set(identifier.verified),
        added_by: Set(added_by.to_owned()),
        created_at: Set(at),
    }
}

pub(super) fn item_of(row: item::Model) -> Result<Item> {
    Ok(Item {
        status: ItemStatus::from_text(&row.status)
            .ok_or_else(|| Error::internal(format!("stored item status {:?}", row.status)))?,
        identifiers: serde_json::from_value(row.identifiers)
            .map_err(|e| Error::internal(format!("stored item identifiers: {e}")))?,
        enriched_data: json_object(row.enriched_data),
        dfid: row.dfid,
        created_by: row.created_by,
        created_at: row.created_at,
        updated_at: row.updated_at,
        latest_cid: row.latest_cid,
    })
}

/// An item row with how one viewer relates to it: one row per circuit holding the item (the
/// `member_*` columns are set where the viewer belongs), or one row when no circuit holds it.
#[derive(FromQueryResult)]
struct ItemForViewer {
    dfid: String,
    created_by: String,
    status: String,
    identifiers: serde_json::Value,
    enriched_data: serde_json::Value,
    created_at: Timestamp,
    updated_at: Timestamp,
    latest_cid: Option<String>,
    /// The viewer's id when the item was pulled to them.
    pulled_by: Option<String>,
    viewer_local_id: Option<String>,
    member_circuit_id: Option<String>,
    member_username: Option<String>,
    member_role: Option<String>,
    member_custom_role: Option<String>,
    member_joined_at: Option<Timestamp>,
}

/// Circuits the user belongs to.
pub(super) fn circuits_of_user(user_id: &str) -> SelectStatement {
    Query::select()
        .column(circuit_member::Column::CircuitId)
        .from(circuit_member::Entity)
        .and_where(circuit_member::Column::UserId.eq(user_id))
        .to_owned()
}

/// Items in circuits the user belongs to.
pub(super) fn items_in_users_circuits(user_id: &str) -> SelectStatement {
    Query::select()
        .column(circuit_item::Column::Dfid)
        .from(circuit_item::Entity)
        .and_where(circuit_item::Column::CircuitId.in_subquery(circuits_of_user(user_id)))
        .to_owned()
}

/// Items pulled to the user.
pub(super) fn items_pulled_by(user_id: &str) -> SelectStatement {
    Query::select()
        .column(item_access::Column::Dfid)
        .from(item_access::Entity)
        .and_where(item_access::Column::UserId.eq(user_id))
        .to_owned()
}

/// Items the user owns.
pub(super) fn items_owned_by(user_id: &str) -> SelectStatement {
    Query::select()
        .column(item::Column::Dfid)
        .from(item::Entity)
        .and_where(item::Column::CreatedBy.eq(user_id))
        .to_owned()
}

#[async_trait::async_trait]
impl ItemRepo for SqlStore {
    async fn next_dfid_sequences(&self, day: chrono::NaiveDate, count: u64) -> Result<u64> {
        let day = day.format("%Y%m%d").to_string();
        let count = i64::try_from(count).map_err(|_| Error::internal("too many DFIDs at once"))?;
        let row = self
            .db
            .write_one("next_dfid_sequences", move |txn| {
                Box::pin(async move {
                    // INSERT ... ON CONFLICT DO UPDATE ... RETURNING: one atomic increment; the
                    // counter holds the last number reserved. Its own statement, not part of the
                    // push's transaction: there its row lock would serialise every push of the day.
                    let row = dfid_counter::Entity::insert(dfid_counter::ActiveModel {
                        day: Set(day),
                        value: Set(count),
                    })
                    .on_conflict(
                        OnConflict::column(dfid_counter::Column::Day)
                            .value(
                                dfid_counter::Column::Value,
                                Expr::col((dfid_counter::Entity, dfid_counter::Column::Value)).add(count),
                            )
                            .to_owned(),
                    )
                    .exec_with_returning(txn)
                    .await?;
                    Ok(row)
                })
            })
            .await?;
        u64::try_from(row.value - count + 1).map_err(|_| Error::internal("negative DFID counter"))
    }

    async fn local_item(&self, local_id: &str) -> Result<Option<LocalItem>> {
        let row = self
            .db
            .read("local_item", |c| {
                Box::pin(async move { Ok(local_item::Entity::find_by_id(local_id).one(c).await?) })
            })
            .await?;
        row.map(local_item_of).transpose()
    }

    async fn local_items_named(&self, owner_id: &str, local_ids: &[String]) -> Result<Vec<LocalItem>> {
        let mut items = Vec::with_capacity(local_ids.len());
        // Chunks keep each statement under SQLite's bound-parameter limit.
        for chunk in local_ids.chunks(ROWS_PER_STATEMENT) {
            let select = local_item::Entity::find()
                .filter(local_item::Column::OwnerId.eq(owner_id))
                .filter(local_item::Column::LocalId.is_in(chunk.iter().map(String::as_str)));
            let rows = self
                .db
                .read("local_items_named", |c| {
                    Box::pin(async move { Ok(select.all(c).await?) })
                })
                .await?;
            for row in rows {
                items.push(local_item_of(row)?);
            }
        }
        Ok(items)
    }

    async fn local_items(&self, owner_id: &str, page: &PageRequest) -> Result<Page<LocalItem>> {
        let select = paged(
            local_item::Entity::find().filter(local_item::Column::OwnerId.eq(owner_id)),
            local_item::Column::CreatedAt,
            local_item::Column::LocalId,
            page,
        );
        let rows = self
            .db
            .read("local_items", |c| Box::pin(async move { Ok(select.all(c).await?) }))
            .await?;
        let items = rows.into_iter().map(local_item_of).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(items, page, |i| Cursor {
            at: i.created_at,
            id: i.local_id.clone(),
        }))
    }

    async fn item(&self, dfid: &str) -> Result<Option<Item>> {
        let row = self
            .db
            .read("item", |c| {
                Box::pin(async move { Ok(item::Entity::find_by_id(dfid).one(c).await?) })
            })
            .await?;
        row.map(item_of).transpose()
    }

    async fn items_for(&self, dfids: &[String], user_id: &str) -> Result<Vec<(Item, ViewerFacts)>> {
        let mut found = Vec::with_capacity(dfids.len());
        // Chunks keep each statement under SQLite's bound-parameter limit (a capture names up
        // to tens of thousands of items).
        for chunk in dfids.chunks(ROWS_PER_STATEMENT) {
            found.extend(self.items_for_chunk(chunk, user_id).await?);
        }
        Ok(found)
    }

    async fn canonical_owners(&self, names: &[(String, String)]) -> Result<Vec<(String, String, String)>> {
        let mut owners = Vec::new();
        // Chunks keep each statement under SQLite's bound-parameter limit.
        for chunk in names.chunks(ROWS_PER_STATEMENT) {
            // A row-value IN, not a chain of ORs: the query builder recurses once per OR.
            let condition = Expr::tuple([
                Expr::col(canonical_name::Column::Key),
                Expr::col(canonical_name::Column::Value),
            ])
            .in_tuples(chunk.iter().cloned());
            let rows = self
                .db
                .read("canonical_owners", |c| {
                    Box::pin(async move { Ok(canonical_name::Entity::find().filter(condition).all(c).await?) })
                })
                .await?;
            owners.extend(rows.into_iter().map(|r| (r.key, r.value, r.dfid)));
        }
        Ok(owners)
    }

    async fn visible_items(&self, user_id: &str, filter: &ItemFilter, page: &PageRequest) -> Result<Page<Item>> {
        let mut select = item::Entity::find().filter(
            Condition::any()
                .add(item::Column::CreatedBy.eq(user_id))
                .add(item::Column::Dfid.in_subquery(items_in_users_circuits(user_id)))
                .add(item::Column::Dfid.in_subquery(items_pulled_by(user_id))),
        );
        if let Some(circuit_id) = &filter.circuit_id {
            let in_circuit = Query::select()
                .column(circuit_item::Column::Dfid)
                .from(circuit_item::Entity)
                .and_where(circuit_item::Column::CircuitId.eq(circuit_id.as_str()))
                .to_owned();
            select = select.filter(item::Column::Dfid.in_subquery(in_circuit));
        }
        if filter.key.is_some() || filter.namespace.is_some() {
            let mut matching = Query::select();
            matching
                .column(item_identifier::Column::Dfid)
                .from(item_identifier::Entity);
            if let Some(key) = &filter.key {
                matching.and_where(item_identifier::Column::Key.eq(key.as_str()));
            }
            if let Some(value) = &filter.value {
                matching.and_where(item_identifier::Column::Value.eq(value.as_str()));
            }
            if let Some(namespace) = filter.namespace {
                matching.and_where(item_identifier::Column::Namespace.eq(namespace.as_str()));
            }
            select = select.filter(item::Column::Dfid.in_subquery(matching.to_owned()));
        }
        let select = paged(select, item::Column::CreatedAt, item::Column::Dfid, page);
        let rows = self
            .db
            .read("visible_items", |c| Box::pin(async move { Ok(select.all(c).await?) }))
            .await?;
        let items = rows.into_iter().map(item_of).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(items, page, |i| Cursor {
            at: i.created_at,
            id: i.dfid.clone(),
        }))
    }
}

impl SqlStore {
    /// `items_for` in one statement (and one for the roles of the viewer's memberships).
    async fn items_for_chunk(&self, dfids: &[String], user_id: &str) -> Result<Vec<(Item, ViewerFacts)>> {
        let pulled = Query::select()
            .column(item_access::Column::UserId)
            .from(item_access::Entity)
            .and_where(
                Expr::col((item_access::Entity, item_access::Column::Dfid)).equals((item::Entity, item::Column::Dfid)),
            )
            .and_where(item_access::Column::UserId.eq(user_id))
            .to_owned();
        let local = Query::select()
            .column(local_item::Column::LocalId)
            .from(local_item::Entity)
            .and_where(
                Expr::col((local_item::Entity, local_item::Column::Dfid)).equals((item::Entity, item::Column::Dfid)),
            )
            .and_where(local_item::Column::OwnerId.eq(user_id))
            .order_by(local_item::Column::CreatedAt, Order::Asc)
            .limit(1)
            .to_owned();
        let member = |column: circuit_member::Column| Expr::col((circuit_member::Entity, column));
        let statement = Query::select()
            .columns(
                [
                    item::Column::Dfid,
                    item::Column::CreatedBy,
                    item::Column::Status,
                    item::Column::Identifiers,
                    item::Column::EnrichedData,
                    item::Column::CreatedAt,
                    item::Column::UpdatedAt,
                    item::Column::LatestCid,
                ]
                .map(|column| (item::Entity, column)),
            )
            .expr_as(Expr::SubQuery(None, Box::new(pulled.into())), "pulled_by")
            .expr_as(Expr::SubQuery(None, Box::new(local.into())), "viewer_local_id")
            .expr_as(member(circuit_member::Column::CircuitId), "member_circuit_id")
            .expr_as(member(circuit_member::Column::Username), "member_username")
            .expr_as(member(circuit_member::Column::Role), "member_role")
            .expr_as(member(circuit_member::Column::CustomRole), "member_custom_role")
            .expr_as(member(circuit_member::Column::JoinedAt), "member_joined_at")
            .from(item::Entity)
            .left_join(
                circuit_item::Entity,
                Expr::col((circuit_item::Entity, circuit_item::Column::Dfid))
                    .equals((item::Entity, item::Column::Dfid)),
            )
            .join(
                JoinType::LeftJoin,
                circuit_member::Entity,
                Condition::all()
                    .add(
                        member(circuit_member::Column::CircuitId)
                            .equals((circuit_item::Entity, circuit_item::Column::CircuitId)),
                    )
                    .add(member(circuit_member::Column::UserId).eq(user_id)),
            )
            .and_where(Expr::col((item::Entity, item::Column::Dfid)).is_in(dfids.iter().cloned()))
            .to_owned();
        let found = self
            .db
            .read("items_for", |c| {
                Box::pin(async move {
                    let rows = ItemForViewer::find_by_statement(c.get_database_backend().build(&statement))
                        .all(c)
                        .await?;
                    let member_rows: Vec<circuit_member::Model> = rows
                        .iter()
                        .filter_map(|row| {
                            Some(circuit_member::Model {
                                circuit_id: row.member_circuit_id.clone()?,
                                user_id: user_id.to_owned(),
                                username: row.member_username.clone()?,
                                role: row.member_role.clone()?,
                                custom_role: row.member_custom_role.clone(),
                                joined_at: row.member_joined_at?,
                            })
                        })
                        .collect();
                    let memberships = members_with_roles(c, member_rows).await?;
                    Ok((rows, memberships))
                })
            })
            .await?;
        let (rows, memberships) = found;
        // A row per circuit holding the item; the viewer's membership of each, when any.
        let mut seen: Vec<(Item, ViewerFacts)> = Vec::new();
        let mut position: HashMap<String, usize> = HashMap::new();
        for row in rows {
            let member = row.member_circuit_id.as_ref().and_then(|circuit_id| {
                memberships
                    .iter()
                    .find(|member| &member.circuit_id == circuit_id)
                    .cloned()
            });
            if let Some(&at) = position.get(&row.dfid) {
                seen[at].1.memberships.extend(member);
                continue;
            }
            position.insert(row.dfid.clone(), seen.len());
            let facts = ViewerFacts {
                memberships: member.into_iter().collect(),
                pulled: row.pulled_by.is_some(),
                local_id: row.viewer_local_id,
            };
            let item = item_of(item::Model {
                dfid: row.dfid,
                created_by: row.created_by,
                status: row.status,
                identifiers: row.identifiers,
                enriched_data: row.enriched_data,
                created_at: row.created_at,
                updated_at: row.updated_at,
                latest_cid: row.latest_cid,
                current_version: 0,
            })?;
            seen.push((item, facts));
        }
        Ok(seen)
    }
}

/// Guarded writes report a lost race this way.
pub(super) fn lost_race(what: &str) -> Error {
    Error::concurrent_write(format!("{what} changed meanwhile"))
}
