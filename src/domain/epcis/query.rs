//! EPCIS 2.0's REST query parameters (the SimpleEventQuery subset EPCIS.md lists), checked.

use super::epc::Epc;
use super::event::{CapturedEvent, EventType};
use super::vocab::Vocabulary;
use crate::domain::Timestamp;

/// Default and largest page.
pub const DEFAULT_PER_PAGE: u64 = 30;
pub const MAX_PER_PAGE: u64 = 500;

/// A query parameter EPCIS refuses: answered as `QueryParameterException`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryParameterError {
    pub parameter: String,
    pub message: String,
}

fn refused(parameter: &str, message: impl Into<String>) -> QueryParameterError {
    QueryParameterError {
        parameter: parameter.to_owned(),
        message: message.into(),
    }
}

/// Which events a query asks for; every condition must hold. EPC conditions list alternatives.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventQuery {
    pub event_types: Vec<EventType>,
    pub ge_event_time: Option<Timestamp>,
    pub lt_event_time: Option<Timestamp>,
    pub ge_record_time: Option<Timestamp>,
    pub lt_record_time: Option<Timestamp>,
    pub actions: Vec<String>,
    pub biz_steps: Vec<String>,
    pub dispositions: Vec<String>,
    pub read_points: Vec<String>,
    pub biz_locations: Vec<String>,
    pub transformation_ids: Vec<String>,
    pub event_ids: Vec<String>,
    /// `(roles, EPCs)`: the event names one of the EPCs in one of the roles.
    pub epc_matches: Vec<(Vec<&'static str>, Vec<String>)>,
    /// Only events of this circuit (the export of one circuit).
    pub circuit_id: Option<String>,
    pub per_page: u64,
    /// Continue after this position (`nextPageToken`).
    pub after: Option<i64>,
}

