//! Requests to join a circuit, decided by its managers.

use crate::domain::Timestamp;

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum RequestStatus {
        Pending = "Pending",
        Approved = "Approved",
        Rejected = "Rejected",
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct JoinRequest {
    pub circuit_id: String,
    pub user_id: String,
    pub username: String,
    pub message: Option<String>,
    pub status: RequestStatus,
    pub created_at: Timestamp,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub reason: Option<String>,
}
