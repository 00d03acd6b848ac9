//! Events: recorded on items (deduplicated by content), read under the visibility rules, and
//! local events pushed to items later.

use crate::domain::circuits::circuit::CircuitId;
use crate::domain::circuits::membership::circuit_member;
use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::domain::Timestamp;
use crate::domain::audit::Activity;
use crate::domain::changes::{Change, UnitOfWork};
use crate::domain::circuits::ports::{CircuitItemRepo, CircuitRepo, MemberRepo};
use crate::domain::circuits::roles::Permission;
use crate::domain::epcis::event::EventType;
use crate::domain::epcis::native::{NativeEvent, NativeExport};
use crate::domain::epcis::subscription::epcis_trigger;
use crate::domain::error::retry_on_race;
use crate::domain::identity::access::Principal;
use crate::domain::items::dfid::Dfid;
use crate::domain::items::event::EventTimes;
use crate::domain::items::event::{
    Event, LocalEvent, Visibility, format_occurred_at, normalize_metadata, parse_occurred_at,
    validate_client_event_type,
};
use crate::domain::items::item::{Item, ItemStatus};
use crate::domain::items::ports::{EventFilter, EventRepo, ItemRepo};
use crate::domain::items::relation::visible_item;
use crate::domain::page::{Page, PageRequest};
use crate::domain::partners::trigger::{Trigger, TriggerKind};
use crate::domain::{Error, Result};
use crate::ports::{Clock, IdGenerator};

combined_port!(
    /// What event use cases need from storage.
    pub trait EventStore: UnitOfWork, ItemRepo, EventRepo, CircuitRepo, MemberRepo, CircuitItemRepo
);

pub struct EventService {
    pub(crate) store: Arc<dyn EventStore>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: Arc<dyn IdGenerator>,
    /// How events read as EPCIS for `epcis_event` subscribers.
    pub(crate) native: NativeExport,
}

/// An event as a client describes it.
#[derive(Debug, Clone, Default)]
pub struct EventInput {
    pub event_type: String,
    pub visibility: Option<Visibility>,
    pub metadata: Option<Value>,
    /// RFC 3339; the server's receive time when absent.
    pub occurred_at: Option<String>,
}

/// A recorded event, and whether identical content had been recorded before.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub event: Event,
    pub was_deduplicated: bool,
}

/// One local event pushed to an item.
#[derive(Debug, Clone, PartialEq)]
pub struct PushedEvent {
    pub local_event_id: String,
    pub event_id: String,
    pub dfid: String,
    pub was_deduplicated: bool,
}

struct Validated {
    event_type: String,
    visibility: Visibility,
    metadata: Value,
    occurred_at: Timestamp,
}

fn validate(input: EventInput, now: Timestamp) -> Result<Validated> {
    validate_client_event_type(&input.event_type)?;
    let occurred_at = match input.occurred_at.as_deref() {
        Some(text) => parse_occurred_at(text)?,
        None => now,
    };
    Ok(Validated {
        event_type: input.event_type,
        visibility: input.visibility.unwrap_or(Visibility::CircuitOnly),
        metadata: normalize_metadata(input.metadata)?,
        occurred_at,
    })
}

/// What partners hear of a recorded event, nothing for a `Private` one: for each circuit holding
/// the item, `event_created`, and `epcis_event` with the event as the circuit's export writes it.
pub(crate) fn event_triggers(
    ids: &dyn IdGenerator,
    export: &NativeExport,
    event: &Event,
    item: &Item,
    circuit_ids: &[String],
) -> Result<Vec<Change>> {
    if event.visibility == Visibility::Private {
        return Ok(Vec::new());
    }
    // Captures record their events on items under the EPCIS type; they announce them themselves.
    let epcis = match EventType::from_text(&event.event_type) {
        Some(_) => None,
        None => Some(export.event(&NativeEvent::of(event, item.shared_epc()))?.document),
    };
    let mut changes = Vec::with_capacity(circuit_ids.len() * 2);
    for circuit_id in circuit_ids {
        let mut trigger = Trigger::new(
            ids.new_id(),
            TriggerKind::EventCreated,
            circuit_id,
            &event.dfid,
            &event.source,
            event.recorded_at,
        );
        trigger.event = Some(json!({
            "event_id": event.event_id,
            "event_type": event.event_type,
            "occurred_at": format_occurred_at(event.occurred_at),
            "visibility": event.visibility.as_str(),
        }));
        changes.push(Change::Trigger(trigger));
        if let Some(document) = &epcis {
            changes.push(Change::Trigger(epcis_trigger(
                ids.new_id(),
                circuit_id,
                &event.dfid,
                &event.source,
                document,
                event.recorded_at,
            )));
        }
    }
    Ok(changes)
}

