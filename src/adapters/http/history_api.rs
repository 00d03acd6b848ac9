//! An item's provable history: versions, diffs and the proof bundle (VERIFY.md).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Enum, Object, OpenApi};
use serde_json::Value;

use super::caller::Caller;
use super::error::ApiResult;
use super::log_api::base64_all;
use super::receipts_api::ReceiptView;
use super::types::JsonObject;
use super::types::UtcTime;
use super::views::EventView;
use super::{ApiTags, State};
use crate::domain::Error;
use crate::domain::log::history::{ProofBundle, VersionSeen};
use crate::domain::log::service::FactLog;

pub struct HistoryApi;

/// `pending`: recorded, not yet in a signed checkpoint (within `LOG_INTEGRATE_MS`).
#[derive(Enum)]
#[oai(rename_all = "lowercase")]
enum FactLogStatus {
    Pending,
    Integrated,
}

/// Where a fact stands in the transparency log. When integrated: its entry, the salt that opens
/// its commitment, and the inclusion proof against `checkpoint`.
#[derive(Object)]
pub struct FactLogView {
    status: FactLogStatus,
    #[oai(nullable)]
    leaf_index: Option<u64>,
    /// Hex, 16 bytes.
    #[oai(nullable)]
    salt: Option<String>,
    /// Hex: SHA-256(salt || digest).
    #[oai(nullable)]
    commitment: Option<String>,
    /// Base64, 41 bytes: kind || commitment || logged_at (big-endian Unix milliseconds).
    #[oai(nullable)]
    entry: Option<String>,
    #[oai(nullable)]
    tree_size: Option<u64>,
    /// Base64 hashes, leaf side first (RFC 9162).
    #[oai(nullable)]
    inclusion_proof: Option<Vec<String>>,
    /// The signed checkpoint note the proof leads to.
    #[oai(nullable)]
    checkpoint: Option<String>,
}

impl From<FactLog> for FactLogView {
    fn from(log: FactLog) -> Self {
        match log {
            FactLog::Pending => Self {
                status: FactLogStatus::Pending,
                leaf_index: None,
                salt: None,
                commitment: None,
                entry: None,
                tree_size: None,
                inclusion_proof: None,
                checkpoint: None,
            },
            FactLog::Integrated {
                entry,
                leaf_index,
                proof,
                checkpoint,
            } => Self {
                status: FactLogStatus::Integrated,
                leaf_index: Some(leaf_index),
                salt: Some(hex::encode(entry.salt)),
                commitment: Some(hex::encode(entry.commitment)),
                entry: Some(B64.encode(entry.bytes())),
                tree_size: Some(checkpoint.size),
                inclusion_proof: Some(base64_all(&proof)),
                checkpoint: Some(checkpoint.note),
            },
        }
    }
}

#[derive(Object)]
struct VersionChangeView {
    /// The state event recorded with the change (`Tokenized`, `Enriched`, `StatusChanged`,
    /// `IdentifierReassigned`), or `Updated`.
    kind: String,
    #[oai(nullable)]
    event_id: Option<String>,
}

/// A version in the list.
#[derive(Object)]
struct VersionSummary {
    version: u64,
    document_sha256: String,
    /// CIDv1 (raw, sha2-256) of the document bytes.
    cid: String,
    change: VersionChangeView,
    changed_by: String,
    changed_at: UtcTime,
    log: FactLogView,
}

#[derive(Object)]
struct VersionList {
    /// Newest first.
    data: Vec<VersionSummary>,
}

/// One version with its document: RFC 8785 canonical JSON of `{dfid, version, identifiers,
/// enriched_data, status, created_by, previous_sha256, changed_at, change}`, whose SHA-256 is
/// `document_sha256`. `document` is null and `withheld` true when it names an identifier the
/// caller may not see.
#[derive(Object)]
struct VersionView {
    version: u64,
    #[oai(nullable)]
    document: Option<JsonObject>,
    withheld: bool,
    document_sha256: String,
    cid: String,
    log: FactLogView,
}

impl From<VersionSeen> for VersionView {
    fn from(seen: VersionSeen) -> Self {
        Self {
            version: seen.version.version,
            document: (!seen.withheld).then(|| JsonObject(seen.version.document_json())),
            withheld: seen.withheld,
            document_sha256: seen.version.document_sha256,
            cid: seen.version.cid,
            log: seen.log.into(),
        }
    }
}

#[derive(Object)]
struct VersionDiff {
    from: u64,
    to: u64,
    /// RFC 6902 operations turning version `from`'s document into version `to`'s.
    patch: Value,
}

#[derive(Object)]
struct BundleReceipt {
    receipt: ReceiptView,
}

#[derive(Object)]
struct BundleEvent {
    event: EventView,
    log: FactLogView,
}

