//! What EPCIS needs from storage.

use std::collections::HashSet;

use async_trait::async_trait;

use super::capture::{CaptureJob, EventRecord};
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
}
