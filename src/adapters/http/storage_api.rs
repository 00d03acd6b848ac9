//! Storage adapters, circuits' adapter choice, items' storage history, and stored content.

use crate::domain::circuits::circuit::CircuitId;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::caller::Caller;
use super::error::ApiResult;
use super::types::{TierName, UtcTime, list_of, page};
use super::{ApiTags, State};
use crate::domain::partners::storage::{AdapterHealth, AdapterInfo, StorageRecord};

pub struct StorageApi;

/// A storage adapter.
#[derive(Object)]
pub struct AdapterView {
    adapter_type: String,
    /// Whether this server can reach it.
    available: bool,
    /// Tiers of the circuit owner that may choose it.
    allowed_tiers: Vec<TierName>,
}

impl From<AdapterInfo> for AdapterView {
    fn from(a: AdapterInfo) -> Self {
        Self {
            adapter_type: a.adapter_type.to_owned(),
            available: a.available,
            allowed_tiers: a.allowed_tiers.into_iter().map(Into::into).collect(),
        }
    }
}

/// Whether an adapter's store answered this server just now.
#[derive(Object)]
struct AdapterHealthView {
    adapter_type: String,
    /// Whether this server is configured for it.
    available: bool,
    /// Whether its store answered a ping (an IPFS node's version, the database for `local`)
    /// within 2 seconds; null when there is nothing to ask (`none`, or not configured here).
    #[oai(nullable)]
    reachable: Option<bool>,
    /// How long the ping took.
    #[oai(nullable)]
    latency_ms: Option<f64>,
    /// Why it is unreachable.
    #[oai(nullable)]
    problem: Option<String>,
    checked_at: UtcTime,
}

impl From<AdapterHealth> for AdapterHealthView {
    fn from(h: AdapterHealth) -> Self {
        Self {
            adapter_type: h.adapter_type.to_owned(),
            available: h.available,
            reachable: h.reachable,
            latency_ms: h.latency_ms,
            problem: h.problem,
            checked_at: h.checked_at.into(),
        }
    }
}

list_of!(
    /// The storage adapters (all of them; `next_cursor` is always null).
    AdapterList,
    AdapterView
);

#[derive(Object)]
struct AdapterConfigBody {
    adapter_type: String,
}

super::types::mirror!(
    /// Where a stored copy stands.
    StorageStatusName <=> crate::domain::partners::storage::StorageStatus, "PascalCase" { Pending, Stored, Failed }
);

/// One stored copy of an item's document.
#[derive(Object)]
pub struct StorageRecordView {
    record_id: String,
    adapter_type: String,
    cid: String,
    status: StorageStatusName,
    location: String,
    triggered_by: String,
    triggered_by_id: String,
    created_at: UtcTime,
    #[oai(nullable)]
    stored_at: Option<UtcTime>,
    metadata: serde_json::Value,
}

impl From<StorageRecord> for StorageRecordView {
    fn from(r: StorageRecord) -> Self {
        Self {
            record_id: r.record_id,
            adapter_type: r.adapter_type,
            cid: r.cid,
            status: r.status.into(),
            location: r.location,
            triggered_by: r.triggered_by,
            triggered_by_id: r.triggered_by_id,
            created_at: r.created_at.into(),
            stored_at: r.stored_at.map(UtcTime),
            metadata: r.metadata,
        }
    }
}

list_of!(
    /// A page of storage records, newest first.
    StorageRecordList,
    StorageRecordView
);

#[derive(ApiResponse)]
enum Content {
    /// The stored bytes, unchanged (their hash is the CID): the item document, canonical JSON.
    #[oai(status = 200, actual_type = "Json<serde_json::Value>")]
    Bytes(Binary<Vec<u8>>),
}

#[OpenApi(tag = "ApiTags::Storage")]
impl StorageApi {
    /// Storage adapters, whether this server can reach them, and the tiers allowed.
    #[oai(path = "/api/adapters", method = "get", operation_id = "list_adapters")]
    async fn adapters(&self, state: State<'_>, _caller: Caller) -> ApiResult<Json<AdapterList>> {
        Ok(Json(AdapterList {
            data: state.storage.adapters().into_iter().map(Into::into).collect(),
            next_cursor: None,
        }))
    }

    /// Whether an adapter's store answers this server now, and how fast (any signed-in user).
    /// Concurrent calls share one check. An adapter no circuit can name: 404.
    #[oai(
        path = "/api/adapters/:adapter_type/health",
        method = "get",
        operation_id = "adapter_health"
    )]
    async fn adapter_health(
        &self,
        state: State<'_>,
        _caller: Caller,
        adapter_type: Path<String>,
    ) -> ApiResult<Json<AdapterHealthView>> {
        Ok(Json(state.storage.adapter_health(&adapter_type.0).await?.into()))
    }

    /// The circuit's adapter (members).
    #[oai(
        path = "/api/circuits/:id/adapter",
        method = "get",
        operation_id = "get_circuit_adapter"
    )]
    async fn circuit_adapter(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
    ) -> ApiResult<Json<AdapterConfigBody>> {
        Ok(Json(AdapterConfigBody {
            adapter_type: state
                .storage
                .adapter(&caller.principal, &CircuitId::parse(&id.0)?)
                .await?,
        }))
    }

    /// Choose the circuit's adapter (ManagePermissions): 409 `adapter_unavailable` when this
    /// server cannot reach it; the circuit owner's tier must allow it.
    #[oai(
        path = "/api/circuits/:id/adapter",
        method = "put",
        operation_id = "set_circuit_adapter"
    )]
    async fn set_circuit_adapter(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        body: Json<AdapterConfigBody>,
    ) -> ApiResult<Json<AdapterConfigBody>> {
        let circuit = state
            .storage
            .set_adapter(
                &caller.principal,
                &CircuitId::parse(&id.0)?,
                &body.adapter_type,
                &caller.meta,
            )
            .await?;
        Ok(Json(AdapterConfigBody {
            adapter_type: circuit.adapter_type,
        }))
    }

    /// Stored copies of an item the caller may see.
    #[oai(
        path = "/api/items/:dfid/storage-history",
        method = "get",
        operation_id = "item_storage_history"
    )]
    async fn history(
        &self,
        state: State<'_>,
        caller: Caller,
        dfid: Path<String>,
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<StorageRecordList>> {
        let page = page(limit.0, cursor.0)?;
        Ok(Json(
            state.storage.history(&caller.principal, &dfid.0, &page).await?.into(),
        ))
    }

    /// Stored bytes by CID, for a caller who may see an item stored under it.
    #[oai(path = "/api/storage/:cid", method = "get", operation_id = "get_stored_content")]
    async fn content(&self, state: State<'_>, caller: Caller, cid: Path<String>) -> ApiResult<Content> {
        Ok(Content::Bytes(Binary(
            state.storage.content(&caller.principal, &cid.0).await?,
        )))
    }
}
