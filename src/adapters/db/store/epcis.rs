//! EPCIS: capture jobs, captured events and their EPCs; the query of EPCIS 2.0's REST binding as
//! one statement over what the viewer may see.

use std::collections::HashSet;

use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use super::SqlStore;
use crate::adapters::db::entities::{circuit_member, epcis_capture, epcis_event, epcis_event_epc, event};
use crate::domain::epcis::capture::{CaptureError, CaptureJob, EventRecord, NewEpcisEvent};
use crate::domain::epcis::ports::EpcisRepo;
use crate::domain::epcis::query::EventQuery;
use crate::domain::items::event::Visibility;
use crate::domain::{Error, Result};

/// Rows per multi-row insert of EPCs.
const EPC_ROWS_PER_INSERT: usize = 1000;

fn capture_model(job: CaptureJob) -> Result<epcis_capture::ActiveModel> {
    let errors = serde_json::to_string(&job.errors).map_err(|e| Error::internal(format!("capture errors: {e}")))?;
    Ok(epcis_capture::ActiveModel {
        capture_id: Set(job.capture_id),
        circuit_id: Set(job.circuit_id),
        created_by: Set(job.created_by),
        created_at: Set(job.created_at),
        finished_at: Set(job.finished_at),
        running: Set(job.running),
        success: Set(job.success),
        errors: Set(errors),
        events_captured: Set(job.events_captured as i64),
        events_duplicated: Set(job.events_duplicated as i64),
    })
}

fn capture_of(row: epcis_capture::Model) -> Result<CaptureJob> {
    let errors: Vec<CaptureError> =
        serde_json::from_str(&row.errors).map_err(|e| Error::internal(format!("stored capture errors: {e}")))?;
    Ok(CaptureJob {
        capture_id: row.capture_id,
        circuit_id: row.circuit_id,
        created_by: row.created_by,
        created_at: row.created_at,
        finished_at: row.finished_at,
        running: row.running,
        success: row.success,
        errors,
        events_captured: row.events_captured.max(0) as u64,
        events_duplicated: row.events_duplicated.max(0) as u64,
    })
}

