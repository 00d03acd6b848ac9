//! Spreadsheets out: a circuit's items and the events on them as CSV files for its members,
//! streamed page by page with what the caller may see (`csv` writes the rows).

use poem_openapi::param::Path;
use poem_openapi::payload::Binary;
use poem_openapi::{ApiResponse, OpenApi};

use super::caller::Caller;
use super::csv;
use super::error::ApiResult;
use super::types::UtcTime;
use super::{ApiTags, State};
use crate::domain::circuits::circuit::CircuitId;
use crate::domain::items::event::{Event, format_occurred_at};
use crate::domain::items::item::Item;
use crate::domain::items::ports::{EventFilter, ItemFilter};
use crate::domain::page::{MAX_LIMIT, PageRequest};

pub struct ExportsApi;

#[derive(ApiResponse)]
enum CsvExport {
    /// RFC 4180 CSV in UTF-8 with a header row, streamed.
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Csv(Binary<poem::Body>),
}

const ITEM_COLUMNS: [&str; 7] = [
    "dfid",
    "status",
    "owner_id",
    "created_at",
    "updated_at",
    "identifiers",
    "enriched_data",
];

const EVENT_COLUMNS: [&str; 9] = [
    "event_id",
    "dfid",
    "event_type",
    "visibility",
    "source",
    "occurred_at",
    "recorded_at",
    "content_hash",
    "metadata",
];

/// Exports read the largest pages there are.
fn first_page() -> PageRequest {
    PageRequest::first(MAX_LIMIT)
}

fn page_after(cursor: &str) -> crate::domain::Result<PageRequest> {
    PageRequest::new(Some(MAX_LIMIT), Some(cursor))
}

/// An event as a CSV line, its metadata as JSON.
fn event_row(event: &Event) -> String {
    let metadata = event.metadata.to_string();
    csv::row([
        event.event_id.as_str(),
        &event.dfid,
        &event.event_type,
        event.visibility.as_str(),
        &event.source,
        // As the content hash reads it, so the hash can be recomputed from the row.
        &format_occurred_at(event.occurred_at),
        &UtcTime(event.recorded_at).to_string(),
        &event.content_hash,
        &metadata,
    ])
}

/// An item as a CSV line: its identifiers as `key:value` joined by `; `, its data as JSON.
fn item_row(item: &Item) -> String {
    let identifiers: Vec<String> = item
        .identifiers
        .iter()
        .map(|identifier| format!("{}:{}", identifier.key, identifier.value))
        .collect();
    let data = serde_json::Value::Object(item.enriched_data.clone()).to_string();
    csv::row([
        item.dfid.as_str(),
        item.status.as_str(),
        &item.created_by,
        &UtcTime(item.created_at).to_string(),
        &UtcTime(item.updated_at).to_string(),
        &identifiers.join("; "),
        &data,
    ])
}

#[OpenApi(tag = "ApiTags::Circuits")]
impl ExportsApi {
    /// The circuit's items as a spreadsheet, for auditors: one row per item a member sees (as
    /// `GET /api/circuits/{id}/items` lists them), streamed page by page. RFC 4180 in UTF-8 with
    /// a header row; a cell a spreadsheet would evaluate starts with `'`. Not a member: 404.
    #[oai(
        path = "/api/circuits/:id/items.csv",
        method = "get",
        operation_id = "export_circuit_items"
    )]
    async fn items_csv(&self, state: State<'_>, caller: Caller, id: Path<String>) -> ApiResult<CsvExport> {
        let filter = ItemFilter {
            circuit_id: Some(CircuitId::parse(&id.0)?.to_string()),
            ..ItemFilter::default()
        };
        // The first page is read before answering: a non-member gets 404, not an empty file.
        let first = state.items.list(&caller.principal, &filter, &first_page()).await?;
        let (items, principal) = (state.items.clone(), caller.principal.clone());
        let next = move |cursor: String| {
            let (items, principal, filter) = (items.clone(), principal.clone(), filter.clone());
            async move { items.list(&principal, &filter, &page_after(&cursor)?).await }
        };
        Ok(CsvExport::Csv(Binary(csv::streamed(
            &ITEM_COLUMNS,
            first,
            next,
            item_row,
        ))))
    }

    /// The events on the circuit's items as a spreadsheet: those the caller may see (as
    /// `GET /api/events` shows them), streamed page by page. RFC 4180 in UTF-8 with a header row;
    /// a cell a spreadsheet would evaluate starts with `'`. Not a member: 404.
    #[oai(
        path = "/api/circuits/:id/events.csv",
        method = "get",
        operation_id = "export_circuit_events"
    )]
    async fn events_csv(&self, state: State<'_>, caller: Caller, id: Path<String>) -> ApiResult<CsvExport> {
        let filter = EventFilter {
            circuit_id: Some(CircuitId::parse(&id.0)?.to_string()),
            ..EventFilter::default()
        };
        let first = state.events.list(&caller.principal, &filter, &first_page()).await?;
        let (events, principal) = (state.events.clone(), caller.principal.clone());
        let next = move |cursor: String| {
            let (events, principal, filter) = (events.clone(), principal.clone(), filter.clone());
            async move { events.list(&principal, &filter, &page_after(&cursor)?).await }
        };
        Ok(CsvExport::Csv(Binary(csv::streamed(
            &EVENT_COLUMNS,
            first,
            next,
            event_row,
        ))))
    }
}