impl EventQuery {
    /// Reads the query string's pairs. Values of list parameters are separated by `|`, as the
    /// EPCIS 2.0 REST binding says.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, QueryParameterError> {
        let mut query = EventQuery {
            per_page: DEFAULT_PER_PAGE,
            ..EventQuery::default()
        };
        for (name, value) in pairs {
            let list = || {
                value
                    .split('|')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned)
            };
            let time = || {
                chrono::DateTime::parse_from_rfc3339(value)
                    .map(|t| t.with_timezone(&chrono::Utc))
                    .map_err(|_| refused(name, "is a date-time with a time zone (RFC 3339)"))
            };
            let epcs = || -> Result<Vec<String>, QueryParameterError> {
                list()
                    .map(|epc| {
                        Epc::parse(&epc)
                            .map(|e| e.as_str().to_owned())
                            .map_err(|e| refused(name, e.message))
                    })
                    .collect()
            };
            match name.as_str() {
                "eventType" => {
                    for kind in list() {
                        let kind = EventType::from_text(&kind)
                            .ok_or_else(|| refused(name, format!("{kind:?} is not an EPCIS event type")))?;
                        query.event_types.push(kind);
                    }
                }
                "GE_eventTime" => query.ge_event_time = Some(time()?),
                "LT_eventTime" => query.lt_event_time = Some(time()?),
                "GE_recordTime" => query.ge_record_time = Some(time()?),
                "LT_recordTime" => query.lt_record_time = Some(time()?),
                "EQ_action" => {
                    for action in list() {
                        if !matches!(action.as_str(), "ADD" | "OBSERVE" | "DELETE") {
                            return Err(refused(name, "is ADD, OBSERVE or DELETE"));
                        }
                        query.actions.push(action);
                    }
                }
                "EQ_bizStep" => query
                    .biz_steps
                    .extend(list().map(|v| Vocabulary::BizStep.normalise(&v))),
                "EQ_disposition" => query
                    .dispositions
                    .extend(list().map(|v| Vocabulary::Disposition.normalise(&v))),
                "EQ_readPoint" => query.read_points.extend(epcs()?),
                "EQ_bizLocation" => query.biz_locations.extend(epcs()?),
                "EQ_transformationID" => query.transformation_ids.extend(list()),
                "eventID" => query.event_ids.extend(list()),
                "MATCH_epc" => query.epc_matches.push((vec!["epc", "child"], epcs()?)),
                "MATCH_parentID" => query.epc_matches.push((vec!["parent"], epcs()?)),
                "MATCH_inputEPC" => query.epc_matches.push((vec!["input"], epcs()?)),
                "MATCH_outputEPC" => query.epc_matches.push((vec!["output"], epcs()?)),
                "MATCH_anyEPC" => {
                    query
                        .epc_matches
                        .push((vec!["epc", "child", "parent", "input", "output"], epcs()?));
                }
                "MATCH_epcClass" => query.epc_matches.push((vec!["class"], epcs()?)),
                "perPage" => {
                    query.per_page = value
                        .parse()
                        .ok()
                        .filter(|n| (1..=MAX_PER_PAGE).contains(n))
                        .ok_or_else(|| refused(name, format!("is 1 to {MAX_PER_PAGE}")))?;
                }
                "nextPageToken" => {
                    query.after = Some(
                        value
                            .parse()
                            .map_err(|_| refused(name, "is not a token this service gave"))?,
                    );
                }
                _ => return Err(refused(name, "is not a query parameter this service supports")),
            }
        }
        Ok(query)
    }

    /// Whether an event recorded at `record_time` meets every condition, as the store's query
    /// decides for captured events (the circuit and the page position are the caller's).
    pub fn matches(&self, event: &CapturedEvent, record_time: Timestamp) -> bool {
        let one_of = |values: &[String], value: &Option<String>| {
            values.is_empty() || value.as_ref().is_some_and(|v| values.contains(v))
        };
        let within = |time: Timestamp, from: Option<Timestamp>, before: Option<Timestamp>| {
            from.is_none_or(|from| time >= from) && before.is_none_or(|before| time < before)
        };
        (self.event_types.is_empty() || self.event_types.contains(&event.event_type))
            && within(event.event_time, self.ge_event_time, self.lt_event_time)
            && within(record_time, self.ge_record_time, self.lt_record_time)
            && one_of(&self.actions, &event.action)
            && one_of(&self.biz_steps, &event.biz_step)
            && one_of(&self.dispositions, &event.disposition)
            && one_of(&self.read_points, &event.read_point)
            && one_of(&self.biz_locations, &event.biz_location)
            && one_of(&self.transformation_ids, &event.transformation_id)
            && (self.event_ids.is_empty() || self.event_ids.contains(&event.event_id))
            && self.epc_matches.iter().all(|(roles, epcs)| {
                event
                    .epcs
                    .iter()
                    .any(|(role, epc)| roles.contains(&role.as_str()) && epcs.iter().any(|e| e == epc.as_str()))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
    }

    #[test]
    fn parameters_read_as_epcis_says() {
        let query = EventQuery::parse(&pairs(&[
            ("eventType", "ObjectEvent|AggregationEvent"),
            ("EQ_bizStep", "shipping"),
            ("MATCH_epc", "urn:epc:id:sgtin:7891234.012345.BOV0001"),
            ("perPage", "2"),
        ]))
        .unwrap();
        assert_eq!(query.event_types, vec![EventType::Object, EventType::Aggregation]);
        assert_eq!(query.biz_steps, vec!["https://ref.gs1.org/cbv/BizStep-shipping"]);
        assert_eq!(
            query.epc_matches[0].1,
            vec!["https://id.gs1.org/01/07891234123459/21/BOV0001"]
        );
        assert_eq!(query.per_page, 2);
    }

    #[test]
    fn an_event_matches_when_every_condition_holds() {
        let document = serde_json::json!({
            "type": "ObjectEvent",
            "eventTime": "2026-12-04T10:00:00Z",
            "eventTimeZoneOffset": "+00:00",
            "epcList": ["urn:epc:id:sgtin:7891234.012345.BOV0001"],
            "action": "OBSERVE",
            "bizStep": "shipping"
        });
        let event = super::super::event::read_event(&document, &Default::default()).unwrap();
        let recorded = event.event_time;
        let query = |list: &[(&str, &str)]| EventQuery::parse(&pairs(list)).unwrap();
        for matching in [
            query(&[]),
            query(&[("eventType", "ObjectEvent"), ("EQ_bizStep", "shipping|receiving")]),
            query(&[("MATCH_anyEPC", "https://id.gs1.org/01/07891234123459/21/BOV0001")]),
            query(&[("GE_eventTime", "2026-12-04T10:00:00Z"), ("EQ_action", "OBSERVE")]),
        ] {
            assert!(query_matches(&matching, &event, recorded), "{matching:?}");
        }
        for other in [
            query(&[("eventType", "AggregationEvent")]),
            query(&[("EQ_bizStep", "receiving")]),
            query(&[("EQ_disposition", "active")]),
            query(&[("MATCH_parentID", "urn:epc:id:sgtin:7891234.012345.BOV0001")]),
            query(&[("LT_eventTime", "2026-12-04T10:00:00Z")]),
            query(&[("eventID", "urn:uuid:00000000-0000-0000-0000-000000000000")]),
        ] {
            assert!(!query_matches(&other, &event, recorded), "{other:?}");
        }
    }

    fn query_matches(query: &EventQuery, event: &CapturedEvent, recorded: Timestamp) -> bool {
        query.matches(event, recorded)
    }

    #[test]
    fn unknown_and_malformed_parameters_are_refused() {
        assert_eq!(
            EventQuery::parse(&pairs(&[("EQ_colour", "red")]))
                .unwrap_err()
                .parameter,
            "EQ_colour"
        );
        assert!(EventQuery::parse(&pairs(&[("perPage", "501")])).is_err());
        assert!(EventQuery::parse(&pairs(&[("GE_eventTime", "yesterday")])).is_err());
    }
}
