//! What a caller can prove about an item: its versions, the RFC 6902 diff between two, and the
//! proof bundle of everything they may see (VERIFY.md, "Routes" and "Item versions").

use std::sync::Arc;

use super::entry::EntryKind;
use super::ports::SignedCheckpoint;
use super::service::{FactLog, LogService};
use crate::domain::circuits::ports::MemberRepo;
use crate::domain::identity::access::Principal;
use crate::domain::items::event::Event;
use crate::domain::items::identifier::Identifier;
use crate::domain::items::item::Item;
use crate::domain::items::ports::{EventRepo, ItemRepo, ReceiptRepo, VersionRepo};
use crate::domain::items::receipt::Receipt;
use crate::domain::items::relation::visible_item;
use crate::domain::items::version::{ItemVersion, diff};
use crate::domain::page::PageRequest;
use crate::domain::{Error, Result};

combined_port!(
    /// What item history needs from storage.
    pub trait HistoryStore: ItemRepo, EventRepo, MemberRepo, VersionRepo, ReceiptRepo
);

/// Most events one bundle carries, newest first; `events_truncated` says when there were more.
pub const MAX_BUNDLE_EVENTS: usize = 2_000;

/// Most receipts one bundle carries, newest first.
pub const MAX_BUNDLE_RECEIPTS: u64 = 500;

/// A version as one caller may see it.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionSeen {
    pub version: ItemVersion,
    /// The document names an identifier the caller may not see: only its digest is shown.
    pub withheld: bool,
    pub log: FactLog,
}

/// Everything needed to check an item's history offline, given the log's verifier key.
#[derive(Debug, Clone, PartialEq)]
pub struct ProofBundle {
    pub dfid: String,
    pub log_origin: String,
    pub verifier_key: String,
    pub checkpoint: Option<SignedCheckpoint>,
    pub versions: Vec<VersionSeen>,
    pub events: Vec<(Event, FactLog)>,
    pub events_truncated: bool,
    /// Receipts attached to the item as evidence.
    pub receipts: Vec<(Receipt, FactLog)>,
    /// Facts not integrated yet.
    pub pending: usize,
}

/// What a public page shows of an item: the facts of its public proof bundle without their
/// proofs (the page's verification panel fetches the bundle itself).
#[derive(Debug, Clone, PartialEq)]
pub struct PublicRecord {
    /// Newest first, each with whether its document is withheld (it names an identifier that
    /// is not canonical).
    pub versions: Vec<(ItemVersion, bool)>,
    /// The newest `Public` events.
    pub events: Vec<Event>,
    pub events_truncated: bool,
    pub verifier_key: String,
}

pub struct HistoryService {
    pub(crate) store: Arc<dyn HistoryStore>,
    pub(crate) log: Arc<LogService>,
}

impl HistoryService {
    /// The item's versions, newest first.
    pub async fn versions(&self, principal: &Principal, dfid: &str) -> Result<Vec<VersionSeen>> {
        let (item, _) = visible_item(self.store.as_ref(), dfid, &principal.user_id).await?;
        let versions = self.store.versions(&item.dfid).await?;
        let checkpoint = self.log.latest().await?;
        self.seen(versions, checkpoint.as_ref(), |v| {
            withheld(v, &item, &principal.user_id)
        })
        .await
    }

    pub async fn version(&self, principal: &Principal, dfid: &str, number: u64) -> Result<VersionSeen> {
        let (item, _) = visible_item(self.store.as_ref(), dfid, &principal.user_id).await?;
        let version = self
            .store
            .version(&item.dfid, number)
            .await?
            .ok_or_else(|| Error::not_found("version"))?;
        let checkpoint = self.log.latest().await?;
        let mut seen = self
            .seen(vec![version], checkpoint.as_ref(), |v| {
                withheld(v, &item, &principal.user_id)
            })
            .await?;
        seen.pop().ok_or_else(|| Error::not_found("version"))
    }

    /// The RFC 6902 patch from version `from` to version `to`; 403 `version_withheld` when
    /// either names an identifier the caller may not see.
    pub async fn diff(&self, principal: &Principal, dfid: &str, to: u64, from: u64) -> Result<serde_json::Value> {
        let (item, _) = visible_item(self.store.as_ref(), dfid, &principal.user_id).await?;
        let mut pair = Vec::with_capacity(2);
        for number in [from, to] {
            let version = self
                .store
                .version(&item.dfid, number)
                .await?
                .ok_or_else(|| Error::not_found("version"))?;
            if withheld(&version, &item, &principal.user_id) {
                return Err(Error::forbidden(
                    "version_withheld",
                    format!("version {number} names an identifier you may not see"),
                ));
            }
            pair.push(version);
        }
        Ok(diff(&pair[0], &pair[1]))
    }

    /// The proof bundle of what the caller may see of the item.
    pub async fn bundle(&self, principal: &Principal, dfid: &str) -> Result<ProofBundle> {
        let (item, relation) = visible_item(self.store.as_ref(), dfid, &principal.user_id).await?;
        // The checkpoint first: everything after is proved against it.
        let checkpoint = self.log.latest().await?;
        let versions = self.store.versions(&item.dfid).await?;
        let versions = self
            .seen(versions, checkpoint.as_ref(), |v| {
                withheld(v, &item, &principal.user_id)
            })
            .await?;
        let kinds = relation.visible_kinds();
        let mut events = Vec::new();
        let mut page = PageRequest::first(500);
        loop {
            let batch = self
                .store
                .item_events(&item.dfid, &principal.user_id, &kinds, &page)
                .await?;
            events.extend(batch.data);
            match batch.next_cursor {
                Some(_) if events.len() > MAX_BUNDLE_EVENTS => break,
                Some(cursor) => page = PageRequest::new(Some(500), Some(&cursor))?,
                None => break,
            }
        }
        let attached = self.store.receipts_on(&item.dfid, MAX_BUNDLE_RECEIPTS).await?;
        let receipts = self.receipt_logs_at(checkpoint.as_ref(), attached).await?;
        self.assemble(item.dfid, checkpoint, versions, events, receipts).await
    }

