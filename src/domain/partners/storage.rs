//! Content-addressed storage of item snapshots: the document stored, its CID, and the records of
//! each copy.

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::domain::identity::account::Tier;
use crate::domain::items::item::Item;
use crate::domain::{Error, Result, Timestamp};

/// Multicodec `raw`.
const RAW_CODEC: u64 = 0x55;
/// Multihash `sha2-256`.
const SHA2_256: u64 = 0x12;

/// The CIDv1 (raw codec, sha2-256, base32 lower `b...`) of `bytes`: what an IPFS node gives the
/// same bytes added with `--cid-version 1 --raw-leaves`.
pub fn cid_of(bytes: &[u8]) -> Result<String> {
    let digest = Sha256::digest(bytes);
    let hash =
        multihash::Multihash::<64>::wrap(SHA2_256, &digest).map_err(|e| Error::internal(format!("multihash: {e}")))?;
    Ok(cid::Cid::new_v1(RAW_CODEC, hash).to_string())
}

/// The stored document of an item: RFC 8785 canonical JSON of `{dfid, identifiers (canonical
/// only, sorted by key then value), enriched_data, status, updated_at}`.
pub fn item_document(item: &Item) -> Result<Vec<u8>> {
    let mut canonical: Vec<&crate::domain::items::identifier::Identifier> =
        item.identifiers.iter().filter(|i| i.is_canonical()).collect();
    canonical.sort_by(|a, b| (&a.key, &a.value).cmp(&(&b.key, &b.value)));
    let document = json!({
        "dfid": item.dfid,
        "identifiers": canonical.iter().map(|i| json!({ "key": i.key, "value": i.value, "namespace": i.namespace.as_str() })).collect::<Vec<_>>(),
        "enriched_data": Value::Object(item.enriched_data.clone()),
        "status": item.status.as_str(),
        "updated_at": crate::domain::items::event::format_occurred_at(item.updated_at),
    });
    serde_jcs::to_vec(&document).map_err(|e| Error::internal(format!("canonical JSON: {e}")))
}

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum StorageStatus {
        Pending = "Pending",
        Stored = "Stored",
        Failed = "Failed",
    }
}

/// The outcome of one attempt to store a record; a `Stored` one becomes the item's `latest_cid`.
#[derive(Debug, Clone, PartialEq)]
pub struct StorageOutcome {
    pub record_id: String,
    pub dfid: String,
    pub cid: String,
    pub status: StorageStatus,
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    pub error: Option<String>,
    pub at: Timestamp,
}

/// One copy of an item's document in an adapter.
#[derive(Debug, Clone, PartialEq)]
pub struct StorageRecord {
    pub record_id: String,
    pub dfid: String,
    pub circuit_id: String,
    pub adapter_type: String,
    pub cid: String,
    pub status: StorageStatus,
    /// Where the copy lives: `local://<cid>`, `ipfs://<cid>`.
    pub location: String,
    /// What caused it, e.g. `push`.
    pub triggered_by: String,
    /// The operation that caused it.
    pub triggered_by_id: String,
    pub created_at: Timestamp,
    pub stored_at: Option<Timestamp>,
    pub metadata: Value,
    /// The bytes to store (kept until stored).
    pub document: Vec<u8>,
    /// Storing attempts so far.
    pub attempts: u32,
}

impl StorageRecord {
    /// A pending record for `item` in `adapter_type`, caused by `operation_id`.
    pub fn pending(
        record_id: String,
        item: &Item,
        circuit_id: &str,
        adapter_type: &str,
        operation_id: &str,
        now: Timestamp,
    ) -> Result<Self> {
        let document = item_document(item)?;
        let cid = cid_of(&document)?;
        let scheme = if adapter_type == "local" { "local" } else { "ipfs" };
        Ok(Self {
            record_id,
            dfid: item.dfid.clone(),
            circuit_id: circuit_id.to_owned(),
            adapter_type: adapter_type.to_owned(),
            location: format!("{scheme}://{cid}"),
            cid,
            status: StorageStatus::Pending,
            triggered_by: "push".to_owned(),
            triggered_by_id: operation_id.to_owned(),
            created_at: now,
            stored_at: None,
            metadata: json!({ "size": document.len(), "content_type": "application/json" }),
            document,
            attempts: 0,
        })
    }
}

/// Whether an adapter's store answered a ping just now, and how fast.
#[derive(Debug, Clone, PartialEq)]
pub struct AdapterHealth {
    pub adapter_type: &'static str,
    /// This server is configured for it.
    pub available: bool,
    /// `None` when there was nothing to ask (not configured, or `none`).
    pub reachable: Option<bool>,
    pub latency_ms: Option<f64>,
    /// Why it is unreachable, in words safe to show.
    pub problem: Option<String>,
    pub checked_at: Timestamp,
}

/// A storage adapter and who may choose it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdapterInfo {
    pub adapter_type: &'static str,
    pub available: bool,
    pub allowed_tiers: Vec<Tier>,
}

const ALL_TIERS: &[Tier] = &[Tier::Basic, Tier::Professional, Tier::Enterprise, Tier::Admin];

/// Every storage adapter a circuit can name, with the lowest tier allowed it (an index in
/// `ALL_TIERS`).
const ADAPTERS: &[(&str, usize)] = &[
    ("none", 0),
    ("local", 0),
    ("ipfs-ipfs", 0),
    ("stellar_testnet-ipfs", 1),
    ("stellar_mainnet-ipfs", 2),
];

/// The names of every storage adapter, whether or not this server reaches it.
pub fn adapter_types() -> impl Iterator<Item = &'static str> {
    ADAPTERS.iter().map(|&(adapter_type, _)| adapter_type)
}

/// Every adapter, with availability on this server (`available` lists the reachable ones).
pub fn adapter_catalog(available: &[String]) -> Vec<AdapterInfo> {
    ADAPTERS
        .iter()
        .map(|&(adapter_type, lowest)| AdapterInfo {
            adapter_type,
            available: available.iter().any(|a| a == adapter_type),
            allowed_tiers: ALL_TIERS[lowest..].to_vec(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cid_vectors() {
        assert_eq!(
            cid_of(b"hello world").unwrap(),
            "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
        );
        assert_eq!(
            cid_of(b"hello world\n").unwrap(),
            "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"
        );
    }

    #[test]
    fn tiers_gate_stellar_adapters() {
        let catalog = adapter_catalog(&["none".into(), "local".into()]);
        let stellar = catalog
            .iter()
            .find(|a| a.adapter_type == "stellar_mainnet-ipfs")
            .unwrap();
        assert_eq!(stellar.allowed_tiers, vec![Tier::Enterprise, Tier::Admin]);
        assert!(!stellar.available);
        assert!(catalog.iter().find(|a| a.adapter_type == "local").unwrap().available);
    }
}