pub(super) async fn insert_capture<C: ConnectionTrait>(txn: &C, job: CaptureJob) -> Result<()> {
    epcis_capture::Entity::insert(capture_model(job)?)
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

pub(super) async fn finish_capture<C: ConnectionTrait>(txn: &C, job: CaptureJob) -> Result<()> {
    epcis_capture::Entity::update(capture_model(job)?).exec(txn).await?;
    Ok(())
}

pub(super) async fn insert_events<C: ConnectionTrait>(txn: &C, events: Vec<NewEpcisEvent>) -> Result<()> {
    let mut epcs = Vec::new();
    for stored in events {
        let document = serde_json::to_string(&stored.event.document)
            .map_err(|e| Error::internal(format!("event document: {e}")))?;
        let event = stored.event;
        let inserted = epcis_event::Entity::insert(epcis_event::ActiveModel {
            circuit_id: Set(stored.circuit_id),
            event_id: Set(event.event_id),
            event_hash: Set(event.event_hash),
            event_type: Set(event.event_type.as_str().to_owned()),
            event_time: Set(event.event_time),
            record_time: Set(stored.record_time),
            action: Set(event.action),
            biz_step: Set(event.biz_step),
            disposition: Set(event.disposition),
            read_point: Set(event.read_point),
            biz_location: Set(event.biz_location),
            transformation_id: Set(event.transformation_id),
            capture_id: Set(stored.capture_id),
            captured_by: Set(stored.captured_by),
            visibility: Set(stored.visibility.as_str().to_owned()),
            document: Set(document),
            ..Default::default()
        })
        .exec(txn)
        .await?;
        let mut named = HashSet::new();
        for ((role, epc), dfid) in event.epcs.into_iter().zip(stored.dfids) {
            // One row per (role, EPC): an event may list an EPC twice.
            if named.insert((role, epc.clone())) {
                epcs.push(epcis_event_epc::ActiveModel {
                    event_seq: Set(inserted.last_insert_id),
                    role: Set(role.as_str().to_owned()),
                    epc: Set(epc.as_str().to_owned()),
                    dfid: Set(dfid),
                });
            }
        }
    }
    while !epcs.is_empty() {
        let rest = epcs.split_off(epcs.len().min(EPC_ROWS_PER_INSERT));
        epcis_event_epc::Entity::insert_many(std::mem::replace(&mut epcs, rest))
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

fn record_of(row: epcis_event::Model) -> Result<EventRecord> {
    let document = serde_json::from_str(&row.document)
        .map_err(|e| Error::internal(format!("stored EPCIS event {}: {e}", row.seq)))?;
    Ok(EventRecord {
        seq: row.seq,
        circuit_id: row.circuit_id,
        event_id: row.event_id,
        record_time: row.record_time,
        document,
    })
}

/// The conditions of `query`, and what `viewer` may see: events of circuits they are a member
/// of, Private ones only when they captured them.
fn conditions(viewer: &str, query: &EventQuery) -> Condition {
    use epcis_event::Column as E;
    let circuits = Query::select()
        .column(circuit_member::Column::CircuitId)
        .from(circuit_member::Entity)
        .and_where(circuit_member::Column::UserId.eq(viewer))
        .take();
    let mut all = Condition::all().add(E::CircuitId.in_subquery(circuits)).add(
        Condition::any()
            .add(E::Visibility.ne(Visibility::Private.as_str()))
            .add(E::CapturedBy.eq(viewer)),
    );
    let one_of = |column: E, values: &[String]| column.is_in(values.iter().cloned());
    if let Some(circuit_id) = &query.circuit_id {
        all = all.add(E::CircuitId.eq(circuit_id.as_str()));
    }
    if !query.event_types.is_empty() {
        all = all.add(E::EventType.is_in(query.event_types.iter().map(|t| t.as_str())));
    }
    for (column, bound, lower) in [
        (E::EventTime, query.ge_event_time, true),
        (E::EventTime, query.lt_event_time, false),
        (E::RecordTime, query.ge_record_time, true),
        (E::RecordTime, query.lt_record_time, false),
    ] {
        if let Some(bound) = bound {
            all = all.add(if lower { column.gte(bound) } else { column.lt(bound) });
        }
    }
    for (column, values) in [
        (E::Action, &query.actions),
        (E::BizStep, &query.biz_steps),
        (E::Disposition, &query.dispositions),
        (E::ReadPoint, &query.read_points),
        (E::BizLocation, &query.biz_locations),
        (E::TransformationId, &query.transformation_ids),
        (E::EventId, &query.event_ids),
    ] {
        if !values.is_empty() {
            all = all.add(one_of(column, values));
        }
    }
    for (roles, epcs) in &query.epc_matches {
        let naming = Query::select()
            .column(epcis_event_epc::Column::EventSeq)
            .from(epcis_event_epc::Entity)
            .and_where(epcis_event_epc::Column::Role.is_in(roles.iter().copied()))
            .and_where(epcis_event_epc::Column::Epc.is_in(epcs.iter().cloned()))
            .take();
        all = all.add(E::Seq.in_subquery(naming));
    }
    if let Some(after) = query.after {
        all = all.add(E::Seq.gt(after));
    }
    all
}

#[async_trait::async_trait]
impl EpcisRepo for SqlStore {
    async fn captured_hashes(&self, circuit_id: &str, hashes: &[String]) -> Result<HashSet<String>> {
        let mut found = HashSet::new();
        for chunk in hashes.chunks(EPC_ROWS_PER_INSERT) {
            let rows: Vec<String> = self
                .db
                .read("captured_hashes", |c| {
                    Box::pin(async move {
                        Ok(epcis_event::Entity::find()
                            .select_only()
                            .column(epcis_event::Column::EventHash)
                            .filter(epcis_event::Column::CircuitId.eq(circuit_id))
                            .filter(epcis_event::Column::EventHash.is_in(chunk.iter().cloned()))
                            .into_tuple()
                            .all(c)
                            .await?)
                    })
                })
                .await?;
            found.extend(rows);
        }
        Ok(found)
    }

    async fn recorded_content_hashes(&self, hashes: &[String]) -> Result<HashSet<String>> {
        let mut found = HashSet::new();
        for chunk in hashes.chunks(EPC_ROWS_PER_INSERT) {
            let rows: Vec<String> = self
                .db
                .read("recorded_content_hashes", |c| {
                    Box::pin(async move {
                        Ok(event::Entity::find()
                            .select_only()
                            .column(event::Column::ContentHash)
                            .filter(event::Column::ContentHash.is_in(chunk.iter().cloned()))
                            .into_tuple()
                            .all(c)
                            .await?)
                    })
                })
                .await?;
            found.extend(rows);
        }
        Ok(found)
    }

    async fn capture_job(&self, capture_id: &str) -> Result<Option<CaptureJob>> {
        let row = self
            .db
            .read("capture_job", |c| {
                Box::pin(async move { Ok(epcis_capture::Entity::find_by_id(capture_id).one(c).await?) })
            })
            .await?;
        row.map(capture_of).transpose()
    }

    async fn epcis_events(&self, viewer: &str, query: &EventQuery) -> Result<Vec<EventRecord>> {
        let select = epcis_event::Entity::find()
            .filter(conditions(viewer, query))
            .order_by_asc(epcis_event::Column::Seq)
            .limit(query.per_page + 1);
        let rows = self
            .db
            .read("epcis_events", |c| Box::pin(async move { Ok(select.all(c).await?) }))
            .await?;
        rows.into_iter().map(record_of).collect()
    }
}