impl EventService {
    /// Records an event on an item the caller may change. The same content again returns the
    /// existing event with `was_deduplicated`.
    pub async fn create(&self, principal: &Principal, dfid: &str, input: EventInput) -> Result<Recorded> {
        let now = self.clock.now();
        let valid = validate(input, now)?;
        let (item, relation) = visible_item(self.store.as_ref(), dfid, &principal.user_id).await?;
        relation.require_changeable()?;
        if item.status != ItemStatus::Active {
            return Err(Error::conflict(
                "item_not_active",
                format!("this item is {}", item.status.as_str()),
            ));
        }
        let event = Event::new(
            self.ids.new_id(),
            &item.dfid,
            &valid.event_type,
            valid.visibility,
            &principal.user_id,
            valid.metadata,
            EventTimes {
                occurred_at: valid.occurred_at,
                recorded_at: now,
            },
        )?;
        let circuits = relation.circuit_ids();
        retry_on_race(|| async {
            if let Some(existing) = self.store.event_by_hash(&event.content_hash).await? {
                return Ok(Recorded {
                    event: existing,
                    was_deduplicated: true,
                });
            }
            let mut changes = vec![
                Change::InsertEvent(event.clone()),
                Change::Activity(
                    Activity::new(
                        self.ids.new_id(),
                        "event_created",
                        &principal.user_id,
                        format!("recorded {} on {}", event.event_type, event.dfid),
                        now,
                    )
                    .on_item(&event.dfid),
                ),
            ];
            changes.extend(event_triggers(
                self.ids.as_ref(),
                &self.native,
                &event,
                &item,
                &circuits,
            )?);
            self.store.commit(changes).await?;
            Ok(Recorded {
                event: event.clone(),
                was_deduplicated: false,
            })
        })
        .await
    }

    /// Events the caller can see; with `circuit_id`, only on that circuit's items (404 for
    /// non-members).
    pub async fn list(&self, principal: &Principal, filter: &EventFilter, page: &PageRequest) -> Result<Page<Event>> {
        if let Some(circuit_id) = &filter.circuit_id {
            self.store
                .member(circuit_id, &principal.user_id)
                .await?
                .ok_or_else(|| Error::not_found("circuit"))?;
        }
        if let Some(dfid) = &filter.dfid {
            Dfid::parse(dfid)?;
        }
        if let (Some(from), Some(to)) = (filter.from, filter.to)
            && from > to
        {
            return Err(Error::field("from", "must not be after `to`"));
        }
        self.store.visible_events(&principal.user_id, filter, page).await
    }

    /// One event, if the caller may see it (404 otherwise).
    pub async fn get(&self, principal: &Principal, event_id: &str) -> Result<Event> {
        let event = self
            .store
            .event(event_id)
            .await?
            .ok_or_else(|| Error::not_found("event"))?;
        let visible = match visible_item(self.store.as_ref(), &event.dfid, &principal.user_id).await {
            Ok((_, relation)) => relation.can_see_event(&event),
            Err(err) if err.is("not_found") => false,
            Err(err) => return Err(err),
        };
        if visible {
            Ok(event)
        } else {
            Err(Error::not_found("event"))
        }
    }

    pub async fn create_local(&self, principal: &Principal, input: EventInput) -> Result<LocalEvent> {
        let now = self.clock.now();
        let valid = validate(input, now)?;
        let event = LocalEvent {
            local_event_id: self.ids.new_id(),
            owner_id: principal.user_id.clone(),
            event_type: valid.event_type,
            visibility: valid.visibility,
            metadata: valid.metadata,
            occurred_at: valid.occurred_at,
            created_at: now,
            event_id: None,
            dfid: None,
        };
        self.store.commit(vec![Change::InsertLocalEvent(event.clone())]).await?;
        Ok(event)
    }

