//! Item versions (VERIFY.md, "Item versions"): every change of an item's state is an immutable,
//! hash-chained document, and the chain's entries sit in the transparency log.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::domain::changes::Change;
use crate::domain::items::event::{Event, format_occurred_at};
use crate::domain::items::item::Item;
use crate::domain::partners::storage::cid_of;
use crate::domain::{Error, Result, Timestamp};

/// The server events that change an item's state; the version a commit records names the one
/// recorded with it.
const STATE_EVENTS: &[&str] = &[
    "Tokenized",
    "Enriched",
    "StatusChanged",
    "IdentifierReassigned",
    "Merged",
    "Split",
];

/// What made a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionChange {
    pub dfid: String,
    /// The state-changing event's type (`Tokenized`, `Enriched`...), or `Updated`.
    pub kind: String,
    pub event_id: Option<String>,
    pub changed_by: String,
    pub changed_at: Timestamp,
}

impl VersionChange {
    /// The versions a unit of work records: one per item whose state it changes, in the order
    /// the items first appear, each named after the state event recorded with it.
    pub fn of(changes: &[Change]) -> Vec<VersionChange> {
        // Looked up by item, so a batch of a thousand items costs no more than a thousand steps.
        let mut state_events: HashMap<&str, &Event> = HashMap::new();
        for change in changes {
            if let Change::InsertEvent(e) = change
                && STATE_EVENTS.contains(&e.event_type.as_str())
            {
                state_events.entry(e.dfid.as_str()).or_insert(e);
            }
        }
        let mut seen = HashSet::new();
        let mut versions: Vec<VersionChange> = Vec::new();
        for change in changes {
            let (dfid, by, at) = match change {
                Change::InsertItem(item) => (&item.dfid, &item.created_by, item.updated_at),
                Change::UpdateItem { dfid, updated_at, .. } => (dfid, dfid, *updated_at),
                Change::AddIdentifiers { dfid, added_by, at, .. } => (dfid, added_by, *at),
                _ => continue,
            };
            if !seen.insert(dfid.as_str()) {
                continue;
            }
            versions.push(match state_events.get(dfid.as_str()) {
                Some(event) => VersionChange {
                    dfid: dfid.clone(),
                    kind: event.event_type.clone(),
                    event_id: Some(event.event_id.clone()),
                    changed_by: event.source.clone(),
                    changed_at: event.recorded_at,
                },
                None => VersionChange {
                    dfid: dfid.clone(),
                    kind: "Updated".into(),
                    event_id: None,
                    changed_by: by.clone(),
                    changed_at: at,
                },
            });
        }
        versions
    }
}

/// One version of an item, as stored and served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemVersion {
    pub dfid: String,
    pub version: u64,
    /// RFC 8785 canonical JSON: exactly the bytes hashed.
    pub document: String,
    pub document_sha256: String,
    pub cid: String,
    pub change: VersionChange,
}

impl ItemVersion {
    /// Version `version` of `item`, chained to the previous version's `document_sha256`.
    pub fn of(item: &Item, version: u64, previous_sha256: Option<&str>, change: VersionChange) -> Result<Self> {
        let mut identifiers = item.identifiers.clone();
        identifiers
            .sort_by(|a, b| (a.namespace.as_str(), &a.key, &a.value).cmp(&(b.namespace.as_str(), &b.key, &b.value)));
        let document = json!({
            "dfid": item.dfid,
            "version": version,
            "identifiers": identifiers,
            "enriched_data": Value::Object(item.enriched_data.clone()),
            "status": item.status.as_str(),
            "created_by": item.created_by,
            "previous_sha256": previous_sha256,
            "changed_at": format_occurred_at(change.changed_at),
            "change": match &change.event_id {
                Some(event_id) => json!({ "kind": change.kind, "event_id": event_id }),
                None => json!({ "kind": change.kind }),
            },
        });
        let document = serde_jcs::to_string(&document).map_err(|e| Error::internal(format!("canonical JSON: {e}")))?;
        Ok(Self {
            dfid: item.dfid.clone(),
            version,
            document_sha256: hex::encode(Sha256::digest(document.as_bytes())),
            cid: cid_of(document.as_bytes())?,
            document,
            change,
        })
    }

    /// The log's digest of the version: SHA-256 of the document bytes.
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.document.as_bytes()).into()
    }

    pub fn fact_id(&self) -> String {
        version_fact_id(&self.dfid, self.version)
    }

    pub fn document_json(&self) -> Value {
        serde_json::from_str(&self.document).unwrap_or(Value::Null)
    }
}

/// How the log names version `version` of `dfid`.
pub fn version_fact_id(dfid: &str, version: u64) -> String {
    format!("{dfid}/{version}")
}

/// The RFC 6902 patch that turns `from`'s document into `to`'s.
pub fn diff(from: &ItemVersion, to: &ItemVersion) -> Value {
    let patch = json_patch::diff(&from.document_json(), &to.document_json());
    serde_json::to_value(patch).unwrap_or(Value::Array(Vec::new()))
}
