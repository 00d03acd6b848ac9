//! Canonical identifier disputes: a user claims that an identifier held by another item belongs
//! to theirs; an administrator decides.

use crate::domain::Timestamp;

id_type!(
    /// A dispute's id.
    DisputeId,
    "dispute"
);

/// The longest evidence or note accepted.
pub const MAX_EVIDENCE_CHARS: usize = 4000;

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum DisputeStatus {
        Open = "Open",
        /// The identifier moved to the claimant's item.
        Reassigned = "Reassigned",
        Rejected = "Rejected",
    }
}

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum DisputeDecision {
        Reassign = "reassign",
        Reject = "reject",
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dispute {
    pub dispute_id: String,
    pub key: String,
    pub value: String,
    /// The claimant's item, which should hold the identifier.
    pub dfid: String,
    pub claimant_id: String,
    pub evidence: Option<String>,
    pub status: DisputeStatus,
    pub note: Option<String>,
    pub resolved_by: Option<String>,
    pub created_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
}
