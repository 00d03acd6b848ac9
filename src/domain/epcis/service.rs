//! EPCIS use cases: capture a document into a circuit, read capture jobs, query and export the
//! events a caller may see.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::Value;

use super::capture::{CAPTURED_BEFORE_ANSWERING, CaptureError, CaptureJob, EventRecord, NewEpcisEvent};
use super::event::{CapturedEvent, read_event};
use super::native::{NativeCursor, NativeExport};
use super::ports::EpcisRepo;
use super::query::{EventQuery, MAX_PER_PAGE};
use super::subscription::epcis_trigger;
use super::{Epc, document_events};
use crate::domain::changes::{Change, UnitOfWork};
use crate::domain::circuits::circuit::CircuitId;
use crate::domain::circuits::membership::circuit_member;
use crate::domain::circuits::ports::{CircuitRepo, MemberRepo};
use crate::domain::circuits::push_service::PushService;
use crate::domain::error::retry_on_race;
use crate::domain::identity::access::{Principal, TierPolicy};
use crate::domain::items::event::{Event, EventTimes, Visibility};
use crate::domain::items::item_service::month_start;
use crate::domain::{Error, Result, Timestamp};
use crate::ports::{Clock, IdGenerator};

combined_port!(
    /// What EPCIS needs from storage.
    pub trait EpcisStore: UnitOfWork, EpcisRepo, CircuitRepo, MemberRepo
);

pub struct EpcisService {
    pub(crate) store: Arc<dyn EpcisStore>,
    /// Resolves and mints the items EPCs name, under push's ownership rules.
    pub(crate) push: Arc<PushService>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: Arc<dyn IdGenerator>,
    pub(crate) policy: TierPolicy,
    /// Most events one document may hold (`EPCIS_MAX_EVENTS`).
    pub(crate) max_events: usize,
    /// How native events read as EPCIS in exports.
    pub(crate) native: NativeExport,
    /// Longest a background capture may run (`DB_BULK_TIMEOUT_MS`): then it is stopped, and a
    /// job still running later was interrupted.
    pub(crate) longest_capture: std::time::Duration,
}

/// How long after the longest capture a job still marked running counts as interrupted: the
/// time to record a failure after the deadline.
const INTERRUPTED_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// A page of events and the token of the next one.
pub struct EventPage {
    pub events: Vec<EventRecord>,
    pub next_page_token: Option<String>,
}

/// Where an export goes on: captured events in capture order, then native ones in time order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportPosition {
    /// After the captured event of this store order (from the start when none).
    Captured(Option<i64>),
    /// After this native event (from the first when none).
    Native(Option<NativeCursor>),
}

/// A page of an export and where the next one starts (none after the last).
pub struct ExportPage {
    pub events: Vec<EventRecord>,
    pub next: Option<ExportPosition>,
}

impl EpcisService {
    /// Opens a capture job for a document of `events` events (none when it has no event list)
    /// into the circuit, where the caller must hold `Push`: who may not capture learns nothing
    /// about the document.
    pub async fn begin(&self, principal: &Principal, circuit_id: &CircuitId, events: usize) -> Result<CaptureJob> {
        self.push.capturing_member(principal, circuit_id).await?;
        if events == 0 || events > self.max_events {
            return Err(Error::field(
                "epcisBody.eventList",
                format!("1 to {} events (EPCIS_MAX_EVENTS)", self.max_events),
            ));
        }
        let job = CaptureJob::started(self.ids.new_id(), circuit_id, &principal.user_id, self.clock.now());
        self.store.commit(vec![Change::InsertCaptureJob(job.clone())]).await?;
        Ok(job)
    }

    /// Captures the document's events, all or none, and records the outcome on the job.
    pub async fn capture(
        &self,
        principal: &Principal,
        job: CaptureJob,
        document: &Value,
        visibility: Visibility,
    ) -> Result<CaptureJob> {
        let capturing = retry_on_race(|| self.try_capture(principal, &job, document, visibility));
        let outcome = tokio::time::timeout(self.longest_capture, capturing)
            .await
            .unwrap_or_else(|_| {
                Err(Error::unavailable(
                    "capture_timeout",
                    "the capture took longer than the service allows (DB_BULK_TIMEOUT_MS)",
                    1,
                ))
            });
        match outcome {
            Ok(finished) => Ok(finished),
            Err(error) => {
                // The job never stays running: it says why it stopped.
                let failure = CaptureError {
                    index: 0,
                    field: String::new(),
                    code: error.code.to_string(),
                    message: error.message.clone(),
                };
                let failed = job.failed(vec![failure], self.clock.now());
                self.store.commit(vec![Change::FinishCaptureJob(failed)]).await?;
                Err(error)
            }
        }
    }

