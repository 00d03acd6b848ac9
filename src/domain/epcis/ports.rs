//! What EPCIS needs from storage.

use std::collections::HashSet;

use async_trait::async_trait;

use super::capture::{CaptureJob, EventRecord};
use super::lineage::{Aggregation, Direction, LineageEdge};
use super::native::{NativeCursor, NativeEvent};
use super::query::EventQuery;
use crate::domain::Result;

#[async_trait]
pub trait EpcisRepo: Send + Sync {
    /// Which of these event hashes the circuit holds already.
    async fn captured_hashes(&self, circuit_id: &str, hashes: &[String]) -> Result<HashSet<String>>;
    /// Which of these native events' content hashes are recorded already.
    async fn recorded_content_hashes(&self, hashes: &[String]) -> Result<HashSet<String>>;
    async fn capture_job(&self, capture_id: &str) -> Result<Option<CaptureJob>>;
    /// Up to `query.per_page + 1` events `viewer` may see (members of their circuit; Private
    /// ones only for whoever captured them), in capture order.
    async fn epcis_events(&self, viewer: &str, query: &EventQuery) -> Result<Vec<EventRecord>>;
    /// Up to `limit` events recorded through the native routes (not captured ones) on items the
    /// circuit holds, that its members may see, in `(occurred_at, event_id)` order after `after`
    /// and within the query's event-time bounds.
    async fn native_circuit_events(
        &self,
        circuit_id: &str,
        query: &EventQuery,
        after: Option<&NativeCursor>,
        limit: u64,
    ) -> Result<Vec<NativeEvent>>;
}

/// What the events say about items: lineage and containment, with what the viewer may see.
#[async_trait]
pub trait LineageRepo: Send + Sync {
    /// Transformation and aggregation edges touching, on the side `direction` walks from, the
    /// items `depth` steps or fewer from `root` through edges `viewer` may see; each marked with
    /// whether `viewer` may see its event. One statement (a recursive walk).
    async fn lineage_within(
        &self,
        viewer: &str,
        root: &str,
        direction: Direction,
        depth: u32,
    ) -> Result<Vec<LineageEdge>>;
    /// The aggregation events `viewer` may see whose parent is one of `parents`.
    async fn aggregations(&self, viewer: &str, parents: &[String]) -> Result<Vec<Aggregation>>;
    /// Parents of the aggregation events `viewer` may see that name `child`.
    async fn aggregation_parents(&self, viewer: &str, child: &str) -> Result<Vec<String>>;
}
