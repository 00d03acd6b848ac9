//! Notifications: messages for one user, stored and pushed to their sockets.

use serde_json::Value;

use crate::domain::Timestamp;

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum NotificationType {
        JoinRequestReceived = "JoinRequestReceived",
        JoinRequestApproved = "JoinRequestApproved",
        JoinRequestRejected = "JoinRequestRejected",
        MemberAdded = "MemberAdded",
        MemberRemoved = "MemberRemoved",
        RoleChanged = "RoleChanged",
        CircuitItemPendingApproval = "CircuitItemPendingApproval",
        CircuitItemApproved = "CircuitItemApproved",
        CircuitItemRejected = "CircuitItemRejected",
        AccountUpdated = "AccountUpdated",
        TransferReceived = "TransferReceived",
        TransferAccepted = "TransferAccepted",
        TransferDeclined = "TransferDeclined",
        DisputeResolved = "DisputeResolved",
    }
}

impl NotificationType {}

#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: String,
    pub user_id: String,
    pub notification_type: NotificationType,
    pub title: String,
    pub message: String,
    pub read: bool,
    pub created_at: Timestamp,
    pub data: Value,
}

/// What one notification says, before it is addressed to anyone.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub kind: NotificationType,
    pub title: &'static str,
    pub message: String,
    pub data: Value,
}

impl Notification {
    pub fn new(
        id: String,
        user_id: &str,
        notification_type: NotificationType,
        title: &str,
        message: String,
        data: Value,
        at: Timestamp,
    ) -> Self {
        Self {
            id,
            user_id: user_id.to_owned(),
            notification_type,
            title: title.to_owned(),
            message,
            read: false,
            created_at: at,
            data,
        }
    }
}
