//! Storing item documents through circuits' adapters: adapter choice, the worker that empties the
//! storage outbox, and reading stored copies back.

use crate::domain::circuits::circuit::CircuitId;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::domain::audit::AuditEntry;
use crate::domain::changes::{Change, UnitOfWork};
use crate::domain::circuits::membership::circuit_member;
use crate::domain::circuits::ports::{CircuitRepo, MemberRepo};
use crate::domain::circuits::roles::Permission;
use crate::domain::identity::access::{Principal, RequestMeta};
use crate::domain::identity::ports::AccountRepo;
use crate::domain::items::dfid::Dfid;
use crate::domain::items::ports::ItemRepo;
use crate::domain::items::relation::visible_item;
use crate::domain::page::{Page, PageRequest};
use crate::domain::partners::ports::{ContentStore, StorageRepo};
use crate::domain::partners::storage::{
    AdapterHealth, AdapterInfo, StorageOutcome, StorageRecord, StorageStatus, adapter_catalog,
};
use crate::domain::{Error, Result};
use crate::ports::{Clock, IdGenerator};

/// Attempts before a storage record is `Failed`.
const MAX_ATTEMPTS: u32 = 6;
const LEASE: Duration = Duration::from_secs(120);
const BATCH: u64 = 32;

combined_port!(
    /// What storage adapters and their outbox need from storage.
    pub trait StorageStore: UnitOfWork, AccountRepo, CircuitRepo, MemberRepo, ItemRepo, StorageRepo
);

pub struct StorageService {
    pub(crate) store: Arc<dyn StorageStore>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: Arc<dyn IdGenerator>,
    /// Reachable content stores by adapter type.
    pub(crate) content: HashMap<String, Arc<dyn ContentStore>>,
    /// The last health check of each adapter, shared by the callers that waited for it.
    pub(crate) health: tokio::sync::Mutex<HashMap<&'static str, AdapterHealth>>,
}

impl StorageService {
    /// Adapter types this server can reach.
    pub fn available(&self) -> Vec<String> {
        let mut available: Vec<String> = self.content.keys().cloned().collect();
        available.push("none".to_owned());
        available.sort();
        available
    }

    pub fn adapters(&self) -> Vec<AdapterInfo> {
        adapter_catalog(&self.available())
    }

    /// Pings the adapter's store (404 for a type no circuit can name). Callers that arrive while
    /// a check is in flight wait for it and share its result, so however often this is asked the
    /// store sees at most one check at a time from this server.
    pub async fn adapter_health(&self, adapter_type: &str) -> Result<AdapterHealth> {
        let info = self
            .adapters()
            .into_iter()
            .find(|info| info.adapter_type == adapter_type)
            .ok_or_else(|| Error::not_found("adapter"))?;
        let arrived = self.clock.now();
        let mut last = self.health.lock().await;
        if let Some(health) = last.get(info.adapter_type)
            && health.checked_at >= arrived
        {
            return Ok(health.clone());
        }
        let checked_at = self.clock.now();
        let mut health = AdapterHealth {
            adapter_type: info.adapter_type,
            available: info.available,
            reachable: None,
            latency_ms: None,
            problem: None,
            checked_at,
        };
        if let Some(store) = self.content.get(info.adapter_type) {
            let started = std::time::Instant::now();
            let answer = store.ping().await;
            health.latency_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
            health.reachable = Some(answer.is_ok());
            health.problem = answer.err().map(|err| err.message);
        }
        last.insert(info.adapter_type, health.clone());
        Ok(health)
    }

    /// Sets a circuit's adapter (ManagePermissions). The tier that may choose it is the circuit
    /// owner's; `ipfs-ipfs` publishes to a public network, so it needs `allow_public_visibility`.
    pub async fn set_adapter(
        &self,
        principal: &Principal,
        circuit_id: &CircuitId,
        adapter_type: &str,
        meta: &RequestMeta,
    ) -> Result<crate::domain::circuits::circuit::Circuit> {
        let (mut circuit, member) = circuit_member(self.store.as_ref(), circuit_id, &principal.user_id).await?;
        member.require(Permission::ManagePermissions)?;
        let catalog = self.adapters();
        let info = catalog.iter().find(|a| a.adapter_type == adapter_type).ok_or_else(|| {
            Error::field(
                "adapter_type",
                "none, local, ipfs-ipfs, stellar_testnet-ipfs or stellar_mainnet-ipfs",
            )
        })?;
        let owner = self
            .store
            .account(&circuit.owner_id)
            .await?
            .ok_or_else(|| Error::not_found("circuit owner"))?;
        if !info.allowed_tiers.contains(&owner.tier) {
            return Err(Error::forbidden(
                "adapter_not_in_tier",
                format!(
                    "the circuit owner's tier ({}) cannot use {adapter_type}",
                    owner.tier.as_str()
                ),
            ));
        }
        if !info.available {
            return Err(Error::conflict(
                "adapter_unavailable",
                format!("the {adapter_type} adapter is not available on this server"),
            ));
        }
        if adapter_type == "ipfs-ipfs" && !circuit.settings.allow_public_visibility {
            return Err(Error::conflict(
                "public_visibility_disabled",
                "ipfs-ipfs publishes content to a public network; enable allow_public_visibility first",
            ));
        }
        let now = self.clock.now();
        circuit.adapter_type = adapter_type.to_owned();
        circuit.updated_at = now;
        self.store
            .commit(vec![
                Change::UpdateCircuit(circuit.clone()),
                Change::Audit(AuditEntry::new(
                    self.ids.new_id(),
                    "circuit_adapter_changed",
                    Some(&principal.user_id),
                    ("circuit", Some(circuit_id)),
                    meta,
                    now,
                    serde_json::json!({ "adapter_type": adapter_type }),
                )),
            ])
            .await?;
        Ok(circuit)
    }

