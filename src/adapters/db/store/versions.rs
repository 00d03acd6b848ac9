//! Item versions: recorded inside the unit of work that changes an item, read for the
//! versions routes and proof bundles.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use std::collections::HashMap;

use super::SqlStore;
use super::insert_pair;
use super::items::item_of;
use super::log::{entry_rows, new_salt};
use crate::adapters::db::entities::{item, item_version};
use crate::domain::items::ports::VersionRepo;
use crate::domain::items::version::{ItemVersion, VersionChange};
use crate::domain::log::entry::{EntryKind, LogEntry};
use crate::domain::{Error, Result};

fn version_of(row: item_version::Model) -> ItemVersion {
    ItemVersion {
        version: row.version as u64,
        document: row.document,
        document_sha256: row.document_sha256,
        cid: row.cid,
        change: VersionChange {
            dfid: row.dfid.clone(),
            kind: row.change_kind,
            event_id: row.event_id,
            changed_by: row.changed_by,
            changed_at: row.changed_at,
        },
        dfid: row.dfid,
    }
}

/// Items whose versions one statement records.
const ITEMS_PER_STATEMENT: usize = 500;

/// Records each changed item's next version from its state as this transaction leaves it, a few
/// statements per `ITEMS_PER_STATEMENT` items. Taking the version numbers updates the items'
/// rows first, so concurrent changes of one item queue on its row lock and number their
/// versions one after another.
pub(super) async fn record_versions<C: ConnectionTrait>(txn: &C, changes: Vec<VersionChange>) -> Result<()> {
    for chunk in changes.chunks(ITEMS_PER_STATEMENT) {
        let dfids: Vec<&str> = chunk.iter().map(|change| change.dfid.as_str()).collect();
        // The bump returns the rows as this transaction leaves them: no second read.
        let rows: HashMap<String, item::Model> = item::Entity::update_many()
            .col_expr(
                item::Column::CurrentVersion,
                Expr::col(item::Column::CurrentVersion).add(1),
            )
            .filter(item::Column::Dfid.is_in(dfids))
            .exec_with_returning(txn)
            .await?
            .into_iter()
            .map(|row| (row.dfid.clone(), row))
            .collect();
        if rows.len() != chunk.len() {
            return Err(Error::concurrent_write("the item is gone"));
        }
        let earlier: Vec<(String, i64)> = rows
            .values()
            .filter(|row| row.current_version > 1)
            .map(|row| (row.dfid.clone(), row.current_version - 1))
            .collect();
        let previous: HashMap<String, String> = if earlier.is_empty() {
            HashMap::new()
        } else {
            item_version::Entity::find()
                .filter(
                    Expr::tuple([
                        Expr::col(item_version::Column::Dfid),
                        Expr::col(item_version::Column::Version),
                    ])
                    .in_tuples(earlier),
                )
                .all(txn)
                .await?
                .into_iter()
                .map(|version| (version.dfid, version.document_sha256))
                .collect()
        };
        let mut versions = Vec::with_capacity(chunk.len());
        let mut entries = Vec::with_capacity(chunk.len());
        for change in chunk {
            let row = rows
                .get(&change.dfid)
                .cloned()
                .ok_or_else(|| Error::concurrent_write("the item is gone"))?;
            let number = row.current_version as u64;
            let item = item_of(row)?;
            let version = ItemVersion::of(
                &item,
                number,
                previous.get(&change.dfid).map(String::as_str),
                change.clone(),
            )?;
            entries.push(LogEntry::new(
                EntryKind::Version,
                version.fact_id(),
                new_salt(),
                &version.digest(),
                version.change.changed_at,
            ));
            versions.push(item_version::ActiveModel {
                dfid: Set(version.dfid),
                version: Set(version.version as i64),
                document: Set(version.document),
                document_sha256: Set(version.document_sha256),
                cid: Set(version.cid),
                change_kind: Set(version.change.kind),
                event_id: Set(version.change.event_id),
                changed_by: Set(version.change.changed_by),
                changed_at: Set(version.change.changed_at),
            });
        }
        insert_pair(txn, versions, entry_rows(entries)).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl VersionRepo for SqlStore {
    async fn versions(&self, dfid: &str) -> Result<Vec<ItemVersion>> {
        let select = item_version::Entity::find()
            .filter(item_version::Column::Dfid.eq(dfid))
            .order_by_desc(item_version::Column::Version);
        let rows = self
            .db
            .read("item_versions", |c| Box::pin(async move { Ok(select.all(c).await?) }))
            .await?;
        Ok(rows.into_iter().map(version_of).collect())
    }

    async fn version(&self, dfid: &str, version: u64) -> Result<Option<ItemVersion>> {
        let Ok(version) = i64::try_from(version) else {
            return Ok(None);
        };
        let key = (dfid.to_owned(), version);
        let row = self
            .db
            .read("item_version", |c| {
                Box::pin(async move { Ok(item_version::Entity::find_by_id(key).one(c).await?) })
            })
            .await?;
        Ok(row.map(version_of))
    }
}
