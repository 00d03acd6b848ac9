//! The repositories: the `Store` port implemented with SeaORM's typed entities and query builder.

mod accounts;
mod api_keys;
mod audit;
mod circuits;
mod commit;
mod disputes;
mod epcis;
mod events;
mod held;
mod identity_writes;
mod items;
mod log;
mod mail;
mod notifications;
mod partner_writes;
mod partners;
mod receipts;
mod runs;
mod stats;
mod traceability_writes;
mod transfers;
mod versions;

use std::sync::Arc;

use sea_orm::sea_query::{Alias, CommonTableExpression, Condition, InsertStatement, WithClause, WithQuery};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};

use super::Database;
use crate::domain::changes::OutboxQueue;
use crate::domain::page::{Cursor, PageRequest};
use crate::domain::partners::ports::Notifier;
use crate::domain::{Error, Result};

/// The database behind the `Store` port.
pub struct SqlStore {
    db: Arc<Database>,
    hooks: CommitHooks,
}

/// What happens after a commit: its notifications are announced, the outbox workers are woken
/// when it queued work for them, and the sequencer when it recorded a fact.
#[derive(Clone)]
pub struct CommitHooks {
    pub notifier: Arc<dyn Notifier>,
    pub outbox: OutboxWake,
    /// Wakes the log's sequencer when a commit recorded a fact.
    pub log: Arc<tokio::sync::Notify>,
}

/// A wake-up per outbox queue: a commit that queues deliveries does not send the mail and storage
/// workers to look for work (each look is a transaction).
#[derive(Clone, Default)]
pub struct OutboxWake {
    pub deliveries: Arc<tokio::sync::Notify>,
    pub storage: Arc<tokio::sync::Notify>,
    pub mail: Arc<tokio::sync::Notify>,
}

impl OutboxWake {
    pub fn of(&self, queue: OutboxQueue) -> &tokio::sync::Notify {
        match queue {
            OutboxQueue::Deliveries => &self.deliveries,
            OutboxQueue::Storage => &self.storage,
            OutboxQueue::Mail => &self.mail,
        }
    }
}

impl SqlStore {
    pub fn new(db: Arc<Database>, hooks: CommitHooks) -> Self {
        Self { db, hooks }
    }
}

/// Orders newest first by `(at, id)` and starts after the page's cursor; fetches one row more
/// than the page holds so `Page::from_rows` can tell whether another page follows.
fn paged<E: EntityTrait>(select: Select<E>, at: E::Column, id: E::Column, page: &PageRequest) -> Select<E> {
    let select = match &page.after {
        Some(Cursor {
            at: after_at,
            id: after_id,
        }) => select.filter(
            Condition::any()
                .add(at.lt(*after_at))
                .add(Condition::all().add(at.eq(*after_at)).add(id.lt(after_id.as_str()))),
        ),
        None => select,
    };
    select
        .order_by_desc(at)
        .order_by_desc(id)
        .limit(u64::from(page.limit) + 1)
}

/// Rows per multi-row statement: few round trips, and under both engines' limits on bound
/// parameters (SQLite's 32,766) for rows of up to twelve columns.
const ROWS_PER_STATEMENT: usize = 1_000;

/// Inserts `rows` of one table in statements of `ROWS_PER_STATEMENT`.
async fn insert_all<C, A>(txn: &C, mut rows: Vec<A>) -> Result<()>
where
    C: ConnectionTrait,
    A: ActiveModelTrait + Send,
{
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(ROWS_PER_STATEMENT));
        <A::Entity as EntityTrait>::insert_many(std::mem::replace(&mut rows, rest))
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// Inserts rows of two tables that do not refer to each other (a fact and its log entry): one
/// statement on PostgreSQL when together they fit one (`ROWS_PER_STATEMENT` rows).
async fn insert_pair<C, A, B>(txn: &C, first: Vec<A>, second: Vec<B>) -> Result<()>
where
    C: ConnectionTrait,
    A: ActiveModelTrait + Send,
    B: ActiveModelTrait + Send,
{
    let mut held = held::HeldInserts::new(txn);
    held.insert(txn, first).await?;
    held.insert(txn, second).await?;
    held.write(txn).await
}

/// Inserts as one PostgreSQL statement: each but the last a data-modifying CTE of the last. One
/// statement is atomic on its own; its inserts see none of each other's rows, so none may refer
/// to a row another one writes.
fn inserts_as_one(mut inserts: Vec<InsertStatement>) -> Result<WithQuery> {
    let last = inserts
        .pop()
        .ok_or_else(|| Error::internal("one statement of no inserts"))?;
    Ok(written_first(inserts).query(last))
}

/// `inserts` as the data-modifying CTEs of whatever statement follows them.
fn written_first(inserts: Vec<InsertStatement>) -> WithClause {
    let mut with = WithClause::new();
    for (index, insert) in inserts.into_iter().enumerate() {
        with.cte(
            CommonTableExpression::new()
                .query(insert)
                .table_name(Alias::new(format!("written_{index}")))
                .to_owned(),
        );
    }
    with
}
