//! One EPCIS 2.0 event as captured: checked field by field (each error names its field), its
//! EPCs normalised, its CBV values read as URIs, and its CBV 2.0 hash.

use serde_json::{Map, Value};

use super::epc::Epc;
use super::hash::{Namespaces, event_hash};
use super::vocab::Vocabulary;
use crate::domain::Timestamp;

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum EventType {
        Object = "ObjectEvent",
        Aggregation = "AggregationEvent",
        Transaction = "TransactionEvent",
        Transformation = "TransformationEvent",
        Association = "AssociationEvent",
    }
}

text_enum! {
    /// What an EPC is to an event.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum EpcRole {
        /// In `epcList`.
        Listed = "epc",
        /// `parentID`.
        Parent = "parent",
        /// In `childEPCs`.
        Child = "child",
        /// In `inputEPCList`.
        Input = "input",
        /// In `outputEPCList`.
        Output = "output",
        /// A class-level EPC of a quantity list.
        Class = "class",
    }
}

impl EpcRole {
    /// Roles naming one object, which resolves to an item.
    pub fn names_an_object(self) -> bool {
        self != EpcRole::Class
    }
}

/// What is wrong with a field of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

fn field_error(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

/// A checked event.
#[derive(Debug, Clone, PartialEq)]
pub struct CapturedEvent {
    /// The `eventID` sent, or the event hash.
    pub event_id: String,
    pub event_hash: String,
    pub event_type: EventType,
    pub event_time: Timestamp,
    pub action: Option<String>,
    /// As URIs (bare CBV values expanded).
    pub biz_step: Option<String>,
    pub disposition: Option<String>,
    pub read_point: Option<String>,
    pub biz_location: Option<String>,
    pub transformation_id: Option<String>,
    pub epcs: Vec<(EpcRole, Epc)>,
    /// The event as sent, with its `eventID`, and the namespace bindings its extensions use
    /// under `@context`.
    pub document: Value,
}

/// The namespace bindings an event carries in its stored form; exports move them to the
/// document's `@context`.
pub const BINDINGS: &str = "@context";

/// Reads one event of a document whose `@context` binds `namespaces`.
pub fn read_event(value: &Value, namespaces: &Namespaces) -> Result<CapturedEvent, FieldError> {
    let Value::Object(fields) = value else {
        return Err(field_error("", "an event is a JSON object"));
    };
    let kind = text(fields, "type")?.ok_or_else(|| field_error("type", "is required"))?;
    let event_type = EventType::from_text(kind)
        .ok_or_else(|| field_error("type", "is not one of the five EPCIS 2.0 event types"))?;
    let event_time = time(fields, "eventTime")?.ok_or_else(|| field_error("eventTime", "is required"))?;
    time(fields, "recordTime")?;
    let offset =
        text(fields, "eventTimeZoneOffset")?.ok_or_else(|| field_error("eventTimeZoneOffset", "is required"))?;
    if !is_time_zone_offset(offset) {
        return Err(field_error("eventTimeZoneOffset", "is +hh:mm or -hh:mm"));
    }
    let action = text(fields, "action")?;
    match (event_type, action) {
        (EventType::Transformation, Some(_)) => {
            return Err(field_error("action", "a TransformationEvent has no action"));
        }
        (EventType::Transformation, None) => {}
        (_, None) => return Err(field_error("action", "is required: ADD, OBSERVE or DELETE")),
        (_, Some(action)) if !matches!(action, "ADD" | "OBSERVE" | "DELETE") => {
            return Err(field_error("action", "is ADD, OBSERVE or DELETE"));
        }
        _ => {}
    }
    let mut epcs = Vec::new();
    for (list, role) in [
        ("epcList", EpcRole::Listed),
        ("childEPCs", EpcRole::Child),
        ("inputEPCList", EpcRole::Input),
        ("outputEPCList", EpcRole::Output),
    ] {
        for (index, epc) in texts(fields, list)?.into_iter().enumerate() {
            let epc = Epc::parse(epc).map_err(|e| field_error(format!("{list}[{index}]"), e.message))?;
            epcs.push((role, epc));
        }
    }
    if let Some(parent) = text(fields, "parentID")? {
        epcs.push((
            EpcRole::Parent,
            Epc::parse(parent).map_err(|e| field_error("parentID", e.message))?,
        ));
    }
    for list in [
        "quantityList",
        "childQuantityList",
        "inputQuantityList",
        "outputQuantityList",
    ] {
        for (index, element) in array(fields, list)?.iter().enumerate() {
            let field = format!("{list}[{index}].epcClass");
            let class = element
                .get("epcClass")
                .and_then(Value::as_str)
                .ok_or_else(|| field_error(&field, "is required"))?;
            epcs.push((
                EpcRole::Class,
                Epc::parse(class).map_err(|e| field_error(&field, e.message))?,
            ));
            if let Some(quantity) = element.get("quantity")
                && !quantity.is_number()
            {
                return Err(field_error(format!("{list}[{index}].quantity"), "is a number"));
            }
        }
    }
    refuse_cbv_urns(fields)?;
    let biz_step = vocabulary(fields, "bizStep", Vocabulary::BizStep)?;
    let disposition = vocabulary(fields, "disposition", Vocabulary::Disposition)?;
    let read_point = location(fields, "readPoint")?;
    let biz_location = location(fields, "bizLocation")?;
    let transformation_id = text(fields, "transformationID")?.map(str::to_owned);
    let given_id = text(fields, "eventID")?;
    if let Some(id) = given_id
        && !id.contains(':')
    {
        return Err(field_error("eventID", "is a URI"));
    }
    let event_hash = event_hash(value, namespaces);
    let event_id = given_id.map_or_else(|| event_hash.clone(), str::to_owned);
    let mut document = fields.clone();
    document.insert("eventID".to_owned(), Value::String(event_id.clone()));
    if !namespaces.is_empty() {
        let bindings: Map<String, Value> = namespaces
            .iter()
            .map(|(prefix, uri)| (prefix.clone(), Value::String(uri.clone())))
            .collect();
        document.insert(BINDINGS.to_owned(), Value::Array(vec![Value::Object(bindings)]));
    }
    Ok(CapturedEvent {
        event_id,
        event_hash,
        event_type,
        event_time,
        action: action.map(str::to_owned),
        biz_step,
        disposition,
        read_point,
        biz_location,
        transformation_id,
        epcs,
        document: Value::Object(document),
    })
}

fn text<'a>(fields: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, FieldError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if !text.trim().is_empty() => Ok(Some(text)),
        Some(_) => Err(field_error(name, "is a non-empty string")),
    }
}

