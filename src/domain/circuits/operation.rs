//! Push and pull operations and their approval state machine:
//! `Pending -> Completed | Rejected`; `Completed`, `Rejected` and `Failed` are final.

use crate::domain::{Error, Timestamp};

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum OperationType {
        Push = "Push",
        Pull = "Pull",
    }
}

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum OperationStatus {
        Pending = "Pending",
        Completed = "Completed",
        Rejected = "Rejected",
        Failed = "Failed",
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub operation_id: String,
    pub circuit_id: String,
    pub dfid: String,
    pub operation_type: OperationType,
    pub requester_id: String,
    pub status: OperationStatus,
    pub created_at: Timestamp,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub reason: Option<String>,
    /// This push minted the DFID, so completing it announces `item_tokenized` too.
    pub minted: bool,
    /// The local item a push-local came from.
    pub local_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
}

impl Operation {
    /// The status a decision moves this operation to: only a Pending operation can be decided,
    /// and never by its own requester.
    pub fn decide(&self, decider_id: &str, decision: Decision) -> Result<OperationStatus, Error> {
        if self.status != OperationStatus::Pending {
            return Err(Error::conflict(
                "operation_not_pending",
                format!("this operation is {}, not Pending", self.status.as_str()),
            ));
        }
        if self.requester_id == decider_id {
            return Err(Error::forbidden(
                "self_approval",
                "nobody decides their own pending operation",
            ));
        }
        Ok(match decision {
            Decision::Approve => OperationStatus::Completed,
            Decision::Reject => OperationStatus::Rejected,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn operation(status: OperationStatus) -> Operation {
        Operation {
            operation_id: "op".into(),
            circuit_id: "c".into(),
            dfid: "d".into(),
            operation_type: OperationType::Push,
            requester_id: "requester".into(),
            status,
            created_at: chrono::Utc::now(),
            decided_by: None,
            decided_at: None,
            reason: None,
            minted: false,
            local_id: None,
        }
    }

    #[test]
    fn state_machine() {
        let pending = operation(OperationStatus::Pending);
        assert_eq!(
            pending.decide("manager", Decision::Approve).unwrap(),
            OperationStatus::Completed
        );
        assert_eq!(
            pending.decide("manager", Decision::Reject).unwrap(),
            OperationStatus::Rejected
        );
        assert_eq!(
            pending.decide("requester", Decision::Approve).unwrap_err().code,
            "self_approval"
        );
        for done in [
            OperationStatus::Completed,
            OperationStatus::Rejected,
            OperationStatus::Failed,
        ] {
            assert_eq!(
                operation(done).decide("manager", Decision::Approve).unwrap_err().code,
                "operation_not_pending"
            );
        }
    }
}