    /// The circuit's adapter (members).
    pub async fn adapter(&self, principal: &Principal, circuit_id: &CircuitId) -> Result<String> {
        let (circuit, _) = circuit_member(self.store.as_ref(), circuit_id, &principal.user_id).await?;
        Ok(circuit.adapter_type)
    }

    /// Storage records of an item the caller may see.
    pub async fn history(&self, principal: &Principal, dfid: &str, page: &PageRequest) -> Result<Page<StorageRecord>> {
        let (item, _) = visible_item(self.store.as_ref(), dfid, &principal.user_id).await?;
        self.store.storage_records(&item.dfid, page).await
    }

    /// Stored bytes with this CID, for a caller who may see an item stored under it.
    pub async fn content(&self, principal: &Principal, cid: &str) -> Result<Vec<u8>> {
        if cid.len() > 128 || !cid.starts_with('b') || !cid.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Error::field("cid", "a CIDv1 in base32 (b...)"));
        }
        let mut visible = false;
        for dfid in self.store.items_with_cid(cid).await? {
            if Dfid::parse(&dfid).is_ok()
                && visible_item(self.store.as_ref(), &dfid, &principal.user_id)
                    .await
                    .is_ok()
            {
                visible = true;
                break;
            }
        }
        if !visible {
            return Err(Error::not_found("content"));
        }
        for store in self.content.values() {
            if let Some(bytes) = store.get(cid).await? {
                return Ok(bytes);
            }
        }
        Err(Error::not_found("content"))
    }

    /// Claims due storage records and stores their documents. Returns how many were attempted.
    pub async fn store_due(&self) -> Result<usize> {
        let claimed = self.store.claim_storage(self.clock.now(), BATCH, LEASE).await?;
        let count = claimed.len();
        let work = claimed.into_iter().map(|record| self.store_one(record));
        for outcome in futures_util::future::join_all(work).await {
            if let Err(err) = outcome {
                tracing::warn!(error = %err, "could not record a storage attempt; its lease will expire and it will be retried");
            }
        }
        Ok(count)
    }

    async fn store_one(&self, record: StorageRecord) -> Result<()> {
        let started = std::time::Instant::now();
        let stored = match self.content.get(&record.adapter_type) {
            Some(store) => store.put(&record.cid, &record.document).await,
            None => Err(Error::unavailable(
                "adapter_unavailable",
                format!("no {} adapter on this replica", record.adapter_type),
                60,
            )),
        };
        metrics::histogram!("defarm_store_seconds", "adapter" => record.adapter_type.clone())
            .record(started.elapsed().as_secs_f64());
        let now = self.clock.now();
        let attempts = record.attempts + 1;
        let (status, next, error) = match stored {
            Ok(()) => (StorageStatus::Stored, now, None),
            Err(err) if attempts >= MAX_ATTEMPTS => (StorageStatus::Failed, now, Some(err.message)),
            Err(err) => {
                let delay = chrono::Duration::seconds(2_i64.pow(attempts.min(6)));
                tracing::warn!(record_id = %record.record_id, error = %err, "storing failed; will retry");
                (StorageStatus::Pending, now + delay, Some(err.message))
            }
        };
        metrics::counter!("defarm_store_attempts_total", "adapter" => record.adapter_type.clone(), "outcome" => status.as_str()).increment(1);
        self.store
            .commit(vec![Change::RecordStorage(StorageOutcome {
                record_id: record.record_id,
                dfid: record.dfid,
                cid: record.cid,
                status,
                attempts,
                next_attempt_at: next,
                error,
                at: now,
            })])
            .await
    }
}