    /// The proof bundle of what a public page publishes of the item: its `Public` events, and
    /// its versions with the documents of those naming only canonical identifiers (the others
    /// withheld, digest and proof kept). No receipts: the page does not show them.
    pub async fn public_bundle(&self, item: &Item) -> Result<ProofBundle> {
        let checkpoint = self.log.latest().await?;
        let versions = self.store.versions(&item.dfid).await?;
        let versions = self
            .seen(versions, checkpoint.as_ref(), |v| {
                version_identifiers(v).iter().any(|i| !i.is_canonical())
            })
            .await?;
        let limit = u32::try_from(MAX_BUNDLE_EVENTS + 1).unwrap_or(u32::MAX);
        let events = self.store.public_events(&item.dfid, limit).await?;
        self.assemble(item.dfid.clone(), checkpoint, versions, events, Vec::new())
            .await
    }

    /// What a public page shows of the item: the facts `public_bundle` proves, at most
    /// `max_events` of its events, in two reads.
    pub async fn public_record(&self, item: &Item, max_events: usize) -> Result<PublicRecord> {
        let versions = self.store.versions(&item.dfid).await?;
        let limit = u32::try_from(max_events + 1).unwrap_or(u32::MAX);
        let mut events = self.store.public_events(&item.dfid, limit).await?;
        let events_truncated = events.len() > max_events;
        events.truncate(max_events);
        Ok(PublicRecord {
            versions: versions
                .into_iter()
                .map(|v| {
                    let withheld = version_identifiers(&v).iter().any(|i| !i.is_canonical());
                    (v, withheld)
                })
                .collect(),
            events,
            events_truncated,
            verifier_key: self.log.verifier_key(),
        })
    }

    /// The bundle of these facts, proved against `checkpoint`; keeps the newest
    /// `MAX_BUNDLE_EVENTS` events and says whether there were more.
    async fn assemble(
        &self,
        dfid: String,
        checkpoint: Option<SignedCheckpoint>,
        versions: Vec<VersionSeen>,
        mut events: Vec<Event>,
        receipts: Vec<(Receipt, FactLog)>,
    ) -> Result<ProofBundle> {
        let truncated = events.len() > MAX_BUNDLE_EVENTS;
        events.truncate(MAX_BUNDLE_EVENTS);
        let ids: Vec<String> = events.iter().map(|e| e.event_id.clone()).collect();
        let mut logs = self.log.facts(checkpoint.as_ref(), EntryKind::Event, &ids).await?;
        let events: Vec<(Event, FactLog)> = events
            .into_iter()
            .filter_map(|event| logs.remove(&event.event_id).map(|log| (event, log)))
            .collect();
        let pending = versions.iter().filter(|v| v.log == FactLog::Pending).count()
            + events.iter().filter(|(_, log)| *log == FactLog::Pending).count()
            + receipts.iter().filter(|(_, log)| *log == FactLog::Pending).count();
        Ok(ProofBundle {
            dfid,
            log_origin: self.log.origin().to_owned(),
            verifier_key: self.log.verifier_key(),
            checkpoint,
            versions,
            events,
            events_truncated: truncated,
            receipts,
            pending,
        })
    }

    /// Where each receipt stands in the log.
    pub async fn receipt_logs(&self, receipts: Vec<Receipt>) -> Result<Vec<(Receipt, FactLog)>> {
        let checkpoint = self.log.latest().await?;
        self.receipt_logs_at(checkpoint.as_ref(), receipts).await
    }

    async fn receipt_logs_at(
        &self,
        checkpoint: Option<&SignedCheckpoint>,
        receipts: Vec<Receipt>,
    ) -> Result<Vec<(Receipt, FactLog)>> {
        let ids: Vec<String> = receipts.iter().map(|r| r.receipt_id.clone()).collect();
        let mut logs = self.log.facts(checkpoint, EntryKind::Receipt, &ids).await?;
        Ok(receipts
            .into_iter()
            .map(|r| {
                let log = logs.remove(&r.receipt_id).unwrap_or(FactLog::Pending);
                (r, log)
            })
            .collect())
    }

    /// The versions with their log positions; `withhold` picks those shown by digest only.
    async fn seen(
        &self,
        versions: Vec<ItemVersion>,
        checkpoint: Option<&SignedCheckpoint>,
        withhold: impl Fn(&ItemVersion) -> bool,
    ) -> Result<Vec<VersionSeen>> {
        let ids: Vec<String> = versions.iter().map(ItemVersion::fact_id).collect();
        let mut logs = self.log.facts(checkpoint, EntryKind::Version, &ids).await?;
        Ok(versions
            .into_iter()
            .map(|version| VersionSeen {
                withheld: withhold(&version),
                log: logs.remove(&version.fact_id()).unwrap_or(FactLog::Pending),
                version,
            })
            .collect())
    }
}

/// Whether the version's document names an identifier `viewer` may not see.
fn withheld(version: &ItemVersion, item: &Item, viewer: &str) -> bool {
    version_identifiers(version)
        .iter()
        .any(|i| !i.visible_to(viewer, &item.created_by))
}

fn version_identifiers(version: &ItemVersion) -> Vec<Identifier> {
    version
        .document_json()
        .get("identifiers")
        .cloned()
        .and_then(|list| serde_json::from_value(list).ok())
        .unwrap_or_default()
}
