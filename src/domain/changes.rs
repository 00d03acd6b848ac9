//! The unit of work. A use case decides everything first, then hands the store one list of
//! changes, which it writes in one transaction: all of them or none. Guards (`Consume...`) make
//! the transaction fail when the state they expect is gone, which is how concurrent uses of one
//! thing (a reset token, say) end with exactly one winner.

use crate::domain::Timestamp;
use crate::domain::audit::{Activity, AuditEntry};
use crate::domain::circuits::circuit::Circuit;
use crate::domain::circuits::join_request::{JoinRequest, RequestStatus};
use crate::domain::circuits::operation::{Operation, OperationStatus};
use crate::domain::circuits::roles::{CustomRole, Member, MemberRole};
use crate::domain::epcis::capture::{CaptureJob, NewEpcisEvent};
use crate::domain::identity::access::{ApiKey, Session};
use crate::domain::identity::account::{Account, AccountStatus, Tier};
use crate::domain::identity::mail_outbox::{MailOutcome, QueuedMail};
use crate::domain::items::dispute::{Dispute, DisputeStatus};
use crate::domain::items::event::{Event, LocalEvent};
use crate::domain::items::identifier::Identifier;
use crate::domain::items::item::{Item, ItemStatus, LocalItem};
use crate::domain::items::receipt::Receipt;
use crate::domain::items::transfer::{Transfer, TransferStatus};
use crate::domain::partners::notification::Notification;
use crate::domain::partners::storage::{StorageOutcome, StorageRecord};
use crate::domain::partners::trigger::Trigger;
use crate::domain::partners::webhook::{AttemptResult, Delivery, DeliveryStatus, PostActionSettings, Webhook};