    pub async fn local_events(&self, principal: &Principal, page: &PageRequest) -> Result<Page<LocalEvent>> {
        self.store.local_events(&principal.user_id, page).await
    }

    /// Ties the caller's local events to an item in the circuit, as events of that item.
    pub async fn push_events(
        &self,
        principal: &Principal,
        circuit_id: &CircuitId,
        dfid: &str,
        local_event_ids: &[String],
    ) -> Result<Vec<PushedEvent>> {
        if local_event_ids.is_empty() || local_event_ids.len() > 500 {
            return Err(Error::field("local_event_ids", "1 to 500 ids"));
        }
        retry_on_race(|| self.try_push_events(principal, circuit_id, dfid, local_event_ids)).await
    }

    async fn try_push_events(
        &self,
        principal: &Principal,
        circuit_id: &str,
        dfid: &str,
        local_event_ids: &[String],
    ) -> Result<Vec<PushedEvent>> {
        let (circuit, member) = circuit_member(self.store.as_ref(), circuit_id, &principal.user_id).await?;
        circuit.require_active()?;
        member.require(Permission::Push)?;
        let (item, relation) = visible_item(self.store.as_ref(), dfid, &principal.user_id).await?;
        if !self.store.holds_item(circuit_id, &item.dfid).await? {
            return Err(Error::not_found("item in this circuit"));
        }
        relation.require_changeable()?;
        let now = self.clock.now();
        let mut changes = Vec::new();
        let mut pushed = Vec::new();
        // Content hash -> event id of events this request adds, so duplicates within it collapse.
        let mut added: HashMap<String, String> = HashMap::new();
        for local_event_id in local_event_ids {
            let local = self
                .store
                .local_event(local_event_id)
                .await?
                .filter(|e| e.owner_id == principal.user_id)
                .ok_or_else(|| {
                    Error::not_found("local event").with_details(json!({ "local_event_id": local_event_id }))
                })?;
            if local.event_id.is_some() {
                return Err(
                    Error::conflict("local_event_already_pushed", "this local event was already pushed")
                        .with_details(json!({ "local_event_id": local_event_id })),
                );
            }
            let event = Event::new(
                self.ids.new_id(),
                &item.dfid,
                &local.event_type,
                local.visibility,
                &principal.user_id,
                local.metadata,
                EventTimes {
                    occurred_at: local.occurred_at,
                    recorded_at: now,
                },
            )?;
            let (event_id, was_deduplicated) =
                if let Some(existing) = self.store.event_by_hash(&event.content_hash).await? {
                    (existing.event_id, true)
                } else if let Some(event_id) = added.get(&event.content_hash) {
                    (event_id.clone(), true)
                } else {
                    added.insert(event.content_hash.clone(), event.event_id.clone());
                    changes.extend(event_triggers(
                        self.ids.as_ref(),
                        &self.native,
                        &event,
                        &item,
                        std::slice::from_ref(&circuit.circuit_id),
                    )?);
                    let event_id = event.event_id.clone();
                    changes.push(Change::InsertEvent(event));
                    (event_id, false)
                };
            changes.push(Change::AttachLocalEvent {
                local_event_id: local_event_id.clone(),
                event_id: event_id.clone(),
                dfid: item.dfid.clone(),
            });
            pushed.push(PushedEvent {
                local_event_id: local_event_id.clone(),
                event_id,
                dfid: item.dfid.clone(),
                was_deduplicated,
            });
        }
        changes.push(Change::Activity(
            Activity::new(
                self.ids.new_id(),
                "events_pushed",
                &principal.user_id,
                format!("pushed {} events to {}", pushed.len(), item.dfid),
                now,
            )
            .in_circuit(&circuit.circuit_id)
            .on_item(&item.dfid),
        ));
        self.store.commit(changes).await?;
        Ok(pushed)
    }
}
