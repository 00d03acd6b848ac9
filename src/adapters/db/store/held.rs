//! Inserts held back within a unit of work and written together: on PostgreSQL, the inserts of a
//! push (its item, identifiers, events and their log entries, operation, circuit entry,
//! triggers, deliveries, activity) become a few statements instead of one per table.

use sea_orm::sea_query::{InsertStatement, UpdateStatement};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbBackend, EntityTrait, QueryTrait};

use super::{ROWS_PER_STATEMENT, inserts_as_one, written_first};
use crate::domain::Result;

/// Inserts not yet sent. Whoever reads or updates rows in the transaction writes them first
/// (`write`): the held inserts are one statement whose parts see none of each other's rows, and
/// nothing else sees them before they are sent.
pub(super) struct HeldInserts {
    statements: Vec<InsertStatement>,
    rows: usize,
    /// Only PostgreSQL runs several inserts as one statement; elsewhere each goes at once.
    holds: bool,
}

impl HeldInserts {
    pub(super) fn new<C: ConnectionTrait>(txn: &C) -> Self {
        Self {
            statements: Vec::new(),
            rows: 0,
            holds: txn.get_database_backend() == DbBackend::Postgres,
        }
    }

    /// Inserts `rows` of one table, a thousand rows per statement.
    pub(super) async fn insert<C, A>(&mut self, txn: &C, mut rows: Vec<A>) -> Result<()>
    where
        C: ConnectionTrait,
        A: ActiveModelTrait + Send,
    {
        while !rows.is_empty() {
            let rest = rows.split_off(rows.len().min(ROWS_PER_STATEMENT));
            let chunk = std::mem::replace(&mut rows, rest);
            let count = chunk.len();
            let statement = <A::Entity as EntityTrait>::insert_many(chunk).into_query();
            self.insert_statement(txn, statement, count).await?;
        }
        Ok(())
    }

    /// Holds `statement`, an insert of `rows` rows, or sends it when this engine runs one
    /// statement at a time. Held rows stay within one statement's worth (`ROWS_PER_STATEMENT`
    /// rows, so far under PostgreSQL's limit on bound parameters).
    pub(super) async fn insert_statement<C: ConnectionTrait>(
        &mut self,
        txn: &C,
        statement: InsertStatement,
        rows: usize,
    ) -> Result<()> {
        if !self.holds {
            txn.execute(&statement).await?;
            return Ok(());
        }
        if self.rows + rows > ROWS_PER_STATEMENT {
            self.write(txn).await?;
        }
        self.statements.push(statement);
        self.rows += rows;
        Ok(())
    }

    /// Sends what is held, as one statement.
    pub(super) async fn write<C: ConnectionTrait>(&mut self, txn: &C) -> Result<()> {
        self.rows = 0;
        let mut statements = std::mem::take(&mut self.statements);
        match statements.len() {
            0 => {}
            1 => {
                let statement = statements.remove(0);
                txn.execute(&statement).await?;
            }
            _ => {
                txn.execute(&inserts_as_one(statements)?).await?;
            }
        }
        Ok(())
    }

    /// Sends what is held and then `update`, as one statement where the engine allows: the
    /// update must not touch rows the held inserts write, as it does not see them.
    pub(super) async fn write_with<C: ConnectionTrait>(&mut self, txn: &C, update: UpdateStatement) -> Result<()> {
        if self.statements.is_empty() {
            txn.execute(&update).await?;
            return Ok(());
        }
        self.rows = 0;
        let statement = written_first(std::mem::take(&mut self.statements)).query(update);
        txn.execute(&statement).await?;
        Ok(())
    }
}
