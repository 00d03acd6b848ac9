//! Canonical identifier disputes: reads, and the writes the unit of work applies.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::{SqlStore, paged};
use crate::adapters::db::entities::{canonical_name, identifier_dispute, item_identifier};
use crate::domain::items::dispute::{Dispute, DisputeStatus};
use crate::domain::items::ports::DisputeRepo;
use crate::domain::page::{Cursor, Page, PageRequest};
use crate::domain::{CONCURRENT_WRITE, Error, Result, Timestamp};

fn dispute_of(row: identifier_dispute::Model) -> Dispute {
    Dispute {
        status: DisputeStatus::from_text(&row.status).unwrap_or(DisputeStatus::Open),
        dispute_id: row.dispute_id,
        key: row.key,
        value: row.value,
        dfid: row.dfid,
        claimant_id: row.claimant_id,
        evidence: row.evidence,
        note: row.note,
        resolved_by: row.resolved_by,
        created_at: row.created_at,
        resolved_at: row.resolved_at,
    }
}

#[async_trait::async_trait]
impl DisputeRepo for SqlStore {
    async fn dispute(&self, dispute_id: &str) -> Result<Option<Dispute>> {
        let row = self
            .db
            .read("dispute", |c| {
                Box::pin(async move { Ok(identifier_dispute::Entity::find_by_id(dispute_id).one(c).await?) })
            })
            .await?;
        Ok(row.map(dispute_of))
    }

    async fn disputes(&self, status: Option<DisputeStatus>, page: &PageRequest) -> Result<Page<Dispute>> {
        let mut select = identifier_dispute::Entity::find();
        if let Some(status) = status {
            select = select.filter(identifier_dispute::Column::Status.eq(status.as_str()));
        }
        let select = paged(
            select,
            identifier_dispute::Column::CreatedAt,
            identifier_dispute::Column::DisputeId,
            page,
        );
        let rows = self
            .db
            .read("disputes", |c| Box::pin(async move { Ok(select.all(c).await?) }))
            .await?;
        Ok(Page::from_rows(rows.into_iter().map(dispute_of).collect(), page, |d| {
            Cursor {
                at: d.created_at,
                id: d.dispute_id.clone(),
            }
        }))
    }
}

pub(super) async fn insert_dispute<C: ConnectionTrait>(txn: &C, d: Dispute) -> Result<()> {
    identifier_dispute::Entity::insert(identifier_dispute::ActiveModel {
        dispute_id: Set(d.dispute_id),
        key: Set(d.key),
        value: Set(d.value),
        dfid: Set(d.dfid),
        claimant_id: Set(d.claimant_id),
        evidence: Set(d.evidence),
        status: Set(d.status.as_str().to_owned()),
        note: Set(d.note),
        resolved_by: Set(d.resolved_by),
        created_at: Set(d.created_at),
        resolved_at: Set(d.resolved_at),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

pub(super) async fn resolve_dispute<C: ConnectionTrait>(
    txn: &C,
    dispute_id: String,
    status: DisputeStatus,
    note: Option<String>,
    resolved_by: String,
    at: Timestamp,
) -> Result<()> {
    let resolved = identifier_dispute::Entity::update_many()
        .col_expr(identifier_dispute::Column::Status, Expr::value(status.as_str()))
        .col_expr(identifier_dispute::Column::Note, Expr::value(note))
        .col_expr(identifier_dispute::Column::ResolvedBy, Expr::value(resolved_by))
        .col_expr(identifier_dispute::Column::ResolvedAt, Expr::value(at))
        .filter(identifier_dispute::Column::DisputeId.eq(dispute_id))
        .filter(identifier_dispute::Column::Status.eq(DisputeStatus::Open.as_str()))
        .exec(txn)
        .await?;
    if resolved.rows_affected != 1 {
        return Err(Error::conflict(
            "dispute_not_open",
            "this dispute was decided meanwhile",
        ));
    }
    Ok(())
}

pub(super) async fn reassign_canonical<C: ConnectionTrait>(
    txn: &C,
    key: String,
    value: String,
    from_dfid: String,
    to_dfid: String,
) -> Result<()> {
    let moved = canonical_name::Entity::update_many()
        .col_expr(canonical_name::Column::Dfid, Expr::value(to_dfid.clone()))
        .filter(canonical_name::Column::Key.eq(key.clone()))
        .filter(canonical_name::Column::Value.eq(value.clone()))
        .filter(canonical_name::Column::Dfid.eq(from_dfid.clone()))
        .exec(txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(Error::conflict(CONCURRENT_WRITE, "the identifier moved meanwhile"));
    }
    item_identifier::Entity::update_many()
        .col_expr(item_identifier::Column::Dfid, Expr::value(to_dfid))
        .filter(item_identifier::Column::Dfid.eq(from_dfid))
        .filter(item_identifier::Column::Key.eq(key))
        .filter(item_identifier::Column::Value.eq(value))
        .filter(item_identifier::Column::IdType.eq("Canonical"))
        .exec(txn)
        .await?;
    Ok(())
}
