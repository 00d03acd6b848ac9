//! Persistence: reads per aggregate, and one `commit` that writes a use case's changes in one
//! transaction.

use crate::domain::Result;
use crate::domain::access::{ApiKey, Session};
use crate::domain::account::{Account, AccountStatus, Tier, Timestamp};
use crate::domain::audit::{AuditEntry, AuditFilter};
use crate::domain::changes::Change;
use crate::domain::page::{Page, PageRequest};

#[async_trait::async_trait]
pub trait UnitOfWork: Send + Sync {
    /// Writes every change or none. Unique-index violations come back as 409 with the code of
    /// the rule they break (`username_taken`...), failed guards with their own error.
    async fn commit(&self, changes: Vec<Change>) -> Result<()>;
}

/// Filters for the admin's user list.
#[derive(Debug, Clone, Default)]
pub struct AccountFilter {
    pub tier: Option<Tier>,
    pub status: Option<AccountStatus>,
    /// Case-insensitive substring of username or email.
    pub query: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResetToken {
    pub token_hash: String,
    pub user_id: String,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

#[async_trait::async_trait]
pub trait AccountStore: Send + Sync {
    async fn account(&self, user_id: &str) -> Result<Option<Account>>;
    /// By username or email, compared case-insensitively (`login` is already lowercased).
    async fn account_by_login(&self, login: &str) -> Result<Option<Account>>;
    async fn accounts(&self, filter: &AccountFilter, page: &PageRequest) -> Result<Page<Account>>;
    async fn session(&self, session_id: &str) -> Result<Option<Session>>;
    async fn reset_token(&self, token_hash: &str) -> Result<Option<ResetToken>>;
}

/// Usage of one API key since the last flush.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyUsage {
    pub key_id: String,
    pub count: i64,
    pub last_used_at: Timestamp,
}

#[async_trait::async_trait]
pub trait ApiKeyStore: Send + Sync {
    async fn api_key(&self, key_id: &str) -> Result<Option<ApiKey>>;
    async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>>;
    async fn api_keys(&self, user_id: &str, page: &PageRequest) -> Result<Page<ApiKey>>;
    /// Adds batched usage counts (one statement per key, not per request).
    async fn add_key_usage(&self, usage: Vec<KeyUsage>) -> Result<()>;
}

#[async_trait::async_trait]
pub trait AuditStore: Send + Sync {
    async fn audit(&self, filter: &AuditFilter, page: &PageRequest) -> Result<Page<AuditEntry>>;
}

/// Filters for the items a caller can see.
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    pub circuit_id: Option<String>,
    pub namespace: Option<crate::domain::identifier::Namespace>,
    pub key: Option<String>,
    pub value: Option<String>,
}

/// Filters for the events a caller can see.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub dfid: Option<String>,
    pub event_type: Option<String>,
    pub visibility: Option<crate::domain::event::Visibility>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

/// How one user relates to one item.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ViewerFacts {
    /// The user's memberships in circuits holding the item.
    pub memberships: Vec<crate::domain::circuit::Member>,
    /// The item was pulled to the user.
    pub pulled: bool,
    /// The user's local item mapped to it, if any.
    pub local_id: Option<String>,
}

#[async_trait::async_trait]
pub trait ItemStore: Send + Sync {
    /// The next sequence number of `day`'s DFIDs, from a per-day counter shared by replicas.
    async fn next_dfid_sequence(&self, day: chrono::NaiveDate) -> Result<u64>;
    async fn local_item(&self, local_id: &str) -> Result<Option<crate::domain::item::LocalItem>>;
    async fn local_items(&self, owner_id: &str, page: &PageRequest) -> Result<Page<crate::domain::item::LocalItem>>;
    async fn count_local_items_since(&self, owner_id: &str, since: Timestamp) -> Result<u64>;
    async fn item(&self, dfid: &str) -> Result<Option<crate::domain::item::Item>>;
    /// The item and how `user_id` relates to it, in one query.
    async fn item_for(&self, dfid: &str, user_id: &str) -> Result<Option<(crate::domain::item::Item, ViewerFacts)>>;
    /// Which DFIDs the canonical `(key, value)` names point to: `(key, value, dfid)`.
    async fn canonical_owners(&self, names: &[(String, String)]) -> Result<Vec<(String, String, String)>>;
    async fn visible_items(
        &self,
        user_id: &str,
        filter: &ItemFilter,
        page: &PageRequest,
    ) -> Result<Page<crate::domain::item::Item>>;
}

