//! The transparency log's tables: entries written with their facts, the sequencer's batches,
//! and the reads proofs and tiles are served from.

use std::collections::HashMap;

use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ActiveValue::NotSet, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};

use super::SqlStore;
use crate::adapters::db::entities::{log_checkpoint, log_entry, log_node};
use crate::domain::log::entry::{ENTRY_LEN, EntryKind, LogEntry, LoggedFact, SALT_LEN, entry_bytes};
use crate::domain::log::merkle::{self, Hash, Node};
use crate::domain::log::ports::{LogRepo, LogSequencer, Sign, SignedCheckpoint};
use crate::domain::page::{Cursor, Page, PageRequest};
use crate::domain::{Error, Result, Timestamp};

/// The PostgreSQL advisory lock the integrating replica holds (any constant unique to this use).
const SEQUENCER_LOCK_KEY: i64 = 0x6465_6661_726d_6c67;
/// Rows per multi-row statement: well under both engines' limits on bound parameters.
const ROWS_PER_STATEMENT: usize = 500;

fn hash_of(bytes: &[u8], what: &str) -> Result<Hash> {
    bytes
        .try_into()
        .map_err(|_| Error::internal(format!("stored {what} is {} bytes, not 32", bytes.len())))
}

fn checkpoint_of(row: log_checkpoint::Model) -> Result<SignedCheckpoint> {
    Ok(SignedCheckpoint {
        size: row.tree_size as u64,
        root: hash_of(&row.root_hash, "root hash")?,
        note: row.note,
        signed_at: row.signed_at,
    })
}

fn fact_of(row: log_entry::Model) -> Result<LoggedFact> {
    let kind = EntryKind::from_byte(row.kind as u8)
        .ok_or_else(|| Error::internal(format!("stored log entry kind {}", row.kind)))?;
    let salt: [u8; SALT_LEN] = row
        .salt
        .as_slice()
        .try_into()
        .map_err(|_| Error::internal("stored log salt is not 16 bytes"))?;
    let logged_at = chrono::DateTime::from_timestamp_millis(row.logged_at_ms)
        .ok_or_else(|| Error::internal("stored log time out of range"))?;
    Ok(LoggedFact {
        entry: LogEntry {
            kind,
            fact_id: row.fact_id,
            salt,
            commitment: hash_of(&row.commitment, "commitment")?,
            logged_at,
        },
        leaf_index: row.leaf_index.map(|i| i as u64),
    })
}

/// The rows of facts' entries; the caller writes them with their facts, in one transaction.
pub(super) fn entry_rows(entries: Vec<LogEntry>) -> Vec<log_entry::ActiveModel> {
    entries
        .into_iter()
        .map(|entry| log_entry::ActiveModel {
            seq: NotSet,
            kind: Set(i16::from(entry.kind.byte())),
            fact_id: Set(entry.fact_id),
            salt: Set(entry.salt.to_vec()),
            commitment: Set(entry.commitment.to_vec()),
            logged_at_ms: Set(entry.logged_at.timestamp_millis()),
            leaf_index: Set(None),
        })
        .collect()
}

/// A fresh salt for a new entry.
pub(super) fn new_salt() -> [u8; SALT_LEN] {
    rand::random()
}

async fn read_nodes<C: ConnectionTrait>(c: &C, nodes: &[Node]) -> Result<HashMap<Node, Hash>> {
    let mut found = HashMap::with_capacity(nodes.len());
    for chunk in nodes.chunks(ROWS_PER_STATEMENT) {
        let mut any = Condition::any();
        for node in chunk {
            any = any.add(
                Condition::all()
                    .add(log_node::Column::Level.eq(i16::from(node.level)))
                    .add(log_node::Column::Idx.eq(node.index as i64)),
            );
        }
        for row in log_node::Entity::find().filter(any).all(c).await? {
            let node = Node::new(row.level as u8, row.idx as u64);
            found.insert(node, hash_of(&row.hash, "node hash")?);
        }
    }
    Ok(found)
}

#[async_trait::async_trait]
impl LogRepo for SqlStore {
    async fn latest_checkpoint(&self) -> Result<Option<SignedCheckpoint>> {
        let row = self
            .db
            .read("latest_checkpoint", |c| {
                Box::pin(async move {
                    Ok(log_checkpoint::Entity::find()
                        .order_by_desc(log_checkpoint::Column::TreeSize)
                        .one(c)
                        .await?)
                })
            })
            .await?;
        row.map(checkpoint_of).transpose()
    }

