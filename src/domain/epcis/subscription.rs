//! Webhook subscriptions to EPCIS events (EPCIS.md, Subscriptions): the `epcis_event` trigger
//! carries each captured or native event as exported, a query in the REST parameters chooses
//! which ones a circuit's webhooks receive, and each goes out as an `EPCISQueryDocument`.

use serde_json::Value;

use super::capture::EventRecord;
use super::document::query_document;
use super::event::{BINDINGS, read_event};
use super::hash::namespaces_of;
use super::query::EventQuery;
use crate::domain::partners::trigger::{Trigger, TriggerKind};
use crate::domain::{Error, Result, Timestamp};

/// Longest subscription query, as sent.
pub const MAX_QUERY_LEN: usize = 2048;

/// Which events a circuit's `epcis_event` webhooks receive.
#[derive(Debug, Clone, PartialEq)]
pub struct EpcisSubscription {
    text: String,
    query: EventQuery,
}

impl EpcisSubscription {
    /// Reads a query string of EPCIS 2.0 REST query parameters (`EQ_bizStep=shipping&...`).
    /// Paging has no meaning for events delivered one at a time, so it is refused.
    pub fn parse(text: &str) -> Result<Self> {
        let refuse = |rule: String| Error::field("epcis_query", rule);
        if text.len() > MAX_QUERY_LEN {
            return Err(refuse(format!("at most {MAX_QUERY_LEN} characters")));
        }
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(text.trim_start_matches('?').as_bytes())
            .into_owned()
            .collect();
        if let Some((name, _)) = pairs
            .iter()
            .find(|(name, _)| name == "perPage" || name == "nextPageToken")
        {
            return Err(refuse(format!("{name}: a subscription delivers events one at a time")));
        }
        let query = EventQuery::parse(&pairs).map_err(|e| refuse(format!("{}: {}", e.parameter, e.message)))?;
        Ok(Self {
            text: text.to_owned(),
            query,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the trigger's event is one the query asks for.
    pub fn wants(&self, trigger: &Trigger) -> bool {
        let Some(event) = &trigger.event else {
            return false;
        };
        read_event(event, &namespaces_of(event.get(BINDINGS)))
            .is_ok_and(|read| self.query.matches(&read, trigger.occurred_at))
    }
}

/// `epcis_event` for an event as stored (its bindings under `@context`), recorded at `record_time`.
pub fn epcis_trigger(
    id: String,
    circuit_id: &str,
    dfid: &str,
    actor_id: &str,
    event: &Value,
    record_time: Timestamp,
) -> Trigger {
    let mut trigger = Trigger::new(id, TriggerKind::EpcisEvent, circuit_id, dfid, actor_id, record_time);
    trigger.event = Some(event.clone());
    trigger
}

/// What a webhook receives for an `epcis_event` trigger: an `EPCISQueryDocument` holding the
/// event, with the webhook's id as `subscriptionID`.
pub fn delivery_document(trigger: &Trigger, webhook_id: &str) -> Value {
    let record = EventRecord {
        seq: 0,
        circuit_id: trigger.circuit_id.clone(),
        event_id: String::new(),
        record_time: trigger.occurred_at,
        document: trigger.event.clone().unwrap_or(Value::Null),
    };
    let mut document = query_document(std::slice::from_ref(&record), trigger.occurred_at);
    if let Some(results) = document
        .pointer_mut("/epcisBody/queryResults")
        .and_then(Value::as_object_mut)
    {
        results.insert("subscriptionID".to_owned(), Value::String(webhook_id.to_owned()));
    }
    document
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(text: &str) -> Timestamp {
        chrono::DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn shipping() -> EventRecord {
        EventRecord {
            seq: 7,
            circuit_id: "c1".to_owned(),
            event_id: "urn:uuid:6d9d1f4e-2a5b-4c8e-9f1a-0b2c3d4e5f60".to_owned(),
            record_time: at("2026-12-04T11:00:00Z"),
            document: json!({
                "type": "ObjectEvent",
                "eventID": "urn:uuid:6d9d1f4e-2a5b-4c8e-9f1a-0b2c3d4e5f60",
                "eventTime": "2026-12-04T10:00:00Z",
                "eventTimeZoneOffset": "-03:00",
                "epcList": ["urn:epc:id:sgtin:7891234.012345.BOV0001"],
                "action": "OBSERVE",
                "bizStep": "shipping",
                "ex:lote": "L7",
                "@context": [{ "ex": "https://example.com/ns/" }]
            }),
        }
    }

    fn trigger() -> Trigger {
        let record = shipping();
        epcis_trigger(
            "t1".to_owned(),
            "c1",
            "DFID-1",
            "user-1",
            &record.document,
            record.record_time,
        )
    }

    #[test]
    fn the_query_chooses_the_events() {
        let wanted = [
            "EQ_bizStep=shipping",
            "MATCH_epc=urn:epc:id:sgtin:7891234.012345.BOV0001",
            "",
        ];
        for text in wanted {
            assert!(EpcisSubscription::parse(text).unwrap().wants(&trigger()), "{text}");
        }
        let unwanted = [
            "EQ_bizStep=receiving",
            "eventType=AggregationEvent",
            "GE_recordTime=2026-12-04T12:00:00Z",
        ];
        for text in unwanted {
            assert!(!EpcisSubscription::parse(text).unwrap().wants(&trigger()), "{text}");
        }
    }

    #[test]
    fn paging_and_unknown_parameters_are_refused_by_field() {
        for text in [
            "perPage=10",
            "nextPageToken=3",
            "EQ_colour=red",
            "GE_eventTime=yesterday",
        ] {
            let error = EpcisSubscription::parse(text).unwrap_err();
            assert_eq!(error.details.as_ref().unwrap()["field"], "epcis_query", "{text}");
        }
        assert!(EpcisSubscription::parse(&"EQ_bizStep=shipping&".repeat(200)).is_err());
    }

    #[test]
    fn a_delivery_is_a_query_document_with_the_webhook_as_subscription() {
        let document = delivery_document(&trigger(), "wh-1");
        assert_eq!(document["type"], "EPCISQueryDocument");
        let results = &document["epcisBody"]["queryResults"];
        assert_eq!(results["subscriptionID"], "wh-1");
        let event = &results["resultsBody"]["eventList"][0];
        assert_eq!(event["recordTime"], "2026-12-04T11:00:00.000Z");
        assert_eq!(event["ex:lote"], "L7");
        assert!(event.get("@context").is_none());
        assert_eq!(document["@context"][1]["ex"], "https://example.com/ns/");
    }
}
