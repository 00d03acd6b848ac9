//! Events: immutable facts about an item, deduplicated by a hash of their content.

use std::str::FromStr;

use chrono::{DateTime, Timelike, Utc};
use serde_json::{Value, json};

use crate::domain::secrets::sha256_hex;
use crate::domain::{Error, Timestamp};

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum Visibility {
        /// Everyone who can see the item, and public circuit pages that publish it.
        Public = "Public",
        /// The event's source and the item's owner.
        Private = "Private",
        /// Members of circuits holding the item (and the source and owner).
        CircuitOnly = "CircuitOnly",
    }
}

impl FromStr for Visibility {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        Self::from_text(text).ok_or_else(|| Error::field("visibility", format!("unknown visibility {text:?}")))
    }
}

/// Event types only the server writes.
pub const RESERVED_TYPES: &[&str] = &[
    "Tokenized",
    "PushedToCircuit",
    "PulledFromCircuit",
    "Enriched",
    "Merged",
    "Split",
    "StatusChanged",
];

/// The shape `validate_client_event_type` accepts, as a regular expression, for the spec.
pub const EVENT_TYPE_PATTERN: &str = "^[A-Za-z0-9_.:-]{1,64}$";

/// 1 to 64 characters of `A-Z a-z 0-9 _ . : -`, and not reserved (compared ignoring case).
pub fn validate_client_event_type(event_type: &str) -> Result<(), Error> {
    let shape_ok = (1..=64).contains(&event_type.len())
        && event_type
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'));
    if !shape_ok {
        return Err(Error::field("event_type", "1 to 64 characters of A-Z a-z 0-9 _ . : -"));
    }
    if RESERVED_TYPES
        .iter()
        .any(|reserved| reserved.eq_ignore_ascii_case(event_type))
    {
        return Err(Error::invalid(
            "reserved_event_type",
            format!("{event_type:?} is written by the server only"),
        )
        .with_details(json!({ "field": "event_type", "reserved": RESERVED_TYPES })));
    }
    Ok(())
}

/// `occurred_at` in its one stored and returned form: `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`, UTC,
/// microseconds, trailing zeros dropped.
pub fn format_occurred_at(at: Timestamp) -> String {
    let base = at.format("%Y-%m-%dT%H:%M:%S").to_string();
    let micros = at.nanosecond() / 1_000 % 1_000_000;
    if micros == 0 {
        format!("{base}Z")
    } else {
        let fraction = format!("{micros:06}");
        format!("{base}.{}Z", fraction.trim_end_matches('0'))
    }
}

/// Parses an RFC 3339 time, converted to UTC and truncated to microseconds.
pub fn parse_occurred_at(text: &str) -> Result<Timestamp, Error> {
    let parsed = DateTime::parse_from_rfc3339(text.trim())
        .map_err(|_| Error::field("occurred_at", "an RFC 3339 date-time, e.g. 2026-11-26T12:00:00Z"))?
        .with_timezone(&Utc);
    Ok(truncate_micros(parsed))
}

pub fn truncate_micros(at: Timestamp) -> Timestamp {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

/// Metadata must be a JSON object; missing or null is `{}`.
pub fn normalize_metadata(metadata: Option<Value>) -> Result<Value, Error> {
    match metadata {
        None | Some(Value::Null) => Ok(json!({})),
        Some(object @ Value::Object(_)) => Ok(object),
        Some(_) => Err(Error::field("metadata", "must be a JSON object")),
    }
}

/// Lowercase hex SHA-256 of the RFC 8785 canonical JSON of
/// `{dfid, event_type, source, metadata, occurred_at}`.
pub fn content_hash(
    dfid: &str,
    event_type: &str,
    source: &str,
    metadata: &Value,
    occurred_at: &str,
) -> Result<String, Error> {
    let content = json!({
        "dfid": dfid,
        "event_type": event_type,
        "source": source,
        "metadata": metadata,
        "occurred_at": occurred_at,
    });
    let canonical = serde_jcs::to_vec(&content).map_err(|e| Error::internal(format!("canonical JSON: {e}")))?;
    Ok(sha256_hex(&canonical))
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub event_id: String,
    pub dfid: String,
    pub event_type: String,
    pub visibility: Visibility,
    pub source: String,
    pub metadata: Value,
    pub occurred_at: Timestamp,
    pub recorded_at: Timestamp,
    pub content_hash: String,
}

/// When an event happened, and when the service recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventTimes {
    pub occurred_at: Timestamp,
    pub recorded_at: Timestamp,
}

impl EventTimes {
    /// An event the service itself records as it happens.
    pub fn now(at: Timestamp) -> Self {
        Self {
            occurred_at: at,
            recorded_at: at,
        }
    }
}

