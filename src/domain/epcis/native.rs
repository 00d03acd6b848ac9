//! Events recorded through the native routes, as EPCIS 2.0 ObjectEvents (EPCIS.md, Query and
//! export): `action: OBSERVE` on the item's EPC, the CBV bizStep when the event type names one
//! (else the type as a URI in the service's namespace), the metadata as an extension.

use serde_json::{Map, Value, json};

use super::ItemNames;
use super::document::EPCIS_CONTEXT;
use super::event::{CapturedEvent, read_event};
use super::hash::namespaces_of;
use super::vocab::Vocabulary;
use crate::domain::items::event::Event;
use crate::domain::{Error, Result, Timestamp};

/// The prefix the service's extensions use in exports.
pub const PREFIX: &str = "defarm";

/// A native event on an item a circuit holds.
#[derive(Debug, Clone, PartialEq)]
pub struct NativeEvent {
    pub event_id: String,
    pub dfid: String,
    pub event_type: String,
    pub metadata: Value,
    pub occurred_at: Timestamp,
    pub recorded_at: Timestamp,
    /// The item's `epc` identifier, when it has one anyone may see.
    pub epc: Option<String>,
}

/// Where a page of native events ended: they come in `(occurred_at, event_id)` order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeCursor {
    pub occurred_at: Timestamp,
    pub event_id: String,
}

impl NativeEvent {
    /// A recorded event, on an item whose shared `epc` identifier is `epc`.
    pub fn of(event: &Event, epc: Option<&str>) -> Self {
        Self {
            event_id: event.event_id.clone(),
            dfid: event.dfid.clone(),
            event_type: event.event_type.clone(),
            metadata: event.metadata.clone(),
            occurred_at: event.occurred_at,
            recorded_at: event.recorded_at,
            epc: epc.map(str::to_owned),
        }
    }

    pub fn cursor(&self) -> NativeCursor {
        NativeCursor {
            occurred_at: self.occurred_at,
            event_id: self.event_id.clone(),
        }
    }
}

/// Writes native events as ObjectEvents under one public base URL.
#[derive(Debug, Clone)]
pub struct NativeExport {
    items: ItemNames,
    /// `{PUBLIC_BASE_URL}/ns/`, bound to [`PREFIX`].
    namespace: String,
}

impl NativeExport {
    pub fn new(public_base_url: &str) -> Self {
        let base = public_base_url.trim_end_matches('/');
        Self {
            items: ItemNames::new(base),
            namespace: format!("{base}/ns/"),
        }
    }

    /// The event as an ObjectEvent with its CBV 2.0 hash as `eventID`, read like a captured one
    /// (its document keeps its bindings under `@context`).
    pub fn event(&self, native: &NativeEvent) -> Result<CapturedEvent> {
        let epc = self.items.of(&native.dfid, native.epc.as_deref());
        let biz_step = if Vocabulary::BizStep.expand(&native.event_type).is_some() {
            native.event_type.clone()
        } else {
            format!("{}event-type/{}", self.namespace, native.event_type)
        };
        // A string keeps the metadata as data: the event hash would otherwise read its keys as
        // XML element names, which arbitrary JSON keys are not. RFC 8785's canonical form gives
        // one string (so one eventID) whichever order a database returns the keys in.
        let metadata =
            serde_jcs::to_string(&native.metadata).map_err(|e| Error::internal(format!("event metadata: {e}")))?;
        let mut event = Map::new();
        event.insert("type".to_owned(), json!("ObjectEvent"));
        event.insert(
            "eventTime".to_owned(),
            json!(native.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
        );
        event.insert("eventTimeZoneOffset".to_owned(), json!("+00:00"));
        event.insert("epcList".to_owned(), json!([epc]));
        event.insert("action".to_owned(), json!("OBSERVE"));
        event.insert("bizStep".to_owned(), json!(biz_step));
        event.insert(format!("{PREFIX}:eventId"), json!(native.event_id));
        event.insert(format!("{PREFIX}:metadata"), json!(metadata));
        let namespaces = namespaces_of(Some(&json!([EPCIS_CONTEXT, { PREFIX: self.namespace }])));
        read_event(&Value::Object(event), &namespaces)
            .map_err(|e| Error::internal(format!("native event {} as EPCIS: {}", native.event_id, e.message)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::epcis::event::BINDINGS;

    fn native(event_type: &str, epc: Option<&str>) -> NativeEvent {
        let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        NativeEvent {
            event_id: "0b0c5a52-6f0e-4a35-9d53-3f1f4b1d2c11".to_owned(),
            dfid: "DFID-20261204-000001-7".to_owned(),
            event_type: event_type.to_owned(),
            metadata: json!({"peso_kg": 412.5, "lote": "L7"}),
            occurred_at: at("2026-12-04T10:15:30.123456Z"),
            recorded_at: at("2026-12-04T10:16:00Z"),
            epc: epc.map(str::to_owned),
        }
    }

    #[test]
    fn a_cbv_event_type_is_the_biz_step_and_the_item_epc_the_object() {
        let export = NativeExport::new("https://trace.example/");
        let record = export
            .event(&native(
                "shipping",
                Some("https://id.gs1.org/01/07891234123459/21/BOV0001"),
            ))
            .unwrap();
        let event = &record.document;
        assert_eq!(event["type"], "ObjectEvent");
        assert_eq!(event["action"], "OBSERVE");
        assert_eq!(event["bizStep"], "shipping");
        assert_eq!(event["eventTime"], "2026-12-04T10:15:30.123456Z");
        assert_eq!(
            event["epcList"],
            json!(["https://id.gs1.org/01/07891234123459/21/BOV0001"])
        );
        assert_eq!(event["defarm:metadata"], r#"{"lote":"L7","peso_kg":412.5}"#);
        assert_eq!(event[BINDINGS], json!([{"defarm": "https://trace.example/ns/"}]));
        assert!(record.event_id.starts_with("ni:///sha-256;"));
        assert_eq!(event["eventID"], json!(record.event_id));
    }

    #[test]
    fn other_event_types_are_uris_of_the_service_and_items_without_epc_their_resolver() {
        let export = NativeExport::new("https://trace.example");
        let record = export.event(&native("vaccination", None)).unwrap();
        assert_eq!(
            record.document["bizStep"],
            "https://trace.example/ns/event-type/vaccination"
        );
        assert_eq!(
            record.document["epcList"],
            json!(["https://trace.example/id/DFID-20261204-000001-7"])
        );
        // The hash names the content: the same event hashes alike, another differently.
        assert_eq!(
            export.event(&native("vaccination", None)).unwrap().event_id,
            record.event_id
        );
        assert_ne!(
            export.event(&native("weighing", None)).unwrap().event_id,
            record.event_id
        );
    }
}
