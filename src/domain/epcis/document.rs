//! EPCIS 2.0 documents out: events as captured, their namespace bindings moved to the
//! document's `@context` (an event-level `@context` would be hashed as a user extension).

use serde_json::{Map, Value, json};

use super::capture::EventRecord;
use super::event::BINDINGS;
use crate::domain::Timestamp;

/// The EPCIS 2.0 JSON-LD context every document names first.
pub const EPCIS_CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";

/// Namespace bindings collected from events. A prefix bound to two different URIs by two
/// captures keeps the first; the event with the other is written with its extensions' keys in
/// full (`{uri}name` is not JSON-LD), so it is left out of the bindings but keeps its prefix.
#[derive(Default)]
pub struct Bindings(Map<String, Value>);

impl Bindings {
    /// The event as exported: without its bindings (kept here), with its `recordTime`.
    pub fn event(&mut self, record: &EventRecord) -> Value {
        let mut event = match &record.document {
            Value::Object(fields) => fields.clone(),
            other => return other.clone(),
        };
        if let Some(Value::Array(contexts)) = event.shift_remove(BINDINGS) {
            for context in contexts {
                if let Value::Object(bindings) = context {
                    for (prefix, uri) in bindings {
                        self.0.entry(prefix).or_insert(uri);
                    }
                }
            }
        }
        event
            .entry("recordTime")
            .or_insert_with(|| Value::String(record.record_time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)));
        Value::Object(event)
    }

    /// The document's `@context`: EPCIS's, then the bindings.
    pub fn context(self) -> Value {
        if self.0.is_empty() {
            json!([EPCIS_CONTEXT])
        } else {
            json!([EPCIS_CONTEXT, Value::Object(self.0)])
        }
    }
}

fn created(now: Timestamp) -> String {
    now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// An `EPCISQueryDocument` holding `records`.
pub fn query_document(records: &[EventRecord], now: Timestamp) -> Value {
    let mut bindings = Bindings::default();
    let events: Vec<Value> = records.iter().map(|record| bindings.event(record)).collect();
    json!({
        "@context": bindings.context(),
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": created(now),
        "epcisBody": {
            "queryResults": {
                "queryName": "SimpleEventQuery",
                "resultsBody": { "eventList": events }
            }
        }
    })
}

/// An `EPCISDocument` holding `events` (already exported with `bindings`).
pub fn epcis_document(events: Vec<Value>, bindings: Bindings, now: Timestamp) -> Value {
    json!({
        "@context": bindings.context(),
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": created(now),
        "epcisBody": { "eventList": events }
    })
}

/// One event with the `@context` its extensions need.
pub fn single_event(record: &EventRecord) -> Value {
    let mut bindings = Bindings::default();
    let event = bindings.event(record);
    let mut out = Map::new();
    out.insert("@context".to_owned(), bindings.context());
    if let Value::Object(fields) = event {
        out.extend(fields);
    }
    Value::Object(out)
}
