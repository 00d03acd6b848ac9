//! What a use case announces besides its own rows, written in the same transaction: activities
//! (the feed), notifications (for users), and triggers (for partners' webhooks).

use serde_json::Value;

use super::account::Timestamp;

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
    pub fn new(activity_type: &str, actor_id: &str, summary: String, at: Timestamp) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
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

/// What partners' webhooks can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TriggerKind {
    ItemPushed,
    ItemTokenized,
    ItemApproved,
    ItemPublished,
    EventCreated,
}

impl TriggerKind {
    pub const ALL: [TriggerKind; 5] = [
        TriggerKind::ItemPushed,
        TriggerKind::ItemTokenized,
        TriggerKind::ItemApproved,
        TriggerKind::ItemPublished,
        TriggerKind::EventCreated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TriggerKind::ItemPushed => "item_pushed",
            TriggerKind::ItemTokenized => "item_tokenized",
            TriggerKind::ItemApproved => "item_approved",
            TriggerKind::ItemPublished => "item_published",
            TriggerKind::EventCreated => "event_created",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
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
    /// For `event_created`: `{event_id, event_type, occurred_at, visibility}`.
    pub event: Option<Value>,
    pub occurred_at: Timestamp,
}

impl Trigger {
    pub fn new(kind: TriggerKind, circuit_id: &str, dfid: &str, actor_id: &str, at: Timestamp) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
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