#[async_trait::async_trait]
pub trait EventStore: Send + Sync {
    async fn event(&self, event_id: &str) -> Result<Option<crate::domain::event::Event>>;
    async fn event_by_hash(&self, content_hash: &str) -> Result<Option<crate::domain::event::Event>>;
    /// Events of one item whose visibility is in `kinds`, or whose source is `viewer`.
    async fn item_events(
        &self,
        dfid: &str,
        viewer: &str,
        kinds: &[crate::domain::event::Visibility],
        page: &PageRequest,
    ) -> Result<Page<crate::domain::event::Event>>;
    /// Events `viewer` may see across items (the rules of `ItemRelation::can_see_event`).
    async fn visible_events(
        &self,
        viewer: &str,
        filter: &EventFilter,
        page: &PageRequest,
    ) -> Result<Page<crate::domain::event::Event>>;
    /// Public events of an item, for public pages.
    async fn public_events(&self, dfid: &str, limit: u32) -> Result<Vec<crate::domain::event::Event>>;
    async fn local_event(&self, local_event_id: &str) -> Result<Option<crate::domain::event::LocalEvent>>;
    /// The owner's local events not yet pushed to an item.
    async fn local_events(&self, owner_id: &str, page: &PageRequest) -> Result<Page<crate::domain::event::LocalEvent>>;
}

#[async_trait::async_trait]
pub trait CircuitStore: Send + Sync {
    async fn circuit(&self, circuit_id: &str) -> Result<Option<crate::domain::circuit::Circuit>>;
    async fn circuits_of(&self, user_id: &str, page: &PageRequest) -> Result<Page<crate::domain::circuit::Circuit>>;
    async fn count_owned_circuits(&self, owner_id: &str) -> Result<u64>;
    async fn member(&self, circuit_id: &str, user_id: &str) -> Result<Option<crate::domain::circuit::Member>>;
    async fn members(&self, circuit_id: &str, page: &PageRequest) -> Result<Page<crate::domain::circuit::Member>>;
    /// Members who may hold management permissions: the Owner, Admins, and anyone with a
    /// custom role.
    async fn privileged_members(&self, circuit_id: &str) -> Result<Vec<crate::domain::circuit::Member>>;
    /// `(member_count, item_count)`.
    async fn circuit_counts(&self, circuit_id: &str) -> Result<(u64, u64)>;
    async fn role(&self, role_id: &str) -> Result<Option<crate::domain::circuit::CustomRole>>;
    async fn roles(&self, circuit_id: &str, page: &PageRequest) -> Result<Page<crate::domain::circuit::CustomRole>>;
    async fn role_in_use(&self, role_id: &str) -> Result<bool>;
    async fn join_request(
        &self,
        circuit_id: &str,
        user_id: &str,
    ) -> Result<Option<crate::domain::circuit::JoinRequest>>;
    async fn pending_join_requests(
        &self,
        circuit_id: &str,
        page: &PageRequest,
    ) -> Result<Page<crate::domain::circuit::JoinRequest>>;
    async fn operation(&self, operation_id: &str) -> Result<Option<crate::domain::operation::Operation>>;
    async fn operations(
        &self,
        circuit_id: &str,
        status: Option<crate::domain::operation::OperationStatus>,
        page: &PageRequest,
    ) -> Result<Page<crate::domain::operation::Operation>>;
    /// The newest Pending or Completed operation of this kind for the item in the circuit.
    async fn open_operation(
        &self,
        circuit_id: &str,
        dfid: &str,
        operation_type: crate::domain::operation::OperationType,
        requester_id: Option<&str>,
    ) -> Result<Option<crate::domain::operation::Operation>>;
    async fn circuit_items(
        &self,
        circuit_id: &str,
        page: &PageRequest,
    ) -> Result<Page<crate::domain::circuit::CircuitItem>>;
    async fn holds_item(&self, circuit_id: &str, dfid: &str) -> Result<bool>;
    async fn published_items(&self, circuit_id: &str, limit: u32) -> Result<Vec<String>>;
    /// What `user_id` did, and what happened in their circuits (or in one of them).
    async fn activities(
        &self,
        user_id: &str,
        circuit_id: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<crate::domain::feed::Activity>>;
}

/// Filters for a circuit's webhook deliveries.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub webhook_id: Option<String>,
    pub status: Option<crate::domain::webhook::DeliveryStatus>,
}

