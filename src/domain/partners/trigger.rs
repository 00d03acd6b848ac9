//! Triggers: what a circuit's partners may be told about, written in the transaction of the change
//! that caused it and fanned out to webhooks.

use serde_json::Value;

use crate::domain::Timestamp;

text_enum! {
    /// What partners' webhooks can subscribe to.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum TriggerKind {
        ItemPushed = "item_pushed",
        ItemTokenized = "item_tokenized",
        ItemApproved = "item_approved",
        ItemPublished = "item_published",
        EventCreated = "event_created",
        EpcisEvent = "epcis_event",
    }
}

/// Something a circuit's partners may be told about.
#[derive(Debug, Clone, PartialEq)]
pub struct Trigger {
    pub id: String,
    pub kind: TriggerKind,
    pub circuit_id: String,
    pub dfid: String,
    pub actor_id: String,
    pub operation_id: Option<String>,
    pub operation_status: Option<String>,
    /// For `event_created`: `{event_id, event_type, occurred_at, visibility}`. For `epcis_event`:
    /// the EPCIS event as stored, its namespace bindings under `@context`.
    pub event: Option<Value>,
    pub occurred_at: Timestamp,
}

impl Trigger {
    pub fn new(id: String, kind: TriggerKind, circuit_id: &str, dfid: &str, actor_id: &str, at: Timestamp) -> Self {
        Self {
            id,
            kind,
            circuit_id: circuit_id.to_owned(),
            dfid: dfid.to_owned(),
            actor_id: actor_id.to_owned(),
            operation_id: None,
            operation_status: None,
            event: None,
            occurred_at: at,
        }
    }

    pub fn for_operation(mut self, operation_id: &str, status: &str) -> Self {
        self.operation_id = Some(operation_id.to_owned());
        self.operation_status = Some(status.to_owned());
        self
    }
}
