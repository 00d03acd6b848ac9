//! Consecutive changes of one kind, written by one multi-row statement per thousand rows: a
//! batch of pushes writes its items, identifiers, events, local mappings, operations, circuit
//! entries, activities and triggers each in a few statements instead of one statement per row.

use sea_orm::ConnectionTrait;

use super::held::HeldInserts;
use super::{log, partner_writes, traceability_writes};
use crate::domain::audit::Activity;
use crate::domain::changes::Change;
use crate::domain::circuits::operation::Operation;
use crate::domain::items::event::Event;
use crate::domain::items::identifier::Identifier;
use crate::domain::items::item::Item;
use crate::domain::log::entry::{EntryKind, LogEntry};
use crate::domain::partners::trigger::Trigger;
use crate::domain::{Result, Timestamp};

pub(super) enum Run {
    Items(Vec<Item>),
    /// `(dfid, identifiers, added_by, at)`.
    Identifiers(Vec<(String, Vec<Identifier>, String, Timestamp)>),
    Events(Vec<Event>),
    /// `(local_id, dfid)`.
    LocalMappings(Vec<(String, String)>),
    Operations(Vec<Operation>),
    /// `(circuit_id, dfid, pushed_by, pushed_at)`.
    CircuitItems(Vec<(String, String, String, Timestamp)>),
    Activities(Vec<Activity>),
    Triggers(Vec<Trigger>),
}

impl Run {
    /// An empty run of `change`'s kind, when that kind is written in runs.
    pub(super) fn of_kind(change: &Change) -> Option<Run> {
        Some(match change {
            Change::InsertItem(_) => Run::Items(Vec::new()),
            Change::AddIdentifiers { .. } => Run::Identifiers(Vec::new()),
            Change::InsertEvent(_) => Run::Events(Vec::new()),
            Change::MapLocalItem { .. } => Run::LocalMappings(Vec::new()),
            Change::InsertOperation(_) => Run::Operations(Vec::new()),
            Change::AddCircuitItem { .. } => Run::CircuitItems(Vec::new()),
            Change::Activity(_) => Run::Activities(Vec::new()),
            Change::Trigger(_) => Run::Triggers(Vec::new()),
            _ => return None,
        })
    }

    /// Adds `change` when it is of this run's kind; otherwise gives it back.
    pub(super) fn add(&mut self, change: Change) -> Option<Change> {
        match (self, change) {
            (Run::Items(rows), Change::InsertItem(item)) => rows.push(item),
            (
                Run::Identifiers(rows),
                Change::AddIdentifiers {
                    dfid,
                    identifiers,
                    added_by,
                    at,
                },
            ) => rows.push((dfid, identifiers, added_by, at)),
            (Run::Events(rows), Change::InsertEvent(event)) => rows.push(event),
            (Run::LocalMappings(rows), Change::MapLocalItem { local_id, dfid }) => rows.push((local_id, dfid)),
            (Run::Operations(rows), Change::InsertOperation(operation)) => rows.push(operation),
            (
                Run::CircuitItems(rows),
                Change::AddCircuitItem {
                    circuit_id,
                    dfid,
                    pushed_by,
                    pushed_at,
                },
            ) => rows.push((circuit_id, dfid, pushed_by, pushed_at)),
            (Run::Activities(rows), Change::Activity(activity)) => rows.push(activity),
            (Run::Triggers(rows), Change::Trigger(trigger)) => rows.push(trigger),
            (_, change) => return Some(change),
        }
        None
    }

    /// Writes the run's rows, holding its inserts in `held` where the engine allows; a run that
    /// reads or updates first writes what is held.
    pub(super) async fn write<C: ConnectionTrait>(self, txn: &C, held: &mut HeldInserts) -> Result<()> {
        match self {
            Run::Items(items) => held.insert(txn, traceability_writes::item_rows(items)?).await,
            Run::Identifiers(added) => {
                let (identifiers, names) = traceability_writes::identifier_rows(added);
                held.insert(txn, identifiers).await?;
                held.insert(txn, names).await
            }
            Run::Events(events) => {
                // Each event with its entry in the log.
                let entries = events
                    .iter()
                    .map(|e| {
                        Ok(LogEntry::new(
                            EntryKind::Event,
                            e.event_id.clone(),
                            log::new_salt(),
                            &e.log_digest()?,
                            e.recorded_at,
                        ))
                    })
                    .collect::<Result<Vec<_>>>()?;
                held.insert(txn, traceability_writes::event_rows(events)).await?;
                held.insert(txn, log::entry_rows(entries)).await
            }
            Run::LocalMappings(mappings) => {
                held.write(txn).await?;
                traceability_writes::map_local_items(txn, mappings).await
            }
            Run::Operations(operations) => held.insert(txn, traceability_writes::operation_rows(operations)).await,
            Run::CircuitItems(added) => traceability_writes::add_circuit_items(txn, added, held).await,
            Run::Activities(activities) => held.insert(txn, traceability_writes::activity_rows(activities)).await,
            Run::Triggers(triggers) => partner_writes::triggers(txn, triggers, held).await,
        }
    }

    /// Writes the run on its own: what it holds is sent before this returns.
    pub(super) async fn write_alone<C: ConnectionTrait>(self, txn: &C) -> Result<()> {
        let mut held = HeldInserts::new(txn);
        self.write(txn, &mut held).await?;
        held.write(txn).await
    }
}