/// Everything needed to check the item's history offline with the log's verifier key: recompute
/// each digest (a version's document SHA-256, an event's content hash), the commitment from the
/// salt, the entry, the leaf hash, the root from the inclusion proof, and the checkpoint's
/// signature.
#[derive(Object)]
pub struct ProofBundleView {
    dfid: String,
    log_origin: String,
    verifier_key: String,
    #[oai(nullable)]
    checkpoint: Option<String>,
    tree_size: u64,
    /// Base64.
    #[oai(nullable)]
    root_hash: Option<String>,
    versions: Vec<VersionView>,
    events: Vec<BundleEvent>,
    /// More events exist than one bundle carries (2,000, newest first).
    events_truncated: bool,
    /// Receipts attached to the item as evidence (up to 500, newest first).
    receipts: Vec<BundleReceipt>,
    /// Facts not integrated yet: ask again in a moment.
    pending: u64,
}

impl From<ProofBundle> for ProofBundleView {
    fn from(b: ProofBundle) -> Self {
        Self {
            dfid: b.dfid,
            log_origin: b.log_origin,
            verifier_key: b.verifier_key,
            tree_size: b.checkpoint.as_ref().map_or(0, |c| c.size),
            root_hash: b.checkpoint.as_ref().map(|c| B64.encode(c.root)),
            checkpoint: b.checkpoint.map(|c| c.note),
            versions: b.versions.into_iter().map(Into::into).collect(),
            events: b
                .events
                .into_iter()
                .map(|(event, log)| BundleEvent {
                    event: event.into(),
                    log: log.into(),
                })
                .collect(),
            events_truncated: b.events_truncated,
            receipts: b
                .receipts
                .into_iter()
                .map(|(receipt, log)| BundleReceipt {
                    receipt: ReceiptView::of(receipt, log),
                })
                .collect(),
            pending: b.pending as u64,
        }
    }
}

#[OpenApi(tag = "ApiTags::Items")]
impl HistoryApi {
    /// The item's versions, newest first: one per change of its state (tokenization,
    /// enrichment, identifiers, status), hash-chained and logged.
    #[oai(
        path = "/api/items/:dfid/versions",
        method = "get",
        operation_id = "list_item_versions"
    )]
    async fn versions(&self, state: State<'_>, caller: Caller, dfid: Path<String>) -> ApiResult<Json<VersionList>> {
        let versions = state.history.versions(&caller.principal, &dfid.0).await?;
        Ok(Json(VersionList {
            data: versions
                .into_iter()
                .map(|seen| {
                    let change = seen.version.change;
                    VersionSummary {
                        version: seen.version.version,
                        document_sha256: seen.version.document_sha256,
                        cid: seen.version.cid,
                        change: VersionChangeView {
                            kind: change.kind,
                            event_id: change.event_id,
                        },
                        changed_by: change.changed_by,
                        changed_at: change.changed_at.into(),
                        log: seen.log.into(),
                    }
                })
                .collect(),
        }))
    }

    /// One version and its document.
    #[oai(
        path = "/api/items/:dfid/versions/:n",
        method = "get",
        operation_id = "get_item_version"
    )]
    async fn version(
        &self,
        state: State<'_>,
        caller: Caller,
        dfid: Path<String>,
        n: Path<u64>,
    ) -> ApiResult<Json<VersionView>> {
        Ok(Json(
            state.history.version(&caller.principal, &dfid.0, n.0).await?.into(),
        ))
    }

    /// The RFC 6902 JSON Patch that turns version `from`'s document into version `n`'s.
    #[oai(
        path = "/api/items/:dfid/versions/:n/diff",
        method = "get",
        operation_id = "diff_item_versions"
    )]
    async fn diff(
        &self,
        state: State<'_>,
        caller: Caller,
        dfid: Path<String>,
        n: Path<u64>,
        from: Query<u64>,
    ) -> ApiResult<Json<VersionDiff>> {
        if from.0 == 0 {
            return Err(Error::field("from", "versions start at 1").into());
        }
        let patch = state.history.diff(&caller.principal, &dfid.0, n.0, from.0).await?;
        Ok(Json(VersionDiff {
            from: from.0,
            to: n.0,
            patch,
        }))
    }

    /// The item's proof bundle: its versions, the events the caller may see, each with its log
    /// entry and inclusion proof, and the signed checkpoint they lead to.
    #[oai(path = "/api/items/:dfid/proof", method = "get", operation_id = "get_item_proof")]
    async fn proof(&self, state: State<'_>, caller: Caller, dfid: Path<String>) -> ApiResult<Json<ProofBundleView>> {
        Ok(Json(state.history.bundle(&caller.principal, &dfid.0).await?.into()))
    }
}