    async fn try_capture(
        &self,
        principal: &Principal,
        job: &CaptureJob,
        document: &Value,
        visibility: Visibility,
    ) -> Result<CaptureJob> {
        let now = self.clock.now();
        let (namespaces, events) = document_events(document).map_err(|why| Error::field("epcisBody", why))?;
        let mut errors = Vec::new();
        let mut read = Vec::with_capacity(events.len());
        for (index, value) in events.iter().enumerate() {
            match read_event(value, &namespaces) {
                Ok(event) => read.push((index, event)),
                Err(wrong) => errors.push(CaptureError {
                    index,
                    field: wrong.field,
                    code: "invalid_field".to_owned(),
                    message: wrong.message,
                }),
            }
        }
        if !errors.is_empty() {
            return self.finish(job.clone().failed(errors, now)).await;
        }

        let hashes: Vec<String> = read.iter().map(|(_, event)| event.event_hash.clone()).collect();
        let captured = self.store.captured_hashes(&job.circuit_id, &hashes).await?;
        let mut seen = HashSet::new();
        let (mut fresh, mut duplicated) = (Vec::with_capacity(read.len()), 0u64);
        for (index, event) in read {
            if captured.contains(&event.event_hash) || !seen.insert(event.event_hash.clone()) {
                duplicated += 1;
            } else {
                fresh.push((index, event));
            }
        }

        let (circuit, member) = self.push.capturing_member(principal, &job.circuit_id).await?;
        let mut epcs: Vec<Epc> = fresh
            .iter()
            .flat_map(|(_, event)| objects(event).map(|(_, epc)| epc.clone()))
            .collect();
        epcs.sort();
        epcs.dedup();
        let planned = self
            .push
            .plan_epc_items(principal, &circuit, &member, &epcs, now)
            .await?;
        for (index, event) in &fresh {
            let refused = event.epcs.iter().enumerate().find_map(|(position, (role, epc))| {
                match (role.names_an_object(), planned.items.get(epc)) {
                    (true, Some(Err(error))) => Some((epc_field(event, position), error)),
                    _ => None,
                }
            });
            if let Some((field, error)) = refused {
                errors.push(CaptureError {
                    index: *index,
                    field,
                    code: error.code.to_string(),
                    message: error.message.clone(),
                });
            }
        }
        if !errors.is_empty() {
            return self.finish(job.clone().failed(errors, now)).await;
        }

        let mut changes = Vec::new();
        if planned.minted > 0
            && let Some(limit) = self.policy.max_items_per_month(principal.tier)
        {
            changes.push(Change::HoldItemLimit {
                owner_id: principal.user_id.clone(),
                since: month_start(now),
                limit,
                adding: planned.minted,
            });
        }
        changes.extend(planned.changes);
        let mut item_events = Vec::new();
        let mut stored = Vec::with_capacity(fresh.len());
        let captured_count = fresh.len() as u64;
        for (_, event) in fresh {
            let dfids: Vec<Option<String>> = event
                .epcs
                .iter()
                .map(|(role, epc)| {
                    role.names_an_object()
                        .then(|| planned.items.get(epc).and_then(|item| item.as_ref().ok()).cloned())
                        .flatten()
                })
                .collect();
            let mut named: Vec<&String> = dfids.iter().flatten().collect();
            named.sort();
            named.dedup();
            for dfid in named {
                item_events.push(Event::new(
                    self.ids.new_id(),
                    dfid,
                    event.event_type.as_str(),
                    visibility,
                    &principal.user_id,
                    event.document.clone(),
                    EventTimes {
                        occurred_at: event.event_time,
                        recorded_at: now,
                    },
                )?);
            }
            if visibility != Visibility::Private {
                let first_item = dfids.iter().flatten().next().map_or("", String::as_str);
                changes.push(Change::Trigger(epcis_trigger(
                    self.ids.new_id(),
                    &job.circuit_id,
                    first_item,
                    &principal.user_id,
                    &event.document,
                    now,
                )));
            }
            stored.push(NewEpcisEvent {
                circuit_id: job.circuit_id.clone(),
                event,
                record_time: now,
                capture_id: Some(job.capture_id.clone()),
                captured_by: principal.user_id.clone(),
                visibility,
                dfids,
            });
        }
        let content_hashes: Vec<String> = item_events.iter().map(|e| e.content_hash.clone()).collect();
        let recorded = if content_hashes.is_empty() {
            HashSet::new()
        } else {
            self.store.recorded_content_hashes(&content_hashes).await?
        };
        changes.extend(
            item_events
                .into_iter()
                .filter(|event| !recorded.contains(&event.content_hash))
                .map(Change::InsertEvent),
        );
        changes.push(Change::InsertEpcisEvents(stored));
        let finished = job.clone().succeeded(captured_count, duplicated, now);
        changes.push(Change::FinishCaptureJob(finished.clone()));
        let changes = Change::grouped_by_kind(changes);
        if events.len() > CAPTURED_BEFORE_ANSWERING {
            // A background job: no request waits on it, and a whole document is a large unit.
            self.store.commit_bulk(changes).await?;
        } else {
            self.store.commit(changes).await?;
        }
        Ok(finished)
    }

