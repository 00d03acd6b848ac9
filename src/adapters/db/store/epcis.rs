//! EPCIS: capture jobs, captured events and their EPCs; the query of EPCIS 2.0's REST binding as
//! one statement over what the viewer may see.

use std::collections::HashSet;

use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, Set, Statement,
};

use super::SqlStore;
use crate::adapters::db::entities::{circuit_member, epcis_capture, epcis_event, epcis_event_epc, event};
use crate::domain::epcis::capture::{CaptureError, CaptureJob, EventRecord, NewEpcisEvent};
use crate::domain::epcis::event::EventType;
use crate::domain::epcis::lineage::{Aggregation, Direction, EdgeKind, LineageEdge};
use crate::domain::epcis::native::{NativeCursor, NativeEvent};
use crate::domain::epcis::ports::{EpcisRepo, LineageRepo};
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

    async fn native_circuit_events(
        &self,
        circuit_id: &str,
        query: &EventQuery,
        after: Option<&NativeCursor>,
        limit: u64,
    ) -> Result<Vec<NativeEvent>> {
        // Captured events are recorded on their items too, under their EPCIS type: the export
        // has them already as captured.
        let mut sql = format!(
            "SELECT e.event_id AS event_id, e.dfid AS dfid, e.event_type AS event_type, e.metadata AS metadata, \
                    e.occurred_at AS occurred_at, e.recorded_at AS recorded_at, \
                    (SELECT ii.value FROM item_identifiers ii WHERE ii.dfid = e.dfid AND ii.key = 'epc' \
                       AND (ii.id_type = 'Canonical' OR ii.scope IS NULL OR ii.scope <> 'user') \
                     ORDER BY ii.created_at, ii.id LIMIT 1) AS epc \
             FROM events e JOIN circuit_items ci ON ci.dfid = e.dfid AND ci.circuit_id = ? \
             WHERE e.visibility <> 'Private' AND e.event_type NOT IN ({})",
            placeholders(EventType::ALL.len())
        );
        let mut values: Vec<sea_orm::Value> = vec![circuit_id.into()];
        values.extend(EventType::ALL.iter().map(|t| t.as_str().into()));
        if let Some(bound) = query.ge_event_time {
            sql.push_str(" AND e.occurred_at >= ?");
            values.push(bound.into());
        }
        if let Some(bound) = query.lt_event_time {
            sql.push_str(" AND e.occurred_at < ?");
            values.push(bound.into());
        }
        if let Some(after) = after {
            sql.push_str(" AND (e.occurred_at > ? OR (e.occurred_at = ? AND e.event_id > ?))");
            values.extend([
                after.occurred_at.into(),
                after.occurred_at.into(),
                after.event_id.as_str().into(),
            ]);
        }
        sql.push_str(" ORDER BY e.occurred_at, e.event_id LIMIT ?");
        values.push(limit.into());

        #[derive(FromQueryResult)]
        struct NativeRow {
            event_id: String,
            dfid: String,
            event_type: String,
            metadata: serde_json::Value,
            occurred_at: chrono::DateTime<chrono::Utc>,
            recorded_at: chrono::DateTime<chrono::Utc>,
            epc: Option<String>,
        }
        let rows: Vec<NativeRow> = self.rows("native_circuit_events", sql, values).await?;
        Ok(rows
            .into_iter()
            .map(|row| NativeEvent {
                event_id: row.event_id,
                dfid: row.dfid,
                event_type: row.event_type,
                metadata: row.metadata,
                occurred_at: row.occurred_at,
                recorded_at: row.recorded_at,
                epc: row.epc,
            })
            .collect())
    }
}