fn array<'a>(fields: &'a Map<String, Value>, name: &str) -> Result<&'a [Value], FieldError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(field_error(name, "is a list")),
    }
}

fn texts<'a>(fields: &'a Map<String, Value>, name: &str) -> Result<Vec<&'a str>, FieldError> {
    array(fields, name)?
        .iter()
        .enumerate()
        .map(|(index, item)| {
            item.as_str()
                .ok_or_else(|| field_error(format!("{name}[{index}]"), "is a string"))
        })
        .collect()
}

fn time(fields: &Map<String, Value>, name: &str) -> Result<Option<Timestamp>, FieldError> {
    text(fields, name)?
        .map(|text| {
            chrono::DateTime::parse_from_rfc3339(text)
                .map(|time| time.with_timezone(&chrono::Utc))
                .map_err(|_| field_error(name, "is a date-time with a time zone (RFC 3339)"))
        })
        .transpose()
}

fn is_time_zone_offset(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 6
        && matches!(bytes[0], b'+' | b'-')
        && bytes[3] == b':'
        && [1, 2, 4, 5].iter().all(|&i| bytes[i].is_ascii_digit())
}

/// A CBV value: a bare term of the vocabulary, or a URI.
fn vocabulary(fields: &Map<String, Value>, name: &str, vocabulary: Vocabulary) -> Result<Option<String>, FieldError> {
    let Some(value) = text(fields, name)? else {
        return Ok(None);
    };
    match vocabulary.expand(value) {
        Some(uri) => Ok(Some(uri)),
        None if value.contains(':') => Ok(Some(vocabulary.normalise(value))),
        None => Err(field_error(name, "is a CBV 2.0 term (such as \"shipping\") or a URI")),
    }
}

