//! EPCIS 2.0 (EPCIS.md): capture documents and events into a circuit, read capture jobs, query
//! the events a caller may see, export a circuit's events as one document.

use futures_util::StreamExt;
use poem::Body;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Json, Payload};
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::{ApiRequest, ApiResponse, Enum, Object, OpenApi};
use serde_json::Value;

use super::caller::Caller;
use super::error::ApiResult;
use super::types::UtcTime;
use super::views::IdentifierView;
use super::{ApiTags, State};
use crate::domain::Error;
use crate::domain::circuits::circuit::CircuitId;
use crate::domain::epcis::capture::{CAPTURED_BEFORE_ANSWERING, CaptureError, CaptureJob};
use crate::domain::epcis::document::{Bindings, query_document, single_event};
use crate::domain::epcis::lineage::Direction;
use crate::domain::epcis::lineage_service::{Trace, TraceNode};
use crate::domain::epcis::query::{EventQuery, QueryParameterError};
use crate::domain::epcis::service::ExportPosition;
use crate::domain::epcis::{Epc, document_events};
use crate::domain::items::event::Visibility;

pub struct EpcisApi;

/// An EPCIS 2.0 JSON-LD body (`EPCISDocument`, or one event).
#[derive(ApiRequest)]
enum EpcisBody {
    #[oai(content_type = "application/ld+json")]
    JsonLd(Json<Value>),
    #[oai(content_type = "application/json")]
    Json(Json<Value>),
}

impl EpcisBody {
    fn into_value(self) -> Value {
        match self {
            EpcisBody::JsonLd(Json(value)) | EpcisBody::Json(Json(value)) => value,
        }
    }
}

/// Who sees the events a capture records on items (API.md, Events).
#[derive(Enum, Clone, Copy)]
enum CaptureVisibility {
    Public,
    Private,
    CircuitOnly,
}

impl From<CaptureVisibility> for Visibility {
    fn from(visibility: CaptureVisibility) -> Self {
        match visibility {
            CaptureVisibility::Public => Visibility::Public,
            CaptureVisibility::Private => Visibility::Private,
            CaptureVisibility::CircuitOnly => Visibility::CircuitOnly,
        }
    }
}

/// One refused event.
#[derive(Object)]
struct CaptureErrorView {
    /// The event's index in `eventList`.
    index: u64,
    /// The field inside the event (`epcList[2]`); empty for the event as a whole.
    field: String,
    code: String,
    message: String,
}

/// An EPCIS 2.0 capture job.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct CaptureJobView {
    #[oai(rename = "captureID")]
    capture_id: String,
    created_at: UtcTime,
    #[oai(nullable)]
    finished_at: Option<UtcTime>,
    running: bool,
    success: bool,
    /// Always `rollback`: one invalid event rejects the whole document.
    capture_error_behaviour: String,
    errors: Vec<CaptureErrorView>,
    /// Events stored by this capture.
    events_captured: u64,
    /// Events the circuit held already (the same event hash): not stored twice.
    events_duplicated: u64,
}

impl From<CaptureJob> for CaptureJobView {
    fn from(job: CaptureJob) -> Self {
        Self {
            capture_id: job.capture_id,
            created_at: job.created_at.into(),
            finished_at: job.finished_at.map(Into::into),
            running: job.running,
            success: job.success,
            capture_error_behaviour: "rollback".to_owned(),
            errors: job.errors.into_iter().map(CaptureErrorView::from).collect(),
            events_captured: job.events_captured,
            events_duplicated: job.events_duplicated,
        }
    }
}

impl From<CaptureError> for CaptureErrorView {
    fn from(error: CaptureError) -> Self {
        Self {
            index: error.index as u64,
            field: error.field,
            code: error.code,
            message: error.message,
        }
    }
}

