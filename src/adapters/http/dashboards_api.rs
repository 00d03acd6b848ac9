//! Dashboards: `GET /api/users/me/stats`, `/api/circuits/{id}/stats`, `/api/admin/stats`.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::caller::{AdminCaller, Caller};
use super::error::ApiResult;
use super::types::UtcTime;
use super::{ApiTags, State};
use crate::domain::circuits::circuit::CircuitId;
use crate::domain::dashboards::stats::{CircuitStats, DayCount, PlatformStats, UserStats};

pub struct DashboardsApi;

/// Events on one UTC day.
#[derive(Object)]
struct DayCountView {
    day: NaiveDate,
    count: u64,
}

fn per_day(days: Vec<DayCount>) -> Vec<DayCountView> {
    days.into_iter()
        .map(|d| DayCountView {
            day: d.day,
            count: d.count,
        })
        .collect()
}

/// The caller's dashboard. Counts by name leave out names with none.
#[derive(Object)]
struct UserStatsView {
    /// When these counts were taken: a dashboard is reused for up to `DASHBOARD_CACHE_SECONDS`.
    counted_at: UtcTime,
    /// Items the caller owns (DFIDs).
    items_owned: u64,
    /// Local items the caller has not pushed to any circuit yet.
    local_items_unpushed: u64,
    /// The caller's circuits by their role in each (`Owner`, `Admin`, `Member`, `Viewer`).
    circuits_by_role: BTreeMap<String, u64>,
    /// Events on the caller's items in the last 30 days (UTC, today included), by event type.
    events_last_30_days: BTreeMap<String, u64>,
    /// Pending operations the caller may approve or reject (in circuits where they manage
    /// members).
    pending_operations: u64,
}

impl From<UserStats> for UserStatsView {
    fn from(stats: UserStats) -> Self {
        Self {
            counted_at: stats.counted_at.into(),
            items_owned: stats.items_owned,
            local_items_unpushed: stats.local_items_unpushed,
            circuits_by_role: stats.circuits_by_role,
            events_last_30_days: stats.events_by_type,
            pending_operations: stats.pending_operations,
        }
    }
}

/// A circuit's dashboard, the same for every member.
#[derive(Object)]
struct CircuitStatsView {
    /// When these counts were taken: a dashboard is reused for up to `DASHBOARD_CACHE_SECONDS`.
    counted_at: UtcTime,
    members_by_role: BTreeMap<String, u64>,
    items: u64,
    /// Events every member may see (not `Private`) on the circuit's items, one entry per UTC day
    /// of the last 30, oldest first.
    events_per_day: Vec<DayCountView>,
    /// Pending operations by type (`Push`, `Pull`).
    pending_operations: BTreeMap<String, u64>,
    /// Webhook deliveries by status.
    deliveries_by_status: BTreeMap<String, u64>,
    /// Storage records of the circuit's items by status (`Pending`, `Stored`, `Failed`).
    storage_by_status: BTreeMap<String, u64>,
    /// Bytes of the stored documents this service keeps itself (the `local` adapter); copies on
    /// IPFS are counted in `storage_by_status` only.
    stored_bytes: u64,
}

impl From<CircuitStats> for CircuitStatsView {
    fn from(stats: CircuitStats) -> Self {
        Self {
            counted_at: stats.counted_at.into(),
            members_by_role: stats.members_by_role,
            items: stats.items,
            events_per_day: per_day(stats.events_per_day),
            pending_operations: stats.pending_operations,
            deliveries_by_status: stats.deliveries_by_status,
            storage_by_status: stats.storage_by_status,
            stored_bytes: stats.stored_bytes,
        }
    }
}

/// The whole service.
#[derive(Object)]
struct PlatformStatsView {
    /// When these counts were taken: a dashboard is reused for up to `DASHBOARD_CACHE_SECONDS`.
    counted_at: UtcTime,
    users_by_tier: BTreeMap<String, u64>,
    users_by_status: BTreeMap<String, u64>,
    items: u64,
    circuits_by_status: BTreeMap<String, u64>,
    /// Events recorded on any item, one entry per UTC day of the last 30, oldest first.
    events_per_day: Vec<DayCountView>,
    deliveries_by_status: BTreeMap<String, u64>,
    /// Entries integrated into the transparency log (its tree size).
    log_tree_size: u64,
}

impl From<PlatformStats> for PlatformStatsView {
    fn from(stats: PlatformStats) -> Self {
        Self {
            counted_at: stats.counted_at.into(),
            users_by_tier: stats.users_by_tier,
            users_by_status: stats.users_by_status,
            items: stats.items,
            circuits_by_status: stats.circuits_by_status,
            events_per_day: per_day(stats.events_per_day),
            deliveries_by_status: stats.deliveries_by_status,
            log_tree_size: stats.log_tree_size,
        }
    }
}

#[OpenApi]
impl DashboardsApi {
    /// What the caller holds and what happened on it in the last 30 days.
    #[oai(
        path = "/api/users/me/stats",
        method = "get",
        operation_id = "users_me_stats",
        tag = "ApiTags::Users"
    )]
    async fn user(&self, state: State<'_>, caller: Caller) -> ApiResult<Json<UserStatsView>> {
        Ok(Json(state.dashboards.user(&caller.principal).await?.into()))
    }

    /// A circuit at a glance, for its members (anyone else: 404).
    #[oai(
        path = "/api/circuits/:id/stats",
        method = "get",
        operation_id = "circuit_stats",
        tag = "ApiTags::Circuits"
    )]
    async fn circuit(&self, state: State<'_>, caller: Caller, id: Path<String>) -> ApiResult<Json<CircuitStatsView>> {
        let circuit_id = CircuitId::parse(&id.0)?;
        let stats = state.dashboards.circuit(&caller.principal, circuit_id.as_str()).await?;
        Ok(Json(stats.into()))
    }

    /// The whole service at a glance (administrators only).
    #[oai(
        path = "/api/admin/stats",
        method = "get",
        operation_id = "admin_stats",
        tag = "ApiTags::Admin"
    )]
    async fn platform(&self, state: State<'_>, caller: AdminCaller) -> ApiResult<Json<PlatformStatsView>> {
        Ok(Json(state.dashboards.platform(&caller.principal).await?.into()))
    }
}
