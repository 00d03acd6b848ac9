//! `/api/events`: events on items, local events, and pushing local events to an item.

use crate::domain::circuits::circuit::CircuitId;
use chrono::{DateTime, Utc};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::caller::Caller;
use super::error::ApiResult;
use super::types::{JsonObject, page};
use super::views::{EventList, EventView, LocalEventList, LocalEventView, VisibilityName};
use super::{ApiTags, State};
use crate::domain::items::event_service::EventInput;
use crate::domain::items::ports::EventFilter;

pub struct EventsApi;

#[derive(Object)]
struct NewEvent {
    dfid: String,
    /// 1 to 64 characters of `A-Z a-z 0-9 _ . : -`; not one of the server's own types
    /// (`Tokenized`, `PushedToCircuit`, `PulledFromCircuit`, `Enriched`, `Merged`, `Split`,
    /// `StatusChanged`, compared ignoring case).
    event_type: String,
    /// Default `CircuitOnly`.
    #[oai(nullable)]
    visibility: Option<VisibilityName>,
    /// A JSON object; missing or null is `{}`.
    #[oai(nullable)]
    metadata: Option<JsonObject>,
    /// RFC 3339; default: when the server received it.
    #[oai(nullable)]
    occurred_at: Option<String>,
}

#[derive(Object)]
struct NewLocalEvent {
    event_type: String,
    #[oai(nullable)]
    visibility: Option<VisibilityName>,
    #[oai(nullable)]
    metadata: Option<JsonObject>,
    #[oai(nullable)]
    occurred_at: Option<String>,
}

#[derive(Object)]
struct PushEvents {
    dfid: String,
    /// 1 to 500 of the caller's unpushed local events.
    local_event_ids: Vec<String>,
}

#[derive(Object)]
struct PushedEventView {
    local_event_id: String,
    event_id: String,
    dfid: String,
    was_deduplicated: bool,
}

#[derive(Object)]
struct PushedEvents {
    circuit_id: String,
    events_pushed: u64,
    events_deduplicated: u64,
    events: Vec<PushedEventView>,
}

#[derive(ApiResponse)]
enum EventCreated {
    /// Recorded.
    #[oai(status = 201)]
    Created(Json<EventView>),
    /// The same content was recorded before; this is that event (`was_deduplicated: true`).
    #[oai(status = 200)]
    Deduplicated(Json<EventView>),
}

#[derive(ApiResponse)]
enum LocalEventCreated {
    /// Recorded, not yet tied to an item.
    #[oai(status = 201)]
    Created(Json<LocalEventView>),
}

fn input(
    event_type: String,
    visibility: Option<VisibilityName>,
    metadata: Option<JsonObject>,
    occurred_at: Option<String>,
) -> EventInput {
    EventInput {
        event_type,
        visibility: visibility.map(Into::into),
        metadata: metadata.map(|m| m.0),
        occurred_at,
    }
}

#[OpenApi(tag = "ApiTags::Events")]
impl EventsApi {
    /// Record an event on an item the caller may change. Identical content is stored once.
    #[oai(path = "/api/events", method = "post", operation_id = "create_event")]
    async fn create(&self, state: State<'_>, caller: Caller, body: Json<NewEvent>) -> ApiResult<EventCreated> {
        let body = body.0;
        let recorded = state
            .events
            .create(
                &caller.principal,
                &body.dfid,
                input(body.event_type, body.visibility, body.metadata, body.occurred_at),
            )
            .await?;
        let mut view = EventView::from(recorded.event);
        view.was_deduplicated = Some(recorded.was_deduplicated);
        Ok(if recorded.was_deduplicated {
            EventCreated::Deduplicated(Json(view))
        } else {
            EventCreated::Created(Json(view))
        })
    }

    /// Events the caller may see, filtered by item, type, visibility and `occurred_at` range.
    #[oai(path = "/api/events", method = "get", operation_id = "list_events")]
    #[expect(
        clippy::too_many_arguments,
        reason = "poem-openapi takes one argument per query parameter"
    )]
    async fn list(
        &self,
        state: State<'_>,
        caller: Caller,
        dfid: Query<Option<String>>,
        event_type: Query<Option<String>>,
        visibility: Query<Option<VisibilityName>>,
        from: Query<Option<DateTime<Utc>>>,
        to: Query<Option<DateTime<Utc>>>,
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<EventList>> {
        let filter = EventFilter {
            circuit_id: None,
            dfid: dfid.0,
            event_type: event_type.0,
            visibility: visibility.0.map(Into::into),
            from: from.0,
            to: to.0,
        };
        let page = page(limit.0, cursor.0)?;
        Ok(Json(state.events.list(&caller.principal, &filter, &page).await?.into()))
    }

    /// Record a local event, to push to an item later.
    #[oai(path = "/api/events/local", method = "post", operation_id = "create_local_event")]
    async fn create_local(
        &self,
        state: State<'_>,
        caller: Caller,
        body: Json<NewLocalEvent>,
    ) -> ApiResult<LocalEventCreated> {
        let body = body.0;
        let event = state
            .events
            .create_local(
                &caller.principal,
                input(body.event_type, body.visibility, body.metadata, body.occurred_at),
            )
            .await?;
        Ok(LocalEventCreated::Created(Json(event.into())))
    }

    /// The caller's local events not yet pushed.
    #[oai(path = "/api/events/local", method = "get", operation_id = "list_local_events")]
    async fn list_local(
        &self,
        state: State<'_>,
        caller: Caller,
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<LocalEventList>> {
        let page = page(limit.0, cursor.0)?;
        Ok(Json(state.events.local_events(&caller.principal, &page).await?.into()))
    }

    /// One event, if the caller may see it.
    #[oai(path = "/api/events/:event_id", method = "get", operation_id = "get_event")]
    async fn get(&self, state: State<'_>, caller: Caller, event_id: Path<String>) -> ApiResult<Json<EventView>> {
        Ok(Json(state.events.get(&caller.principal, &event_id.0).await?.into()))
    }

    /// Tie local events to an item of the circuit (Push permission), as events of that item.
    #[oai(
        path = "/api/circuits/:id/push-events",
        method = "post",
        operation_id = "push_events"
    )]
    async fn push_events(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        body: Json<PushEvents>,
    ) -> ApiResult<Json<PushedEvents>> {
        let body = body.0;
        let pushed = state
            .events
            .push_events(
                &caller.principal,
                &CircuitId::parse(&id.0)?,
                &body.dfid,
                &body.local_event_ids,
            )
            .await?;
        let deduplicated = pushed.iter().filter(|p| p.was_deduplicated).count() as u64;
        Ok(Json(PushedEvents {
            circuit_id: id.0,
            events_pushed: pushed.len() as u64 - deduplicated,
            events_deduplicated: deduplicated,
            events: pushed
                .into_iter()
                .map(|p| PushedEventView {
                    local_event_id: p.local_event_id,
                    event_id: p.event_id,
                    dfid: p.dfid,
                    was_deduplicated: p.was_deduplicated,
                })
                .collect(),
        }))
    }
}