    async fn checkpoints(&self, page: &PageRequest) -> Result<Page<SignedCheckpoint>> {
        // Newest first by tree size; the cursor's id is the last size seen.
        let after_size = match &page.after {
            Some(after) => Some(
                after
                    .id
                    .parse::<i64>()
                    .map_err(|_| Error::field("cursor", "not a cursor this API returned"))?,
            ),
            None => None,
        };
        let mut select = log_checkpoint::Entity::find().order_by_desc(log_checkpoint::Column::TreeSize);
        if let Some(size) = after_size {
            select = select.filter(log_checkpoint::Column::TreeSize.lt(size));
        }
        let select = select.limit(u64::from(page.limit) + 1);
        let rows = self
            .db
            .read("checkpoints", |c| Box::pin(async move { Ok(select.all(c).await?) }))
            .await?;
        let checkpoints = rows.into_iter().map(checkpoint_of).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(checkpoints, page, |c| Cursor {
            at: c.signed_at,
            id: c.size.to_string(),
        }))
    }

    async fn nodes(&self, nodes: &[Node]) -> Result<HashMap<Node, Hash>> {
        self.db
            .read("log_nodes", |c| Box::pin(async move { read_nodes(c, nodes).await }))
            .await
    }

    async fn entries(&self, from: u64, to: u64) -> Result<Vec<[u8; ENTRY_LEN]>> {
        let select = log_entry::Entity::find()
            .filter(log_entry::Column::LeafIndex.gte(from as i64))
            .filter(log_entry::Column::LeafIndex.lt(to as i64))
            .order_by_asc(log_entry::Column::LeafIndex);
        let rows = self
            .db
            .read("log_entries", |c| Box::pin(async move { Ok(select.all(c).await?) }))
            .await?;
        rows.into_iter().map(|row| Ok(fact_of(row)?.entry.bytes())).collect()
    }

    async fn logged(&self, kind: EntryKind, fact_ids: &[String]) -> Result<Vec<LoggedFact>> {
        let mut facts = Vec::with_capacity(fact_ids.len());
        for chunk in fact_ids.chunks(ROWS_PER_STATEMENT) {
            let select = log_entry::Entity::find()
                .filter(log_entry::Column::Kind.eq(i16::from(kind.byte())))
                .filter(log_entry::Column::FactId.is_in(chunk.iter().map(String::as_str)));
            let rows = self
                .db
                .read("logged_facts", |c| Box::pin(async move { Ok(select.all(c).await?) }))
                .await?;
            for row in rows {
                facts.push(fact_of(row)?);
            }
        }
        Ok(facts)
    }
}

#[async_trait::async_trait]
impl LogSequencer for SqlStore {
    async fn integrate(&self, limit: usize, now: Timestamp, sign: Sign) -> Result<usize> {
        let postgres = self.db.backend() == DbBackend::Postgres;
        self.db
            .write("log_integrate", move |txn| {
                Box::pin(async move {
                    if postgres {
                        // Raw SQL: SeaORM has no builder for advisory locks. SQLite needs none:
                        // its write transactions already run one at a time.
                        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({SEQUENCER_LOCK_KEY})"))
                            .await?;
                    }
                    integrate_batch(txn, limit, now, sign.as_ref()).await
                })
            })
            .await
    }
}

async fn integrate_batch<C: ConnectionTrait>(
    txn: &C,
    limit: usize,
    now: Timestamp,
    sign: &(dyn Fn(u64, &Hash) -> String + Send + Sync),
) -> Result<usize> {
    let latest = log_checkpoint::Entity::find()
        .order_by_desc(log_checkpoint::Column::TreeSize)
        .one(txn)
        .await?;
    let pending = log_entry::Entity::find()
        .filter(log_entry::Column::LeafIndex.is_null())
        .order_by_asc(log_entry::Column::Seq)
        .limit(limit as u64)
        .all(txn)
        .await?;
    if pending.is_empty() && latest.is_some() {
        return Ok(0);
    }
    let size = latest.map_or(0, |c| c.tree_size as u64);
    let frontier_nodes = merkle::frontier(size);
    let known = read_nodes(txn, &frontier_nodes).await?;
    let frontier = frontier_nodes
        .iter()
        .map(|node| {
            Ok((
                *node,
                *known
                    .get(node)
                    .ok_or_else(|| Error::internal(format!("the log is missing {node:?}")))?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut leaves = Vec::with_capacity(pending.len());
    for row in &pending {
        let kind = EntryKind::from_byte(row.kind as u8)
            .ok_or_else(|| Error::internal(format!("stored log entry kind {}", row.kind)))?;
        leaves.push(merkle::leaf_hash(&entry_bytes(
            kind,
            &hash_of(&row.commitment, "commitment")?,
            row.logged_at_ms,
        )));
    }
    let added = merkle::append(size, &frontier, &leaves);
    for chunk in added.chunks(ROWS_PER_STATEMENT) {
        log_node::Entity::insert_many(chunk.iter().map(|(node, hash)| log_node::ActiveModel {
            level: Set(i16::from(node.level)),
            idx: Set(node.index as i64),
            hash: Set(hash.to_vec()),
        }))
        .exec_without_returning(txn)
        .await?;
    }
    for (offset, chunk) in pending.chunks(ROWS_PER_STATEMENT).enumerate() {
        let first = size + (offset * ROWS_PER_STATEMENT) as u64;
        let mut cases = chunk.iter().enumerate().map(|(i, row)| {
            (
                log_entry::Column::Seq.eq(row.seq),
                Expr::value((first + i as u64) as i64),
            )
        });
        let Some((cond, then)) = cases.next() else { continue };
        let case = cases.fold(Expr::case(cond, then), |case, (cond, then)| case.case(cond, then));
        let updated = log_entry::Entity::update_many()
            .col_expr(log_entry::Column::LeafIndex, case.into())
            .filter(log_entry::Column::Seq.is_in(chunk.iter().map(|row| row.seq)))
            .filter(log_entry::Column::LeafIndex.is_null())
            .exec(txn)
            .await?;
        if updated.rows_affected != chunk.len() as u64 {
            return Err(Error::concurrent_write("another sequencer integrated these entries"));
        }
    }
    let new_size = size + leaves.len() as u64;
    let hashes: HashMap<Node, Hash> = frontier.into_iter().chain(added).collect();
    let root = merkle::root(new_size, &|node| hashes.get(&node).copied())
        .ok_or_else(|| Error::internal("the new tree's root needs a hash the batch lacks"))?;
    log_checkpoint::Entity::insert(log_checkpoint::ActiveModel {
        tree_size: Set(new_size as i64),
        root_hash: Set(root.to_vec()),
        note: Set(sign(new_size, &root)),
        signed_at: Set(now),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(leaves.len())
}