#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A capture job, running.
    InsertCaptureJob(CaptureJob),
    /// A capture job's outcome.
    FinishCaptureJob(CaptureJob),
    /// Captured EPCIS events with the EPCs they name.
    InsertEpcisEvents(Vec<NewEpcisEvent>),
    InsertWorkspace {
        id: String,
        name: String,
        owner_id: String,
        created_at: Timestamp,
    },
    InsertAccount(Account),
    /// Successful login: stamps `last_login_at`, and replaces a legacy hash when given one.
    RecordLogin {
        user_id: String,
        at: Timestamp,
        new_password_hash: Option<String>,
    },
    SetPasswordHash {
        user_id: String,
        password_hash: String,
        at: Timestamp,
    },
    SetTier {
        user_id: String,
        tier: Tier,
        at: Timestamp,
    },
    /// New username and/or email (`None` keeps it).
    SetLogin {
        user_id: String,
        username: Option<String>,
        email: Option<String>,
        at: Timestamp,
    },
    SetAdmin {
        user_id: String,
        is_admin: bool,
        at: Timestamp,
    },
    SetStatus {
        user_id: String,
        status: AccountStatus,
        reason: Option<String>,
        at: Timestamp,
    },
    InsertSession(Session),
    ExtendSession {
        session_id: String,
        expires_at: Timestamp,
    },
    RevokeSession {
        session_id: String,
        at: Timestamp,
    },
    /// Revokes every session of the user except `keep`, by moving the account to `new_epoch`
    /// (and `keep` with it).
    RevokeSessions {
        user_id: String,
        keep: Option<String>,
        new_epoch: i64,
        at: Timestamp,
    },
    InsertResetToken {
        token_hash: String,
        user_id: String,
        created_at: Timestamp,
        expires_at: Timestamp,
    },
    /// Guard: marks the token used; fails the transaction with 400 `invalid_token` unless it
    /// was unused and unexpired at `at`.
    ConsumeResetToken {
        token_hash: String,
        at: Timestamp,
    },
    InsertApiKey(ApiKey),
    /// Writes the key's editable fields (name, is_active, notes, allowed_ips, rate limit).
    UpdateApiKey(ApiKey),
    RevokeApiKey {
        key_id: String,
        at: Timestamp,
    },
    /// Revokes every API key of the account.
    RevokeApiKeysOf {
        user_id: String,
        at: Timestamp,
    },
    Audit(AuditEntry),
    /// A message for the mail worker to send.
    QueueMail(QueuedMail),
    /// How an attempt to send a queued message ended; a sent message's body is emptied.
    RecordMail(MailOutcome),

    /// Local items of one owner, as few multi-row statements.
    InsertLocalItems(Vec<LocalItem>),
    /// Guard: maps the local item to `dfid`; fails with `concurrent_write` if it was mapped
    /// meanwhile.
    MapLocalItem {
        local_id: String,
        dfid: String,
    },
    InsertItem(Item),
    /// Writes the item's identifiers (the full list), data and status. Guard: fails with
    /// `concurrent_write` unless the item is still at `expected_updated_at` (another writer's
    /// change would otherwise be lost).
    UpdateItem {
        dfid: String,
        expected_updated_at: Timestamp,
        identifiers: Vec<Identifier>,
        enriched_data: serde_json::Map<String, serde_json::Value>,
        status: ItemStatus,
        updated_at: Timestamp,
    },
    /// Adds identifiers to an item. Canonical ones also claim their `(key, value)` system-wide;
    /// a claim another transaction made first fails with `concurrent_write`.
    AddIdentifiers {
        dfid: String,
        identifiers: Vec<Identifier>,
        added_by: String,
        at: Timestamp,
    },
    /// Fails with `concurrent_write` if the same content was recorded meanwhile.
    InsertEvent(Event),
    /// A receipt and its log entry.
    InsertReceipt(Receipt),
    InsertLocalEvent(LocalEvent),
    /// Guard: ties a local event to the event it became; `concurrent_write` if already tied.
    AttachLocalEvent {
        local_event_id: String,
        event_id: String,
        dfid: String,
    },
    /// Holds the owner's circuit limit inside the transaction: creations by one owner are
    /// serialized there and counted again, so parallel requests cannot all pass one earlier check.
    HoldCircuitLimit {
        owner_id: String,
        limit: u64,
    },
    /// The same for the owner's new local items since `since` (the month's start), with room
    /// for `adding` more.
    HoldItemLimit {
        owner_id: String,
        since: Timestamp,
        limit: u64,
        adding: u64,
    },
    InsertCircuit(Circuit),
    /// Writes the circuit's editable fields (name, description, status, settings, alias and
    /// adapter config, public settings).
    UpdateCircuit(Circuit),
    /// Fails with 409 `already_member` if the user is a member.
    InsertMember(Member),
    UpdateMember {
        circuit_id: String,
        user_id: String,
        role: MemberRole,
        custom_role: Option<String>,
    },
    RemoveMember {
        circuit_id: String,
        user_id: String,
    },
    InsertRole(CustomRole),
    UpdateRole(CustomRole),
    DeleteRole {
        role_id: String,
    },
    /// Creates the request, or reopens a decided one.
    UpsertJoinRequest(JoinRequest),
    /// Guard: fails with 409 `request_not_pending` unless the request is Pending.
    DecideJoinRequest {
        circuit_id: String,
        user_id: String,
        status: RequestStatus,
        decided_by: String,
        at: Timestamp,
        reason: Option<String>,
    },
    InsertOperation(Operation),
    /// Guard: fails with 409 `operation_not_pending` unless the operation is Pending.
    DecideOperation {
        operation_id: String,
        status: OperationStatus,
        decided_by: String,
        at: Timestamp,
        reason: Option<String>,
    },
    /// Puts an item in a circuit (nothing if it is there already).
    AddCircuitItem {
        circuit_id: String,
        dfid: String,
        pushed_by: String,
        pushed_at: Timestamp,
    },
    /// Guard: 409 `transfer_pending` when the item has a pending transfer already.
    InsertTransfer(Transfer),
    /// Guard: 409 `transfer_not_pending` unless the transfer is recorded as Pending.
    DecideTransfer {
        transfer_id: String,
        status: TransferStatus,
        at: Timestamp,
    },
    /// Guard: 409 `concurrent_write` unless `from_user_id` still owns the item.
    SetItemOwner {
        dfid: String,
        from_user_id: String,
        to_user_id: String,
        at: Timestamp,
    },
    InsertDispute(Dispute),
    /// Guard: 409 `dispute_not_open` unless the dispute is still Open.
    ResolveDispute {
        dispute_id: String,
        status: DisputeStatus,
        note: Option<String>,
        resolved_by: String,
        at: Timestamp,
    },
    /// Moves a canonical identifier's index rows from one item to another (the items' own lists
    /// change by `UpdateItem`). Guard: 409 `concurrent_write` unless `from_dfid` still holds it.
    ReassignCanonical {
        key: String,
        value: String,
        from_dfid: String,
        to_dfid: String,
    },
    /// Takes an item out of a circuit, off its public page, and from those who pulled it there.
    /// Guard: 404 unless the circuit held it.
    RemoveCircuitItem {
        circuit_id: String,
        dfid: String,
    },
    /// Lets a user read an item they pulled from `circuit_id` (nothing if they already may);
    /// the access ends when the item leaves that circuit.
    GrantItemAccess {
        dfid: String,
        user_id: String,
        circuit_id: String,
        at: Timestamp,
    },
    /// Replaces the circuit's published items.
    SetPublishedItems {
        circuit_id: String,
        dfids: Vec<String>,
        at: Timestamp,
    },
    /// Publishes one item (nothing if it is published already).
    PublishItem {
        circuit_id: String,
        dfid: String,
        at: Timestamp,
    },
    Activity(Activity),
    /// A notification, announced to the user's sockets once committed.
    Notify(Notification),
    /// Something partners may be told about; becomes one delivery per enabled webhook of the
    /// circuit subscribed to it, in the same transaction.
    Trigger(Trigger),

    UpsertPostActionSettings {
        circuit_id: String,
        settings: PostActionSettings,
        at: Timestamp,
    },
    InsertWebhook(Webhook),
    UpdateWebhook(Webhook),
    DeleteWebhook {
        webhook_id: String,
    },
    InsertDelivery(Delivery),
    /// Records one attempt of a delivery and moves the delivery to `status`.
    RecordAttempt {
        delivery_id: String,
        attempt: u32,
        result: AttemptResult,
        status: DeliveryStatus,
        next_attempt_at: Timestamp,
        at: Timestamp,
    },
    /// A copy of an item to store through the circuit's adapter (the storage outbox).
    InsertStorageRecord(StorageRecord),
    /// The outcome of storing a record; a `Stored` one becomes the item's `latest_cid`.
    RecordStorage(StorageOutcome),
}

