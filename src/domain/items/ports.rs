//! What items and events need from storage.

use crate::domain::circuits::roles::Member;
use crate::domain::items::dispute::{Dispute, DisputeStatus};
use crate::domain::items::event::{Event, LocalEvent, Visibility};
use crate::domain::items::identifier::Namespace;
use crate::domain::items::item::{Item, LocalItem};
use crate::domain::items::receipt::Receipt;
use crate::domain::items::transfer::{Direction, Transfer};
use crate::domain::items::version::ItemVersion;
use crate::domain::page::{Page, PageRequest};
use crate::domain::{Result, Timestamp};

/// Filters for the items a caller can see.
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    pub circuit_id: Option<String>,
    pub namespace: Option<Namespace>,
    pub key: Option<String>,
    pub value: Option<String>,
}

/// How one user relates to one item.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ViewerFacts {
    /// The user's memberships in circuits holding the item.
    pub memberships: Vec<Member>,
    /// The item was pulled to the user.
    pub pulled: bool,
    /// The user's local item mapped to it, if any.
    pub local_id: Option<String>,
}

#[async_trait::async_trait]
pub trait ItemRepo: Send + Sync {
    /// Reserves `count` consecutive sequence numbers of `day`'s DFIDs from a per-day counter
    /// shared by replicas, and returns the first.
    async fn next_dfid_sequences(&self, day: chrono::NaiveDate, count: u64) -> Result<u64>;
    async fn local_item(&self, local_id: &str) -> Result<Option<LocalItem>>;
    /// Those of `local_ids` that `owner_id` owns, in no particular order.
    async fn local_items_named(&self, owner_id: &str, local_ids: &[String]) -> Result<Vec<LocalItem>>;
    async fn local_items(&self, owner_id: &str, page: &PageRequest) -> Result<Page<LocalItem>>;
    async fn item(&self, dfid: &str) -> Result<Option<Item>>;
    /// The item and how `user_id` relates to it, in one query.
    async fn item_for(&self, dfid: &str, user_id: &str) -> Result<Option<(Item, ViewerFacts)>> {
        Ok(self.items_for(&[dfid.to_owned()], user_id).await?.into_iter().next())
    }
    /// Those of `dfids` that exist, each with how `user_id` relates to it, in no particular
    /// order: a query per thousand, however many.
    async fn items_for(&self, dfids: &[String], user_id: &str) -> Result<Vec<(Item, ViewerFacts)>>;
    /// Which DFIDs the canonical `(key, value)` names point to: `(key, value, dfid)`.
    async fn canonical_owners(&self, names: &[(String, String)]) -> Result<Vec<(String, String, String)>>;
    async fn visible_items(&self, user_id: &str, filter: &ItemFilter, page: &PageRequest) -> Result<Page<Item>>;
}

#[async_trait::async_trait]
pub trait ReceiptRepo: Send + Sync {
    async fn receipt(&self, receipt_id: &str) -> Result<Option<Receipt>>;
    /// The user's receipts, newest first.
    async fn receipts_of(&self, owner_id: &str, page: &PageRequest) -> Result<Page<Receipt>>;
    /// Receipts attached to the item, newest first (at most `limit`).
    async fn receipts_on(&self, dfid: &str, limit: u64) -> Result<Vec<Receipt>>;
    /// Receipts of this digest, newest first (at most `limit`).
    async fn receipts_with(&self, sha256: &str, limit: u64) -> Result<Vec<Receipt>>;
}

#[async_trait::async_trait]
pub trait VersionRepo: Send + Sync {
    /// The item's versions, newest first.
    async fn versions(&self, dfid: &str) -> Result<Vec<ItemVersion>>;
    async fn version(&self, dfid: &str, version: u64) -> Result<Option<ItemVersion>>;
}

/// Filters for the events a caller can see.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Events on the items this circuit holds (the caller must be a member).
    pub circuit_id: Option<String>,
    pub dfid: Option<String>,
    pub event_type: Option<String>,
    pub visibility: Option<Visibility>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

#[async_trait::async_trait]
pub trait EventRepo: Send + Sync {
    async fn event(&self, event_id: &str) -> Result<Option<Event>>;
    async fn event_by_hash(&self, content_hash: &str) -> Result<Option<Event>>;
    /// Events of one item whose visibility is in `kinds`, or whose source is `viewer`.
    async fn item_events(
        &self,
        dfid: &str,
        viewer: &str,
        kinds: &[Visibility],
        page: &PageRequest,
    ) -> Result<Page<Event>>;
    /// Events `viewer` may see across items (the rules of `ItemRelation::can_see_event`).
    async fn visible_events(&self, viewer: &str, filter: &EventFilter, page: &PageRequest) -> Result<Page<Event>>;
    /// Public events of an item, for public pages.
    async fn public_events(&self, dfid: &str, limit: u32) -> Result<Vec<Event>>;
    async fn local_event(&self, local_event_id: &str) -> Result<Option<LocalEvent>>;
    /// The owner's local events not yet pushed to an item.
    async fn local_events(&self, owner_id: &str, page: &PageRequest) -> Result<Page<LocalEvent>>;
}

#[async_trait::async_trait]
pub trait TransferRepo: Send + Sync {
    async fn transfer(&self, transfer_id: &str) -> Result<Option<Transfer>>;
    /// The item's transfer recorded as Pending (it may have expired since).
    async fn pending_transfer(&self, dfid: &str) -> Result<Option<Transfer>>;
    /// Transfers `user_id` received or sent, newest first.
    async fn transfers(&self, user_id: &str, direction: Direction, page: &PageRequest) -> Result<Page<Transfer>>;
}

#[async_trait::async_trait]
pub trait DisputeRepo: Send + Sync {
    async fn dispute(&self, dispute_id: &str) -> Result<Option<Dispute>>;
    /// Newest first, optionally in one status.
    async fn disputes(&self, status: Option<DisputeStatus>, page: &PageRequest) -> Result<Page<Dispute>>;
}