/// What the outbox holds: deliveries not yet final, and the oldest one's age.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutboxDepth {
    pub deliveries: u64,
    pub storage: u64,
    pub oldest: Option<Timestamp>,
}

#[async_trait::async_trait]
pub trait PartnerStore: Send + Sync {
    async fn post_action_settings(&self, circuit_id: &str) -> Result<crate::domain::webhook::PostActionSettings>;
    async fn webhooks(&self, circuit_id: &str, page: &PageRequest) -> Result<Page<crate::domain::webhook::Webhook>>;
    async fn webhook(&self, webhook_id: &str) -> Result<Option<crate::domain::webhook::Webhook>>;
    async fn deliveries(
        &self,
        circuit_id: &str,
        filter: &DeliveryFilter,
        page: &PageRequest,
    ) -> Result<Page<crate::domain::webhook::Delivery>>;
    /// Claims up to `limit` due deliveries for `lease`: Pending or Retrying ones whose time has
    /// come, and InProgress ones whose lease ran out (a crashed sender). Several replicas may
    /// claim at once; each delivery goes to one of them.
    async fn claim_deliveries(
        &self,
        now: Timestamp,
        limit: u64,
        lease: std::time::Duration,
    ) -> Result<Vec<(crate::domain::webhook::Delivery, crate::domain::webhook::Webhook)>>;
    /// Storage records due for storing, claimed the same way.
    async fn claim_storage(
        &self,
        now: Timestamp,
        limit: u64,
        lease: std::time::Duration,
    ) -> Result<Vec<crate::domain::storage::StorageRecord>>;
    async fn outbox_depth(&self) -> Result<OutboxDepth>;
    async fn storage_records(
        &self,
        dfid: &str,
        page: &PageRequest,
    ) -> Result<Page<crate::domain::storage::StorageRecord>>;
    /// Items that have a copy with this CID.
    async fn items_with_cid(&self, cid: &str) -> Result<Vec<String>>;
}

#[async_trait::async_trait]
pub trait NotificationStore: Send + Sync {
    async fn notifications(
        &self,
        user_id: &str,
        unread_only: bool,
        page: &PageRequest,
    ) -> Result<Page<crate::domain::feed::Notification>>;
    async fn unread_count(&self, user_id: &str) -> Result<u64>;
    /// Marks one of the user's notifications read; `false` if there is none with that id.
    async fn mark_read(&self, user_id: &str, notification_id: &str) -> Result<bool>;
    /// Marks all the user's notifications read; returns how many changed.
    async fn mark_all_read(&self, user_id: &str) -> Result<u64>;
    /// Deletes one of the user's notifications; `false` if there is none with that id.
    async fn delete_notification(&self, user_id: &str, notification_id: &str) -> Result<bool>;
}

/// Everything the use cases need from the database.
pub trait Store:
    UnitOfWork
    + AccountStore
    + ApiKeyStore
    + AuditStore
    + ItemStore
    + EventStore
    + CircuitStore
    + PartnerStore
    + NotificationStore
{
}

impl<T> Store for T where
    T: UnitOfWork
        + AccountStore
        + ApiKeyStore
        + AuditStore
        + ItemStore
        + EventStore
        + CircuitStore
        + PartnerStore
        + NotificationStore
{
}
