//! What partners' features need: webhooks and the outbox in storage, the HTTP sender, the cipher
//! for secrets at rest, content stores, notifications in storage and their live fan-out.

use std::time::Duration;

use tokio::sync::broadcast;

use crate::domain::page::{Page, PageRequest};
use crate::domain::partners::notification::Notification;
use crate::domain::partners::storage::StorageRecord;
use crate::domain::partners::webhook::{AttemptResult, Delivery, DeliveryStatus, PostActionSettings, Webhook};
use crate::domain::{Result, Timestamp};

/// Filters for a circuit's webhook deliveries.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub webhook_id: Option<String>,
    pub status: Option<DeliveryStatus>,
}

#[async_trait::async_trait]
pub trait WebhookRepo: Send + Sync {
    async fn post_action_settings(&self, circuit_id: &str) -> Result<PostActionSettings>;
    async fn webhooks(&self, circuit_id: &str, page: &PageRequest) -> Result<Page<Webhook>>;
    async fn webhook(&self, webhook_id: &str) -> Result<Option<Webhook>>;
    async fn deliveries(&self, circuit_id: &str, filter: &DeliveryFilter, page: &PageRequest)
    -> Result<Page<Delivery>>;
    /// Claims up to `limit` due deliveries for `lease`: Pending or Retrying ones whose time has
    /// come, and InProgress ones whose lease ran out (a crashed sender). Several replicas may
    /// claim at once; each delivery goes to one of them.
    async fn claim_deliveries(&self, now: Timestamp, limit: u64, lease: Duration) -> Result<Vec<(Delivery, Webhook)>>;
}

#[async_trait::async_trait]
pub trait StorageRepo: Send + Sync {
    /// Storage records due for storing, claimed like deliveries.
    async fn claim_storage(&self, now: Timestamp, limit: u64, lease: Duration) -> Result<Vec<StorageRecord>>;
    async fn storage_records(&self, dfid: &str, page: &PageRequest) -> Result<Page<StorageRecord>>;
    /// Items that have a copy with this CID.
    async fn items_with_cid(&self, cid: &str) -> Result<Vec<String>>;
}

/// What the outbox holds: deliveries not yet final, and the oldest one's age.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutboxDepth {
    pub deliveries: u64,
    pub storage: u64,
    /// Messages waiting in the mail outbox.
    pub mail: u64,
    pub oldest: Option<Timestamp>,
}

#[async_trait::async_trait]
pub trait OutboxRepo: Send + Sync {
    async fn outbox_depth(&self) -> Result<OutboxDepth>;
}

#[async_trait::async_trait]
pub trait NotificationRepo: Send + Sync {
    async fn notifications(&self, user_id: &str, unread_only: bool, page: &PageRequest) -> Result<Page<Notification>>;
    async fn unread_count(&self, user_id: &str) -> Result<u64>;
    /// Marks one of the user's notifications read; `false` if there is none with that id.
    async fn mark_read(&self, user_id: &str, notification_id: &str) -> Result<bool>;
    /// Marks all the user's notifications read; returns how many changed.
    async fn mark_all_read(&self, user_id: &str) -> Result<u64>;
    /// Deletes one of the user's notifications; `false` if there is none with that id.
    async fn delete_notification(&self, user_id: &str, notification_id: &str) -> Result<bool>;
    /// Whether the user asked for their notifications by email too.
    async fn notify_by_email(&self, user_id: &str) -> Result<bool>;
    async fn set_notify_by_email(&self, user_id: &str, enabled: bool) -> Result<()>;
}

/// Live fan-out of notifications to connected sockets, on every replica.
#[async_trait::async_trait]
pub trait Notifier: Send + Sync {
    /// Announces a committed notification to every replica's sockets.
    async fn publish(&self, notification: &Notification);
    /// Notifications announced on any replica, as they arrive on this one. A receiver that falls
    /// behind the channel's bound gets `Lagged` and misses the oldest ones.
    fn subscribe(&self) -> broadcast::Receiver<Notification>;
}

/// Content-addressed stores for item documents.
#[async_trait::async_trait]
pub trait ContentStore: Send + Sync {
    /// `local`, `ipfs-ipfs`.
    fn adapter_type(&self) -> &'static str;
    /// Stores `bytes` under `cid`, which the caller computed; an adapter that computes a
    /// different CID for the bytes fails.
    async fn put(&self, cid: &str, bytes: &[u8]) -> Result<()>;
    async fn get(&self, cid: &str) -> Result<Option<Vec<u8>>>;
    /// One cheap round trip to what holds the bytes, bounded by a short timeout; the error says
    /// what failed in words safe to show a client (never an address).
    async fn ping(&self) -> Result<()>;
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingRequest {
    pub url: String,
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub timeout: Duration,
}

/// Sends webhook requests.
#[async_trait::async_trait]
pub trait WebhookTransport: Send + Sync {
    /// Checks that the URL's host resolves only to addresses this server may call (400 otherwise).
    async fn check_destination(&self, url: &str) -> Result<()>;
    /// Sends one attempt. Never follows redirects; refuses destinations that are not allowed
    /// (reported as an error in the result, checked again at every attempt).
    async fn send(&self, request: OutgoingRequest) -> AttemptResult;
}

/// Encrypts secrets kept at rest (webhook signing secrets and credentials).
pub trait SecretCipher: Send + Sync {
    fn seal(&self, plaintext: &str) -> Result<String>;
    fn open(&self, sealed: &str) -> Result<String>;
}