impl Event {
    /// An event with its content hash computed from these values.
    pub fn new(
        event_id: String,
        dfid: &str,
        event_type: &str,
        visibility: Visibility,
        source: &str,
        metadata: Value,
        times: EventTimes,
    ) -> Result<Self, Error> {
        let EventTimes {
            occurred_at,
            recorded_at,
        } = times;
        let content_hash = content_hash(dfid, event_type, source, &metadata, &format_occurred_at(occurred_at))?;
        Ok(Self {
            event_id,
            dfid: dfid.to_owned(),
            event_type: event_type.to_owned(),
            visibility,
            source: source.to_owned(),
            metadata,
            occurred_at,
            recorded_at,
            content_hash,
        })
    }

    /// The log's digest of the event: its content hash, as bytes.
    pub fn log_digest(&self) -> Result<[u8; 32], Error> {
        crate::domain::log::entry::digest_of_hex(&self.content_hash, "content hash")
    }
}

/// A local event: recorded by a user before it is tied to an item.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalEvent {
    pub local_event_id: String,
    pub owner_id: String,
    pub event_type: String,
    pub visibility: Visibility,
    pub metadata: Value,
    pub occurred_at: Timestamp,
    pub created_at: Timestamp,
    /// Set once the event was pushed to an item.
    pub event_id: Option<String>,
    pub dfid: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_type_pattern_is_the_rule_for_unreserved_types() {
        let pattern = regex::Regex::new(EVENT_TYPE_PATTERN).unwrap();
        let unreserved = crate::domain::identity::account::tests::samples()
            .into_iter()
            .filter(|sample| !RESERVED_TYPES.iter().any(|r| r.eq_ignore_ascii_case(sample)));
        for sample in unreserved {
            assert_eq!(
                pattern.is_match(&sample),
                validate_client_event_type(&sample).is_ok(),
                "{sample:?}"
            );
        }
    }

    #[test]
    fn content_hash_known_answer() {
        let metadata = json!({ "kg": 412.5, "b": [1, "x"], "a": null });
        let hash = content_hash(
            "DFID-20261126-000001-FF10",
            "weighing",
            "user-1",
            &metadata,
            "2026-11-26T12:00:00Z",
        )
        .unwrap();
        assert_eq!(hash, "d05d2d521cd6b50aaf7731af0298c53a018340d8a3c82b0bf55a27066c7945f4");
        let same_instant = parse_occurred_at("2026-11-26T12:00:00.000+00:00").unwrap();
        assert_eq!(format_occurred_at(same_instant), "2026-11-26T12:00:00Z");
    }

    #[test]
    fn canonical_json_follows_rfc_8785() {
        let canonical = |text: &str| {
            let value: Value = serde_json::from_str(text).unwrap();
            serde_jcs::to_string(&value).unwrap()
        };
        assert_eq!(
            canonical(
                r#"{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"literals":[null,true,false]}"#
            ),
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27]}"#
        );
        assert_eq!(
            canonical(r#"{"\u20ac":1,"\r":2,"\ufb33":3,"1":4,"\ud83d\ude00":5,"\u0080":6,"\u00f6":7}"#),
            "{\"\\r\":2,\"1\":4,\"\u{80}\":6,\"ö\":7,\"€\":1,\"😀\":5,\"\u{fb33}\":3}"
        );
        assert_eq!(
            canonical(r#"{"string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/"}"#),
            r#"{"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
    }

    #[test]
    fn occurred_at_normalisation() {
        let cases = [
            ("2026-11-26T12:00:00Z", "2026-11-26T12:00:00Z"),
            ("2026-11-26T09:00:00-03:00", "2026-11-26T12:00:00Z"),
            ("2026-11-26T12:00:00.120Z", "2026-11-26T12:00:00.12Z"),
            ("2026-11-26T12:00:00.1234567Z", "2026-11-26T12:00:00.123456Z"),
            ("2026-11-26T12:00:00.000001Z", "2026-11-26T12:00:00.000001Z"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                format_occurred_at(parse_occurred_at(input).unwrap()),
                expected,
                "{input}"
            );
        }
        assert!(parse_occurred_at("yesterday").is_err());
    }

    #[test]
    fn event_types() {
        for ok in ["vaccination", "weighing", "harvest:2026", "a.b-c_d"] {
            assert!(validate_client_event_type(ok).is_ok(), "{ok}");
        }
        for bad in ["", "with space", &"x".repeat(65), "ção"] {
            assert_eq!(
                validate_client_event_type(bad).unwrap_err().code,
                "validation_error",
                "{bad}"
            );
        }
        for reserved in ["Tokenized", "tokenized", "PUSHEDTOCIRCUIT", "statuschanged"] {
            assert_eq!(
                validate_client_event_type(reserved).unwrap_err().code,
                "reserved_event_type",
                "{reserved}"
            );
        }
    }

    #[test]
    fn metadata_defaults_to_an_object() {
        assert_eq!(normalize_metadata(None).unwrap(), json!({}));
        assert_eq!(normalize_metadata(Some(Value::Null)).unwrap(), json!({}));
        assert!(normalize_metadata(Some(json!([1]))).is_err());
    }
}
