//! The activity feed: what a user did, and what happened in their circuits.

use crate::domain::Timestamp;

#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub id: String,
    /// snake_case, e.g. `item_pushed`, `member_added`.
    pub activity_type: String,
    pub actor_id: String,
    pub circuit_id: Option<String>,
    pub dfid: Option<String>,
    pub operation_id: Option<String>,
    pub summary: String,
    pub at: Timestamp,
}

impl Activity {
    pub fn new(id: String, activity_type: &str, actor_id: &str, summary: String, at: Timestamp) -> Self {
        Self {
            id,
            activity_type: activity_type.to_owned(),
            actor_id: actor_id.to_owned(),
            circuit_id: None,
            dfid: None,
            operation_id: None,
            summary,
            at,
        }
    }

    pub fn in_circuit(mut self, circuit_id: &str) -> Self {
        self.circuit_id = Some(circuit_id.to_owned());
        self
    }

    pub fn on_item(mut self, dfid: &str) -> Self {
        self.dfid = Some(dfid.to_owned());
        self
    }

    pub fn for_operation(mut self, operation_id: &str) -> Self {
        self.operation_id = Some(operation_id.to_owned());
        self
    }
}