/// EPCIS 2.0's JSON schema forbids CBV 1.x URNs (`urn:epcglobal:cbv:bizstep:shipping`) in its
/// vocabulary fields: refused here, so every export stays valid and unchanged.
fn refuse_cbv_urns(fields: &Map<String, Value>) -> Result<(), FieldError> {
    let is_urn = |value: &str| {
        value.starts_with("urn:epcglobal:cbv")
            || value.starts_with("http://ns.gs1.org/cbv/")
            || value.starts_with("https://ns.gs1.org/cbv/")
    };
    let mut checked: Vec<(String, &Value)> = Vec::new();
    for name in ["bizStep", "disposition"] {
        if let Some(value) = fields.get(name) {
            checked.push((name.to_owned(), value));
        }
    }
    if let Some(Value::Object(persistent)) = fields.get("persistentDisposition") {
        for part in ["set", "unset"] {
            for (index, value) in persistent
                .get(part)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                checked.push((format!("persistentDisposition.{part}[{index}]"), value));
            }
        }
    }
    for list in ["bizTransactionList", "sourceList", "destinationList"] {
        for (index, entry) in fields
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if let Some(kind) = entry.get("type") {
                checked.push((format!("{list}[{index}].type"), kind));
            }
        }
    }
    if let Some(reason) = fields.get("errorDeclaration").and_then(|d| d.get("reason")) {
        checked.push(("errorDeclaration.reason".to_owned(), reason));
    }
    match checked
        .into_iter()
        .find(|(_, value)| value.as_str().is_some_and(is_urn))
    {
        Some((field, _)) => Err(field_error(
            field,
            "is a CBV 1.x URN, which EPCIS 2.0 JSON does not allow: send the bare term (\"shipping\") or its https://ref.gs1.org/cbv/ URI",
        )),
        None => Ok(()),
    }
}

fn location(fields: &Map<String, Value>, name: &str) -> Result<Option<String>, FieldError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(location)) => match location.get("id").and_then(Value::as_str) {
            Some(id) => Epc::parse(id)
                .map(|epc| Some(epc.as_str().to_owned()))
                .map_err(|e| field_error(format!("{name}.id"), e.message)),
            None => Err(field_error(format!("{name}.id"), "is required")),
        },
        Some(_) => Err(field_error(name, "is an object with an id")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object_event() -> Value {
        json!({
            "type": "ObjectEvent",
            "eventTime": "2026-12-01T10:00:00-03:00",
            "eventTimeZoneOffset": "-03:00",
            "epcList": ["urn:epc:id:sgtin:7891234.012345.BOV0001"],
            "action": "OBSERVE",
            "bizStep": "shipping",
            "readPoint": {"id": "urn:epc:id:sgln:7891234.00001.0"}
        })
    }

    #[test]
    fn an_event_reads_with_its_hash_as_id() {
        let event = read_event(&object_event(), &Namespaces::new()).unwrap();
        assert_eq!(event.event_type, EventType::Object);
        assert!(event.event_id.starts_with("ni:///sha-256;"));
        assert_eq!(event.event_id, event.event_hash);
        assert_eq!(
            event.biz_step.as_deref(),
            Some("https://ref.gs1.org/cbv/BizStep-shipping")
        );
        assert_eq!(
            event.read_point.as_deref(),
            Some("https://id.gs1.org/414/7891234000019")
        );
        assert_eq!(
            event.epcs[0].1.as_str(),
            "https://id.gs1.org/01/07891234123459/21/BOV0001"
        );
        assert_eq!(event.document["eventID"], json!(event.event_id));
    }

    #[test]
    fn errors_name_the_field() {
        let mut bad = object_event();
        bad["epcList"] = json!([
            "urn:epc:id:sgtin:7891234.012345.BOV0001",
            "https://id.gs1.org/01/07891234123450/21/1"
        ]);
        assert_eq!(read_event(&bad, &Namespaces::new()).unwrap_err().field, "epcList[1]");
        let mut bad = object_event();
        bad["action"] = json!("MOVE");
        assert_eq!(read_event(&bad, &Namespaces::new()).unwrap_err().field, "action");
        let mut bad = object_event();
        bad["bizStep"] = json!("teleporting");
        assert_eq!(read_event(&bad, &Namespaces::new()).unwrap_err().field, "bizStep");
        let mut bad = object_event();
        bad["bizTransactionList"] = json!([{"type": "urn:epcglobal:cbv:btt:po", "bizTransaction": "urn:x:1"}]);
        assert_eq!(
            read_event(&bad, &Namespaces::new()).unwrap_err().field,
            "bizTransactionList[0].type"
        );
        let mut bad = object_event();
        bad["eventTime"] = json!("2026-12-01 10:00");
        assert_eq!(read_event(&bad, &Namespaces::new()).unwrap_err().field, "eventTime");
    }
}