/// The outboxes background workers send from: webhook deliveries, storage records, mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum OutboxQueue {
    Deliveries,
    Storage,
    Mail,
}

impl Change {
    /// A use case's changes made consecutive by kind, so the store writes each kind in a few
    /// multi-row statements (one push's two events in one). Kinds keep an order in which every
    /// row follows what it refers to (an item before its identifiers, events and mapping; an
    /// operation before the triggers that name it), and each kind keeps its own order.
    pub fn grouped_by_kind(mut changes: Vec<Change>) -> Vec<Change> {
        changes.sort_by_key(|change| match change {
            Change::InsertItem(_) => 0,
            Change::UpdateItem { .. } => 1,
            Change::AddIdentifiers { .. } => 2,
            Change::InsertEvent(_) => 3,
            Change::MapLocalItem { .. } => 4,
            Change::InsertOperation(_) => 5,
            Change::AddCircuitItem { .. } => 6,
            Change::InsertStorageRecord(_) => 7,
            Change::PublishItem { .. } => 8,
            Change::Trigger(_) => 9,
            Change::Activity(_) => 10,
            _ => 11,
        });
        changes
    }

    /// The outbox queue this change gives something to send, if any.
    pub fn outbox_queue(&self) -> Option<OutboxQueue> {
        match self {
            Change::Trigger(_) | Change::InsertDelivery(_) => Some(OutboxQueue::Deliveries),
            Change::InsertStorageRecord(_) => Some(OutboxQueue::Storage),
            // A notification is mailed when its user asked for notifications by email.
            Change::QueueMail(_) | Change::Notify(_) => Some(OutboxQueue::Mail),
            _ => None,
        }
    }

    /// Whether the change records a fact with a log entry (item versions aside, which the unit of
    /// work derives from the item changes).
    pub fn logs_fact(&self) -> bool {
        matches!(self, Change::InsertEvent(_) | Change::InsertReceipt(_))
    }

    /// The notifications among `changes`, to announce once they are committed.
    pub fn notifications(changes: &[Change]) -> Vec<Notification> {
        changes
            .iter()
            .filter_map(|change| match change {
                Change::Notify(notification) => Some(notification.clone()),
                _ => None,
            })
            .collect()
    }
}

/// Writes a use case's changes in one transaction.
#[async_trait::async_trait]
pub trait UnitOfWork: Send + Sync {
    /// Writes every change or none. Unique-index violations come back as 409 with the code of
    /// the rule they break (`username_taken`...), failed guards with their own error.
    async fn commit(&self, changes: Vec<Change>) -> crate::domain::Result<()>;

    /// [`UnitOfWork::commit`] for one large unit a background job writes (a whole EPCIS
    /// document), bounded by the bulk timeout instead of the statement timeout.
    async fn commit_bulk(&self, changes: Vec<Change>) -> crate::domain::Result<()> {
        self.commit(changes).await
    }
}