/// `n` comma-separated placeholders.
fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// The statement for this engine: PostgreSQL numbers its placeholders.
fn numbered(backend: DbBackend, sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    let sql = match backend {
        DbBackend::Postgres => {
            let mut numbered = String::with_capacity(sql.len() + 16);
            let mut n = 0;
            for c in sql.chars() {
                if c == '?' {
                    n += 1;
                    numbered.push_str(&format!("${n}"));
                } else {
                    numbered.push(c);
                }
            }
            numbered
        }
        _ => sql.to_owned(),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// 1 when `viewer` may see the event aliased `event` (two placeholders: the viewer, twice).
fn visible(event: &str) -> String {
    format!(
        "CASE WHEN {event}.circuit_id IN (SELECT circuit_id FROM circuit_members WHERE user_id = ?) \
         AND ({event}.visibility <> 'Private' OR {event}.captured_by = ?) THEN 1 ELSE 0 END"
    )
}

#[derive(FromQueryResult)]
struct EdgeRow {
    src: String,
    dst: String,
    kind: String,
    event_id: String,
    event_time: chrono::DateTime<chrono::Utc>,
    visible: i32,
}

#[derive(FromQueryResult)]
struct AggregationRow {
    seq: i64,
    parent: String,
    action: Option<String>,
    child: Option<String>,
    event_time: chrono::DateTime<chrono::Utc>,
}

impl SqlStore {
    async fn rows<T: FromQueryResult + Send + 'static>(
        &self,
        op: &'static str,
        sql: String,
        values: Vec<sea_orm::Value>,
    ) -> Result<Vec<T>> {
        self.db
            .read(op, |c| {
                Box::pin(async move {
                    Ok(T::find_by_statement(numbered(c.get_database_backend(), &sql, values))
                        .all(c)
                        .await?)
                })
            })
            .await
    }
}

#[async_trait::async_trait]
impl LineageRepo for SqlStore {
    async fn lineage_within(
        &self,
        viewer: &str,
        root: &str,
        direction: Direction,
        depth: u32,
    ) -> Result<Vec<LineageEdge>> {
        // `reach`: the items `depth` visible steps or fewer from the root, in one recursive
        // walk. A step goes from the near side of an edge (backward: an output or a parent;
        // forward: an input or a child) to its far side, through an event on the output's side
        // the viewer may see. Then every edge touching a reached item, each marked visible or
        // not, for the service to walk level by level as it always has.
        let (near_output, near_child, step_roles, far_role, output_side) = match direction {
            Direction::Backward => (
                "o",
                "p",
                "'output', 'parent'",
                "CASE n.role WHEN 'output' THEN 'input' ELSE 'child' END",
                "e",
            ),
            Direction::Forward => (
                "i",
                "c",
                "'input', 'child'",
                "CASE n.role WHEN 'input' THEN 'output' ELSE 'parent' END",
                "ef",
            ),
        };
        let visible_step = visible(output_side);
        let visible = visible("e");
        let sql = format!(
            "WITH RECURSIVE reach(dfid, level) AS ( \
               SELECT CAST(? AS VARCHAR), 0 \
               UNION \
               SELECT f.dfid, r.level + 1 \
               FROM reach r \
               JOIN epcis_event_epcs n ON n.dfid = r.dfid AND n.role IN ({step_roles}) \
               JOIN epcis_events e ON e.seq = n.event_seq \
               JOIN epcis_events ef ON ef.seq = e.seq OR (n.role IN ('input', 'output') \
                    AND e.transformation_id IS NOT NULL AND ef.transformation_id = e.transformation_id \
                    AND ef.circuit_id = e.circuit_id) \
               JOIN epcis_event_epcs f ON f.event_seq = ef.seq AND f.role = {far_role} \
               WHERE r.level < ? AND f.dfid IS NOT NULL \
                 AND (n.role IN ('input', 'output') \
                      OR (e.event_type = 'AggregationEvent' AND e.action IN ('ADD', 'OBSERVE'))) \
                 AND {visible_step} = 1 \
             ) \
             SELECT i.dfid AS src, o.dfid AS dst, 'transformation' AS kind, e.event_id AS event_id, \
                    e.event_time AS event_time, {visible} AS visible \
             FROM epcis_events e \
             JOIN epcis_event_epcs o ON o.event_seq = e.seq AND o.role = 'output' \
             JOIN epcis_events ei ON ei.seq = e.seq OR (e.transformation_id IS NOT NULL \
                  AND ei.transformation_id = e.transformation_id AND ei.circuit_id = e.circuit_id) \
             JOIN epcis_event_epcs i ON i.event_seq = ei.seq AND i.role = 'input' \
             WHERE {near_output}.dfid IN (SELECT dfid FROM reach) AND i.dfid IS NOT NULL AND o.dfid IS NOT NULL \
             UNION ALL \
             SELECT c.dfid, p.dfid, 'aggregation', e.event_id, e.event_time, {visible} \
             FROM epcis_events e \
             JOIN epcis_event_epcs p ON p.event_seq = e.seq AND p.role = 'parent' \
             JOIN epcis_event_epcs c ON c.event_seq = e.seq AND c.role = 'child' \
             WHERE e.event_type = 'AggregationEvent' AND e.action IN ('ADD', 'OBSERVE') \
               AND {near_child}.dfid IN (SELECT dfid FROM reach) AND c.dfid IS NOT NULL AND p.dfid IS NOT NULL"
        );
        let values: Vec<sea_orm::Value> = vec![
            root.into(),
            i64::from(depth).into(),
            viewer.into(),
            viewer.into(),
            viewer.into(),
            viewer.into(),
            viewer.into(),
            viewer.into(),
        ];
        let rows: Vec<EdgeRow> = self.rows("lineage_within", sql, values).await?;
        Ok(rows
            .into_iter()
            .map(|row| LineageEdge {
                from: row.src,
                to: row.dst,
                kind: EdgeKind::from_text(&row.kind).unwrap_or(EdgeKind::Aggregation),
                event_id: row.event_id,
                event_time: row.event_time,
                visible: row.visible != 0,
            })
            .collect())
    }

    async fn aggregations(&self, viewer: &str, parents: &[String]) -> Result<Vec<Aggregation>> {
        if parents.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT e.seq AS seq, p.dfid AS parent, e.action AS action, c.dfid AS child, e.event_time AS event_time \
             FROM epcis_events e \
             JOIN epcis_event_epcs p ON p.event_seq = e.seq AND p.role = 'parent' \
             LEFT JOIN epcis_event_epcs c ON c.event_seq = e.seq AND c.role = 'child' \
             WHERE e.event_type = 'AggregationEvent' AND p.dfid IN ({}) AND {} = 1",
            placeholders(parents.len()),
            visible("e")
        );
        let mut values: Vec<sea_orm::Value> = parents.iter().map(|d| d.as_str().into()).collect();
        values.extend([viewer.into(), viewer.into()]);
        let rows: Vec<AggregationRow> = self.rows("aggregations", sql, values).await?;
        let mut events: Vec<Aggregation> = Vec::new();
        for row in rows {
            match events
                .iter_mut()
                .find(|event| event.seq == row.seq && event.parent == row.parent)
            {
                Some(event) => event.children.extend(row.child),
                None => events.push(Aggregation {
                    parent: row.parent,
                    action: row.action.unwrap_or_default(),
                    children: row.child.into_iter().collect(),
                    event_time: row.event_time,
                    seq: row.seq,
                }),
            }
        }
        Ok(events)
    }

    async fn aggregation_parents(&self, viewer: &str, child: &str) -> Result<Vec<String>> {
        let visible = visible("e");
        let sql = format!(
            "SELECT DISTINCT p.dfid AS parent FROM epcis_events e \
             JOIN epcis_event_epcs c ON c.event_seq = e.seq AND c.role = 'child' \
             JOIN epcis_event_epcs p ON p.event_seq = e.seq AND p.role = 'parent' \
             WHERE e.event_type = 'AggregationEvent' AND c.dfid = ? AND p.dfid IS NOT NULL AND {visible} = 1"
        );
        #[derive(FromQueryResult)]
        struct ParentRow {
            parent: String,
        }
        let rows: Vec<ParentRow> = self
            .rows(
                "aggregation_parents",
                sql,
                vec![child.into(), viewer.into(), viewer.into()],
            )
            .await?;
        Ok(rows.into_iter().map(|row| row.parent).collect())
    }
}
