//! Requests to join a circuit, decided by its managers.

use crate::domain::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestStatus {
    Pending,
    Approved,
    Rejected,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Pending => "Pending",
            RequestStatus::Approved => "Approved",
            RequestStatus::Rejected => "Rejected",
        }
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
