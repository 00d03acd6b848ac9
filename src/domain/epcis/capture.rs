//! Capture jobs (EPCIS 2.0's `/capture` resource): what became of one captured document.

use serde::{Deserialize, Serialize};

use super::event::CapturedEvent;
use crate::domain::Timestamp;
use crate::domain::items::event::Visibility;

/// Documents up to this many events are captured before the request is answered.
pub const CAPTURED_BEFORE_ANSWERING: usize = 500;

/// Why one event of a document was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureError {
    /// The event's index in `eventList`.
    pub index: usize,
    /// The field, as a path inside the event (`epcList[2]`); empty for the whole event.
    pub field: String,
    /// The error code (API.md's codes: `invalid_field`, `identifier_conflict`, ...).
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CaptureJob {
    pub capture_id: String,
    pub circuit_id: String,
    pub created_by: String,
    pub created_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    pub running: bool,
    /// Whether every event was captured (false while running).
    pub success: bool,
    pub errors: Vec<CaptureError>,
    pub events_captured: u64,
    /// Events already in the circuit (the same event hash): not stored twice.
    pub events_duplicated: u64,
}

impl CaptureJob {
    pub fn started(capture_id: String, circuit_id: &str, created_by: &str, now: Timestamp) -> Self {
        Self {
            capture_id,
            circuit_id: circuit_id.to_owned(),
            created_by: created_by.to_owned(),
            created_at: now,
            finished_at: None,
            running: true,
            success: false,
            errors: Vec::new(),
            events_captured: 0,
            events_duplicated: 0,
        }
    }

    pub fn failed(mut self, errors: Vec<CaptureError>, now: Timestamp) -> Self {
        self.running = false;
        self.success = false;
        self.errors = errors;
        self.finished_at = Some(now);
        self
    }

    /// The job as it stands at `now`, when no capture runs longer than `longest`: one still
    /// marked running after that was interrupted (its process stopped) and stored nothing, as
    /// a capture commits whole.
    pub fn as_of(self, now: Timestamp, longest: std::time::Duration) -> Self {
        let deadline = chrono::Duration::from_std(longest)
            .ok()
            .and_then(|longest| self.created_at.checked_add_signed(longest));
        match deadline {
            Some(deadline) if self.running && now > deadline => self.failed(
                vec![CaptureError {
                    index: 0,
                    field: String::new(),
                    code: "capture_interrupted".to_owned(),
                    message: "the capture stopped before it finished and stored nothing: capture the document again"
                        .to_owned(),
                }],
                deadline,
            ),
            _ => self,
        }
    }

    pub fn succeeded(mut self, captured: u64, duplicated: u64, now: Timestamp) -> Self {
        self.running = false;
        self.success = true;
        self.events_captured = captured;
        self.events_duplicated = duplicated;
        self.finished_at = Some(now);
        self
    }
}

/// A captured event to store: in which circuit, by whom, and the item each of its EPCs names.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEpcisEvent {
    pub circuit_id: String,
    pub event: CapturedEvent,
    pub record_time: Timestamp,
    pub capture_id: Option<String>,
    pub captured_by: String,
    pub visibility: Visibility,
    /// The item of each of `event.epcs`, in the same order (none for class-level EPCs).
    pub dfids: Vec<Option<String>>,
}

/// A stored event as queries read it.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    /// The store's order of capture; pages continue after it.
    pub seq: i64,
    pub circuit_id: String,
    pub event_id: String,
    pub record_time: Timestamp,
    /// The event as captured, with its `eventID` and (under `@context`) its namespace bindings.
    pub document: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_job_still_running_after_the_longest_capture_was_interrupted() {
        let started = chrono::DateTime::parse_from_rfc3339("2026-12-04T10:00:00Z")
            .unwrap()
            .to_utc();
        let job = CaptureJob::started("job-1".into(), "c1", "user-1", started);
        let longest = Duration::from_secs(180);
        let within = job.clone().as_of(started + chrono::Duration::seconds(180), longest);
        assert!(within.running);
        let after = job.clone().as_of(started + chrono::Duration::seconds(181), longest);
        assert!(!after.running && !after.success);
        assert_eq!(after.errors[0].code, "capture_interrupted");
        assert_eq!(after.finished_at, Some(started + chrono::Duration::seconds(180)));
        let finished = job
            .succeeded(3, 0, started)
            .as_of(started + chrono::Duration::days(1), longest);
        assert!(finished.success);
    }
}