#[derive(ApiResponse)]
enum CaptureAccepted {
    /// The job: finished at once for documents up to 500 events, else still running.
    #[oai(status = 202)]
    Accepted(Json<CaptureJobView>, #[oai(header = "Location")] String),
}

#[derive(ApiResponse)]
enum EventCaptured {
    /// Captured.
    #[oai(status = 201, content_type = "application/ld+json")]
    Created(Json<Value>, #[oai(header = "Location")] String),
    /// The circuit held this event already (the same event hash): nothing was stored.
    #[oai(status = 200, content_type = "application/ld+json")]
    Duplicate(Json<Value>, #[oai(header = "Location")] String),
}

#[derive(ApiResponse)]
enum EpcisQueryResult {
    /// An `EPCISQueryDocument`; `Link: <...>; rel="next"` when there is another page.
    #[oai(status = 200, content_type = "application/ld+json")]
    Ok(Json<Value>, #[oai(header = "Link")] Option<String>),
    /// A query parameter EPCIS refuses, in EPCIS's error shape.
    #[oai(status = 400, content_type = "application/problem+json")]
    QueryParameterException(Json<Value>),
}

#[derive(ApiResponse)]
enum EpcisEventResult {
    /// The event, with the `@context` its extensions need.
    #[oai(status = 200, content_type = "application/ld+json")]
    Ok(Json<Value>),
}

#[derive(ApiResponse)]
enum EpcisExport {
    /// An `EPCISDocument`, streamed.
    #[oai(status = 200, content_type = "application/ld+json")]
    Ok(StreamedDocument),
    /// A query parameter EPCIS refuses, in EPCIS's error shape.
    #[oai(status = 400, content_type = "application/problem+json")]
    QueryParameterException(Json<Value>),
}

/// A JSON document sent as it is written. The spec shows it as the object it is, so clients and
/// contract tests parse and check it like any JSON answer.
struct StreamedDocument(Body);

impl Payload for StreamedDocument {
    const CONTENT_TYPE: &'static str = "application/ld+json";

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema::new("object")))
    }
}

impl poem::IntoResponse for StreamedDocument {
    fn into_response(self) -> poem::Response {
        poem::Response::builder().content_type(Self::CONTENT_TYPE).body(self.0)
    }
}

/// An item as a trace names it.
#[derive(Object)]
struct TraceNodeView {
    dfid: String,
    /// Its `epc` identifier, else `{PUBLIC_BASE_URL}/id/{dfid}`.
    epc: String,
    identifiers: Vec<IdentifierView>,
}

impl From<TraceNode> for TraceNodeView {
    fn from(node: TraceNode) -> Self {
        Self {
            dfid: node.dfid,
            epc: node.epc,
            identifiers: node.identifiers.into_iter().map(IdentifierView::from).collect(),
        }
    }
}

/// Material flowing `from` one item `to` another: an input into an output, a child into its
/// parent.
#[derive(Object)]
struct TraceEdgeView {
    from: String,
    to: String,
    /// `transformation` or `aggregation`.
    kind: String,
    event_id: String,
    event_time: UtcTime,
}

#[derive(Object)]
struct TraceView {
    root: String,
    nodes: Vec<TraceNodeView>,
    edges: Vec<TraceEdgeView>,
    /// Items or events the caller may not see were left out, or the depth cut the walk.
    truncated: bool,
}

impl From<Trace> for TraceView {
    fn from(trace: Trace) -> Self {
        Self {
            root: trace.root,
            nodes: trace.nodes.into_iter().map(TraceNodeView::from).collect(),
            edges: trace
                .edges
                .into_iter()
                .map(|edge| TraceEdgeView {
                    from: edge.from,
                    to: edge.to,
                    kind: edge.kind.as_str().to_owned(),
                    event_id: edge.event_id,
                    event_time: edge.event_time.into(),
                })
                .collect(),
            truncated: trace.truncated,
        }
    }
}

#[derive(Enum, Clone, Copy)]
#[oai(rename_all = "lowercase")]
enum TraceDirection {
    Backward,
    Forward,
}

fn query_pairs(req: &poem::Request) -> Vec<(String, String)> {
    url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
}

/// EPCIS 2.0's error body for a refused query parameter.
fn query_exception(error: QueryParameterError) -> Json<Value> {
    Json(serde_json::json!({
        "type": "epcisException:QueryParameterException",
        "title": format!("query parameter {} {}", error.parameter, error.message),
        "status": 400,
    }))
}

fn capture_location(circuit_id: &str, capture_id: &str) -> String {
    format!("/api/circuits/{circuit_id}/epcis/capture/{capture_id}")
}

fn event_location(event_id: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(event_id.as_bytes()).collect();
    format!("/api/epcis/events/{encoded}")
}

/// The API error a refused single event answers with.
fn refused(error: &CaptureError) -> Error {
    let message = if error.field.is_empty() {
        error.message.clone()
    } else {
        format!("{}: {}", error.field, error.message)
    };
    match error.code.as_str() {
        "invalid_field" => Error::field(&error.field, &error.message),
        "identifier_conflict" => Error::conflict("identifier_conflict", message),
        "tier_limit_exceeded" => Error::forbidden("tier_limit_exceeded", message),
        code => Error::conflict(code.to_owned(), message),
    }
}

#[OpenApi(tag = "ApiTags::Epcis")]
impl EpcisApi {
    /// Capture an `EPCISDocument` (up to `EPCIS_MAX_DOCUMENT_BYTES` and `EPCIS_MAX_EVENTS`)
    /// into the circuit (`Push` permission). All or nothing: one invalid event rejects the
    /// document, the job naming each refused event's index and field. Each EPC resolves to an
    /// item (an `epc` identifier), or a new item is minted for the caller in the circuit; an EPC
    /// naming an item the caller may not change refuses its event (`identifier_conflict`).
    /// Events the circuit holds already are counted as duplicates and not stored twice.
    #[oai(
        path = "/api/circuits/:id/epcis/capture",
        method = "post",
        operation_id = "epcis_capture"
    )]
    async fn capture(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        body: EpcisBody,
        /// Who sees the events recorded on the items (default `CircuitOnly`).
        visibility: Query<Option<CaptureVisibility>>,
    ) -> ApiResult<CaptureAccepted> {
        let circuit_id = CircuitId::parse(&id.0)?;
        let document = body.into_value();
        let count = document_events(&document).map_or(0, |(_, events)| events.len());
        let visibility = visibility.0.map_or(Visibility::CircuitOnly, Visibility::from);
        let job = state.epcis.begin(&caller.principal, &circuit_id, count).await?;
        let location = capture_location(&circuit_id, &job.capture_id);
        let job = if count <= CAPTURED_BEFORE_ANSWERING {
            match state
                .epcis
                .capture(&caller.principal, job.clone(), &document, visibility)
                .await
            {
                Ok(job) => job,
                // The job records the failure; its state is the answer.
                Err(_) => state.epcis.job(&caller.principal, &circuit_id, &job.capture_id).await?,
            }
        } else {
            let (epcis, principal, running) = (state.epcis.clone(), caller.principal.clone(), job.clone());
            tokio::spawn(async move {
                if let Err(error) = epcis.capture(&principal, running, &document, visibility).await {
                    tracing::warn!(code = %error.code, message = %error.message, "an EPCIS capture failed");
                }
            });
            job
        };
        Ok(CaptureAccepted::Accepted(Json(job.into()), location))
    }

    /// A capture job of the circuit (members).
    #[oai(
        path = "/api/circuits/:id/epcis/capture/:capture_id",
        method = "get",
        operation_id = "epcis_capture_job"
    )]
    async fn capture_job(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        capture_id: Path<String>,
    ) -> ApiResult<Json<CaptureJobView>> {
        let circuit_id = CircuitId::parse(&id.0)?;
        let job = state.epcis.job(&caller.principal, &circuit_id, &capture_id.0).await?;
        Ok(Json(job.into()))
    }

    /// Capture one EPCIS event into the circuit (`Push`), under the same rules as a document.
    #[oai(
        path = "/api/circuits/:id/epcis/events",
        method = "post",
        operation_id = "epcis_capture_event"
    )]
    async fn capture_event(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        body: EpcisBody,
        /// Who sees the events recorded on the items (default `CircuitOnly`).
        visibility: Query<Option<CaptureVisibility>>,
    ) -> ApiResult<EventCaptured> {
        let circuit_id = CircuitId::parse(&id.0)?;
        let mut event = body.into_value();
        if !event.is_object() {
            return Err(Error::field("event", "an EPCIS event is a JSON object").into());
        }
        let context = event.as_object_mut().and_then(|fields| fields.shift_remove("@context"));
        let document = serde_json::json!({
            "@context": context.unwrap_or(Value::Null),
            "epcisBody": { "eventList": [event] }
        });
        let visibility = visibility.0.map_or(Visibility::CircuitOnly, Visibility::from);
        let job = state.epcis.begin(&caller.principal, &circuit_id, 1).await?;
        let job = state
            .epcis
            .capture(&caller.principal, job, &document, visibility)
            .await?;
        if let Some(error) = job.errors.first() {
            return Err(refused(error).into());
        }
        let (namespaces, events) = document_events(&document).map_err(|why| Error::field("event", why))?;
        let captured = crate::domain::epcis::event::read_event(events[0], &namespaces)
            .map_err(|wrong| Error::field(&wrong.field, wrong.message))?;
        let record = state.epcis.event(&caller.principal, &captured.event_id).await?;
        let location = event_location(&record.event_id);
        let body = Json(single_event(&record));
        Ok(if job.events_duplicated > 0 {
            EventCaptured::Duplicate(body, location)
        } else {
            EventCaptured::Created(body, location)
        })
    }

    /// EPCIS 2.0's REST query over the events the caller may see (members of the circuit they
    /// were captured into; Private ones only for whoever captured them), in capture order.
    /// Parameters: `eventType`, `GE_eventTime`, `LT_eventTime`, `GE_recordTime`,
    /// `LT_recordTime`, `EQ_action`, `EQ_bizStep`, `EQ_disposition`, `EQ_readPoint`,
    /// `EQ_bizLocation`, `MATCH_epc`, `MATCH_parentID`, `MATCH_inputEPC`, `MATCH_outputEPC`,
    /// `MATCH_anyEPC`, `MATCH_epcClass`, `EQ_transformationID`, `eventID` (several values
    /// separated by `|`), `perPage` (default 30, at most 500) and `nextPageToken`. Any other
    /// parameter: 400 `QueryParameterException`.
    #[oai(path = "/api/epcis/events", method = "get", operation_id = "epcis_query")]
    async fn query(&self, state: State<'_>, caller: Caller, req: &poem::Request) -> ApiResult<EpcisQueryResult> {
        let query = match EventQuery::parse(&query_pairs(req)) {
            Ok(query) => query,
            Err(error) => return Ok(EpcisQueryResult::QueryParameterException(query_exception(error))),
        };
        let page = state.epcis.query(&caller.principal, &query).await?;
        let link = page.next_page_token.map(|token| {
            let mut pairs: Vec<(String, String)> = query_pairs(req)
                .into_iter()
                .filter(|(name, _)| name != "nextPageToken")
                .collect();
            pairs.push(("nextPageToken".to_owned(), token));
            let query: String = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish();
            format!("</api/epcis/events?{query}>; rel=\"next\"")
        });
        let mut document = query_document(&page.events, state.epcis.now());
        if let Some(link) = &link {
            let token = link.rsplit("nextPageToken=").next().unwrap_or("");
            let token = token.split(['&', '>']).next().unwrap_or("");
            document["epcisBody"]["queryResults"]["nextPageToken"] = Value::String(token.to_owned());
        }
        Ok(EpcisQueryResult::Ok(Json(document), link))
    }

    /// One event by its `eventID` (URL-encoded), if the caller may see it.
    #[oai(path = "/api/epcis/events/:event_id", method = "get", operation_id = "epcis_event")]
    async fn event(&self, state: State<'_>, caller: Caller, event_id: Path<String>) -> ApiResult<EpcisEventResult> {
        let record = state.epcis.event(&caller.principal, &event_id.0).await?;
        Ok(EpcisEventResult::Ok(Json(single_event(&record))))
    }

    /// The events naming an EPC (URN or Digital Link, URL-encoded) in any role, as
    /// `MATCH_anyEPC` finds them; the other query parameters apply too.
    #[oai(
        path = "/api/epcis/epcs/:epc/events",
        method = "get",
        operation_id = "epcis_epc_events"
    )]
    async fn epc_events(
        &self,
        state: State<'_>,
        caller: Caller,
        epc: Path<String>,
        req: &poem::Request,
    ) -> ApiResult<EpcisQueryResult> {
        let epc = Epc::parse(&epc.0)?;
        let mut pairs = query_pairs(req);
        pairs.push(("MATCH_anyEPC".to_owned(), epc.as_str().to_owned()));
        let query = match EventQuery::parse(&pairs) {
            Ok(query) => query,
            Err(error) => return Ok(EpcisQueryResult::QueryParameterException(query_exception(error))),
        };
        let page = state.epcis.query(&caller.principal, &query).await?;
        Ok(EpcisQueryResult::Ok(
            Json(query_document(&page.events, state.epcis.now())),
            None,
        ))
    }

    /// The circuit's events the caller may see as one `EPCISDocument`, streamed (members): its
    /// captured events in capture order, then the events recorded on its items through the
    /// native routes (all but Private ones) as ObjectEvents in time order (`action: OBSERVE` on
    /// the item's EPC, `bizStep` the CBV bizStep its `event_type` names or
    /// `{PUBLIC_BASE_URL}/ns/event-type/{event_type}`, `defarm:eventId` and `defarm:metadata`,
    /// the metadata as a JSON string). The query parameters of `GET /api/epcis/events` filter
    /// it (`perPage` and `nextPageToken` excepted).
    #[oai(path = "/api/circuits/:id/epcis", method = "get", operation_id = "epcis_export")]
    async fn export(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        req: &poem::Request,
    ) -> ApiResult<EpcisExport> {
        let circuit_id = CircuitId::parse(&id.0)?;
        let pairs: Vec<(String, String)> = query_pairs(req);
        if let Some((name, _)) = pairs
            .iter()
            .find(|(name, _)| name == "perPage" || name == "nextPageToken")
        {
            let error = QueryParameterError {
                parameter: name.clone(),
                message: "is not a parameter of an export".to_owned(),
            };
            return Ok(EpcisExport::QueryParameterException(query_exception(error)));
        }
        let query = match EventQuery::parse(&pairs) {
            Ok(query) => query,
            Err(error) => return Ok(EpcisExport::QueryParameterException(query_exception(error))),
        };
        // The first page is read before answering: a non-member gets 404, not an empty document.
        let first = state
            .epcis
            .export_page(&caller.principal, &circuit_id, &query, ExportPosition::Captured(None))
            .await?;
        let now = state.epcis.now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let head = format!(
            "{{\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\",\"creationDate\":\"{now}\",\"epcisBody\":{{\"eventList\":["
        );
        let (epcis, principal) = (state.epcis.clone(), caller.principal.clone());
        let pages = futures_util::stream::unfold(
            (Some(first), Bindings::default(), true),
            move |(page, mut bindings, mut first_event)| {
                let (epcis, principal, circuit_id, query) =
                    (epcis.clone(), principal.clone(), circuit_id.clone(), query.clone());
                async move {
                    let page = page?;
                    let mut chunk = String::new();
                    for record in &page.events {
                        if !first_event {
                            chunk.push(',');
                        }
                        first_event = false;
                        chunk.push_str(&bindings.event(record).to_string());
                    }
                    let next = match page.next {
                        Some(position) => match epcis.export_page(&principal, &circuit_id, &query, position).await {
                            Ok(next) => Some(next),
                            Err(error) => {
                                // The document stops unfinished: the client sees invalid JSON
                                // rather than a silently short export.
                                tracing::warn!(code = %error.code, "an EPCIS export stopped");
                                return Some((
                                    Ok::<_, std::io::Error>(chunk.into_bytes()),
                                    (None, bindings, first_event),
                                ));
                            }
                        },
                        None => {
                            let context = std::mem::take(&mut bindings).context();
                            chunk.push_str(&format!("]}},\"@context\":{context}}}"));
                            None
                        }
                    };
                    Some((Ok(chunk.into_bytes()), (next, bindings, first_event)))
                }
            },
        );
        let body = futures_util::stream::once(async move { Ok::<_, std::io::Error>(head.into_bytes()) }).chain(pages);
        Ok(EpcisExport::Ok(StreamedDocument(Body::from_bytes_stream(body))))
    }

    /// The item's current children (AggregationEvents: ADD puts in, DELETE takes out), those the
    /// caller may see. Not visible: 404.
    #[oai(path = "/api/items/:dfid/contents", method = "get", operation_id = "item_contents")]
    async fn contents(
        &self,
        state: State<'_>,
        caller: Caller,
        dfid: Path<String>,
    ) -> ApiResult<Json<Vec<TraceNodeView>>> {
        let nodes = state.lineage.contents(&caller.principal, &dfid.0).await?;
        Ok(Json(nodes.into_iter().map(TraceNodeView::from).collect()))
    }

    /// The item's current parents up the hierarchy, nearest first, those the caller may see.
    #[oai(
        path = "/api/items/:dfid/containers",
        method = "get",
        operation_id = "item_containers"
    )]
    async fn containers(
        &self,
        state: State<'_>,
        caller: Caller,
        dfid: Path<String>,
    ) -> ApiResult<Json<Vec<TraceNodeView>>> {
        let nodes = state.lineage.containers(&caller.principal, &dfid.0).await?;
        Ok(Json(nodes.into_iter().map(TraceNodeView::from).collect()))
    }

    /// The item's lineage through transformations (inputs into outputs, one
    /// `transformationID` joining its events) and aggregations (children into parents):
    /// `backward` finds what went into it, `forward` what it went into. Items and events the
    /// caller may not see are left out and set `truncated`.
    #[oai(path = "/api/items/:dfid/trace", method = "get", operation_id = "item_trace")]
    async fn trace(
        &self,
        state: State<'_>,
        caller: Caller,
        dfid: Path<String>,
        /// Default `backward`.
        direction: Query<Option<TraceDirection>>,
        /// Steps to walk: 1 to 50, default 10.
        max_depth: Query<Option<u32>>,
    ) -> ApiResult<Json<TraceView>> {
        let direction = match direction.0 {
            Some(TraceDirection::Forward) => Direction::Forward,
            _ => Direction::Backward,
        };
        let trace = state
            .lineage
            .trace(&caller.principal, &dfid.0, direction, max_depth.0)
            .await?;
        Ok(Json(trace.into()))
    }
}