    async fn finish(&self, job: CaptureJob) -> Result<CaptureJob> {
        self.store.commit(vec![Change::FinishCaptureJob(job.clone())]).await?;
        Ok(job)
    }

    /// A capture job of the circuit, for its members.
    pub async fn job(&self, principal: &Principal, circuit_id: &CircuitId, capture_id: &str) -> Result<CaptureJob> {
        circuit_member(self.store.as_ref(), circuit_id, &principal.user_id).await?;
        self.store
            .capture_job(capture_id)
            .await?
            .filter(|job| job.circuit_id == circuit_id.as_str())
            .map(|job| job.as_of(self.clock.now(), self.longest_capture + INTERRUPTED_AFTER))
            .ok_or_else(|| Error::not_found("capture job"))
    }

    /// Events the caller may see that match the query, a page at a time.
    pub async fn query(&self, principal: &Principal, query: &EventQuery) -> Result<EventPage> {
        let mut events = self.store.epcis_events(&principal.user_id, query).await?;
        let next_page_token = if events.len() as u64 > query.per_page {
            events.truncate(query.per_page as usize);
            events.last().map(|event| event.seq.to_string())
        } else {
            None
        };
        Ok(EventPage {
            events,
            next_page_token,
        })
    }

    /// One event by its `eventID`, if the caller may see it.
    pub async fn event(&self, principal: &Principal, event_id: &str) -> Result<EventRecord> {
        let query = EventQuery {
            event_ids: vec![event_id.to_owned()],
            per_page: 1,
            ..EventQuery::default()
        };
        self.store
            .epcis_events(&principal.user_id, &query)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| Error::not_found("event"))
    }

    /// A page of the circuit's events matching `query`, for its members (the export): its
    /// captured events, then the native events on its items as ObjectEvents. Membership is
    /// checked on every page, so a member who leaves stops reading.
    pub async fn export_page(
        &self,
        principal: &Principal,
        circuit_id: &CircuitId,
        query: &EventQuery,
        position: ExportPosition,
    ) -> Result<ExportPage> {
        circuit_member(self.store.as_ref(), circuit_id, &principal.user_id).await?;
        match position {
            ExportPosition::Captured(after) => {
                let query = EventQuery {
                    circuit_id: Some(circuit_id.to_string()),
                    per_page: MAX_PER_PAGE,
                    after,
                    ..query.clone()
                };
                let page = self.query(principal, &query).await?;
                let next = match page.events.last() {
                    Some(last) if page.next_page_token.is_some() => ExportPosition::Captured(Some(last.seq)),
                    _ => ExportPosition::Native(None),
                };
                Ok(ExportPage {
                    events: page.events,
                    next: Some(next),
                })
            }
            ExportPosition::Native(after) => {
                let mut natives = self
                    .store
                    .native_circuit_events(circuit_id.as_str(), query, after.as_ref(), MAX_PER_PAGE + 1)
                    .await?;
                let next = if natives.len() as u64 > MAX_PER_PAGE {
                    natives.truncate(MAX_PER_PAGE as usize);
                    natives.last().map(|last| ExportPosition::Native(Some(last.cursor())))
                } else {
                    None
                };
                let mut events = Vec::with_capacity(natives.len());
                for native in &natives {
                    let event = self.native.event(native)?;
                    if query.matches(&event, native.recorded_at) {
                        events.push(EventRecord {
                            seq: 0,
                            circuit_id: circuit_id.to_string(),
                            event_id: event.event_id,
                            record_time: native.recorded_at,
                            document: event.document,
                        });
                    }
                }
                Ok(ExportPage { events, next })
            }
        }
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}

/// The EPCs of an event that name one object each.
fn objects(event: &CapturedEvent) -> impl Iterator<Item = &(super::event::EpcRole, Epc)> {
    event.epcs.iter().filter(|(role, _)| role.names_an_object())
}

/// The field of the event's `position`-th EPC (`epcList[1]`, `parentID`, ...).
fn epc_field(event: &CapturedEvent, position: usize) -> String {
    let role = event.epcs[position].0;
    let index = event.epcs[..position].iter().filter(|(r, _)| *r == role).count();
    match role.as_str() {
        "epc" => format!("epcList[{index}]"),
        "child" => format!("childEPCs[{index}]"),
        "input" => format!("inputEPCList[{index}]"),
        "output" => format!("outputEPCList[{index}]"),
        "parent" => "parentID".to_owned(),
        _ => "quantityList".to_owned(),
    }
}
