//! EPCIS 2.0 (GS1): the events supply chains exchange, their identifiers (EPCs), the CBV
//! vocabularies and the CBV 2.0 event hash.

pub mod capture;
pub mod document;
pub mod epc;
pub mod event;
pub mod hash;
pub mod lineage;
pub mod lineage_service;
pub mod native;
pub mod ports;
pub mod query;
pub mod service;
pub mod subscription;
pub mod vocab;

pub use epc::{Epc, ItemNames};

use serde_json::Value;

/// The events of an EPCIS document (`epcisBody.eventList`, or a single `epcisBody.event`) and
/// the namespaces its `@context` binds.
pub fn document_events(document: &Value) -> Result<(hash::Namespaces, Vec<&Value>), &'static str> {
    let body = document.get("epcisBody").ok_or("no epcisBody")?;
    let events = match (body.get("eventList"), body.get("event")) {
        (Some(Value::Array(events)), _) => events.iter().collect(),
        (None, Some(event @ Value::Object(_))) => vec![event],
        _ => return Err("epcisBody has no eventList"),
    };
    Ok((hash::namespaces_of(document.get("@context")), events))
}
