//! Receipts: reads, and the write (with its log entry) the unit of work applies.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use super::insert_pair;
use super::log::{entry_rows, new_salt};
use super::{SqlStore, paged};
use crate::adapters::db::entities::receipt;
use crate::domain::Result;
use crate::domain::items::ports::ReceiptRepo;
use crate::domain::items::receipt::Receipt;
use crate::domain::log::entry::{EntryKind, LogEntry};
use crate::domain::page::{Cursor, Page, PageRequest};

fn receipt_of(row: receipt::Model) -> Receipt {
    Receipt {
        receipt_id: row.receipt_id,
        owner_id: row.owner_id,
        sha256: row.sha256,
        size_bytes: row.size_bytes.map(|n| n as u64),
        content_type: row.content_type,
        dfid: row.dfid,
        label: row.label,
        created_at: row.created_at,
    }
}

pub(super) async fn insert_receipt<C: ConnectionTrait>(txn: &C, r: Receipt) -> Result<()> {
    let entry = LogEntry::new(
        EntryKind::Receipt,
        r.receipt_id.clone(),
        new_salt(),
        &r.log_digest()?,
        r.created_at,
    );
    let row = receipt::ActiveModel {
        receipt_id: Set(r.receipt_id),
        owner_id: Set(r.owner_id),
        sha256: Set(r.sha256),
        size_bytes: Set(r.size_bytes.map(|n| n as i64)),
        content_type: Set(r.content_type),
        dfid: Set(r.dfid),
        label: Set(r.label),
        created_at: Set(r.created_at),
    };
    insert_pair(txn, vec![row], entry_rows(vec![entry])).await
}

#[async_trait::async_trait]
impl ReceiptRepo for SqlStore {
    async fn receipt(&self, receipt_id: &str) -> Result<Option<Receipt>> {
        let row = self
            .db
            .read("receipt", |c| {
                Box::pin(async move { Ok(receipt::Entity::find_by_id(receipt_id).one(c).await?) })
            })
            .await?;
        Ok(row.map(receipt_of))
    }

    async fn receipts_of(&self, owner_id: &str, page: &PageRequest) -> Result<Page<Receipt>> {
        let select = paged(
            receipt::Entity::find().filter(receipt::Column::OwnerId.eq(owner_id)),
            receipt::Column::CreatedAt,
            receipt::Column::ReceiptId,
            page,
        );
        let rows = self
            .db
            .read("receipts_of", |c| Box::pin(async move { Ok(select.all(c).await?) }))
            .await?;
        Ok(Page::from_rows(rows.into_iter().map(receipt_of).collect(), page, |r| {
            Cursor {
                at: r.created_at,
                id: r.receipt_id.clone(),
            }
        }))
    }

    async fn receipts_on(&self, dfid: &str, limit: u64) -> Result<Vec<Receipt>> {
        let select = receipt::Entity::find()
            .filter(receipt::Column::Dfid.eq(dfid))
            .order_by_desc(receipt::Column::CreatedAt)
            .limit(limit);
        let rows = self
            .db
            .read("receipts_on", |c| Box::pin(async move { Ok(select.all(c).await?) }))
            .await?;
        Ok(rows.into_iter().map(receipt_of).collect())
    }

    async fn receipts_with(&self, sha256: &str, limit: u64) -> Result<Vec<Receipt>> {
        let select = receipt::Entity::find()
            .filter(receipt::Column::Sha256.eq(sha256))
            .order_by_desc(receipt::Column::CreatedAt)
            .limit(limit);
        let rows = self
            .db
            .read("receipts_with", |c| Box::pin(async move { Ok(select.all(c).await?) }))
            .await?;
        Ok(rows.into_iter().map(receipt_of).collect())
    }
}
