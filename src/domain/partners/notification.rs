//! Notifications: messages for one user, stored and pushed to their sockets.

use serde_json::Value;

use crate::domain::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationType {
    JoinRequestReceived,
    JoinRequestApproved,
    JoinRequestRejected,
    MemberAdded,
    MemberRemoved,
    RoleChanged,
    CircuitItemPendingApproval,
    CircuitItemApproved,
    CircuitItemRejected,
    AccountUpdated,
}

impl NotificationType {
    pub const ALL: [NotificationType; 10] = [
        NotificationType::JoinRequestReceived,
        NotificationType::JoinRequestApproved,
        NotificationType::JoinRequestRejected,
        NotificationType::MemberAdded,
        NotificationType::MemberRemoved,
        NotificationType::RoleChanged,
        NotificationType::CircuitItemPendingApproval,
        NotificationType::CircuitItemApproved,
        NotificationType::CircuitItemRejected,
        NotificationType::AccountUpdated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotificationType::JoinRequestReceived => "JoinRequestReceived",
            NotificationType::JoinRequestApproved => "JoinRequestApproved",
            NotificationType::JoinRequestRejected => "JoinRequestRejected",
            NotificationType::MemberAdded => "MemberAdded",
            NotificationType::MemberRemoved => "MemberRemoved",
            NotificationType::RoleChanged => "RoleChanged",
            NotificationType::CircuitItemPendingApproval => "CircuitItemPendingApproval",
            NotificationType::CircuitItemApproved => "CircuitItemApproved",
            NotificationType::CircuitItemRejected => "CircuitItemRejected",
            NotificationType::AccountUpdated => "AccountUpdated",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

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
        user_id: &str,
        notification_type: NotificationType,
        title: &str,
        message: String,
        data: Value,
        at: Timestamp,
    ) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
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
