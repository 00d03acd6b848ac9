//! Ownership transfers: reads, and the writes the unit of work applies.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::{SqlStore, paged};
use crate::adapters::db::entities::{item, item_transfer};
use crate::domain::items::ports::TransferRepo;
use crate::domain::items::transfer::{Direction, Transfer, TransferStatus};
use crate::domain::page::{Cursor, Page, PageRequest};
use crate::domain::{CONCURRENT_WRITE, Error, Result, Timestamp};

fn transfer_of(row: item_transfer::Model) -> Transfer {
    Transfer {
        status: TransferStatus::from_text(&row.status).unwrap_or(TransferStatus::Expired),
        transfer_id: row.transfer_id,
        dfid: row.dfid,
        from_user_id: row.from_user_id,
        to_user_id: row.to_user_id,
        recipient: row.recipient,
        message: row.message,
        created_at: row.created_at,
        expires_at: row.expires_at,
        decided_at: row.decided_at,
    }
}

#[async_trait::async_trait]
impl TransferRepo for SqlStore {
    async fn transfer(&self, transfer_id: &str) -> Result<Option<Transfer>> {
        let row = self
            .db
            .read("transfer", |c| {
                Box::pin(async move { Ok(item_transfer::Entity::find_by_id(transfer_id).one(c).await?) })
            })
            .await?;
        Ok(row.map(transfer_of))
    }

    async fn pending_transfer(&self, dfid: &str) -> Result<Option<Transfer>> {
        let select = item_transfer::Entity::find()
            .filter(item_transfer::Column::Dfid.eq(dfid))
            .filter(item_transfer::Column::Status.eq(TransferStatus::Pending.as_str()));
        let row = self
            .db
            .read("pending_transfer", |c| {
                Box::pin(async move { Ok(select.one(c).await?) })
            })
            .await?;
        Ok(row.map(transfer_of))
    }

    async fn transfers(&self, user_id: &str, direction: Direction, page: &PageRequest) -> Result<Page<Transfer>> {
        let party = match direction {
            Direction::Incoming => item_transfer::Column::ToUserId,
            Direction::Outgoing => item_transfer::Column::FromUserId,
        };
        let select = paged(
            item_transfer::Entity::find().filter(party.eq(user_id)),
            item_transfer::Column::CreatedAt,
            item_transfer::Column::TransferId,
            page,
        );
        let rows = self
            .db
            .read("transfers", |c| Box::pin(async move { Ok(select.all(c).await?) }))
            .await?;
        Ok(Page::from_rows(
            rows.into_iter().map(transfer_of).collect(),
            page,
            |t| Cursor {
                at: t.created_at,
                id: t.transfer_id.clone(),
            },
        ))
    }
}

pub(super) async fn insert_transfer<C: ConnectionTrait>(txn: &C, t: Transfer) -> Result<()> {
    item_transfer::Entity::insert(item_transfer::ActiveModel {
        transfer_id: Set(t.transfer_id),
        dfid: Set(t.dfid),
        from_user_id: Set(t.from_user_id),
        to_user_id: Set(t.to_user_id),
        recipient: Set(t.recipient),
        message: Set(t.message),
        status: Set(t.status.as_str().to_owned()),
        created_at: Set(t.created_at),
        expires_at: Set(t.expires_at),
        decided_at: Set(t.decided_at),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

pub(super) async fn decide_transfer<C: ConnectionTrait>(
    txn: &C,
    transfer_id: String,
    status: TransferStatus,
    at: Timestamp,
) -> Result<()> {
    let decided = item_transfer::Entity::update_many()
        .col_expr(item_transfer::Column::Status, Expr::value(status.as_str()))
        .col_expr(item_transfer::Column::DecidedAt, Expr::value(at))
        .filter(item_transfer::Column::TransferId.eq(transfer_id))
        .filter(item_transfer::Column::Status.eq(TransferStatus::Pending.as_str()))
        .exec(txn)
        .await?;
    if decided.rows_affected != 1 {
        return Err(Error::conflict(
            "transfer_not_pending",
            "this transfer was decided meanwhile",
        ));
    }
    Ok(())
}

pub(super) async fn set_item_owner<C: ConnectionTrait>(
    txn: &C,
    dfid: String,
    from_user_id: String,
    to_user_id: String,
    at: Timestamp,
) -> Result<()> {
    let moved = item::Entity::update_many()
        .col_expr(item::Column::CreatedBy, Expr::value(to_user_id))
        .col_expr(item::Column::UpdatedAt, Expr::value(at))
        .filter(item::Column::Dfid.eq(dfid))
        .filter(item::Column::CreatedBy.eq(from_user_id))
        .exec(txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(Error::conflict(CONCURRENT_WRITE, "the item changed owner meanwhile"));
    }
    Ok(())
}
