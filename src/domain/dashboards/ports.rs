//! What dashboards need from storage: one query per view, answered as a [`Tally`].

use crate::domain::dashboards::stats::Tally;
use crate::domain::{Result, Timestamp};

#[async_trait::async_trait]
pub trait StatsRepo: Send + Sync {
    /// `items`, `local_unpushed`, `circuits` by role, `events` on the user's items since `since`
    /// by type, and `pending` operations in circuits where the user manages members.
    async fn user_tally(&self, user_id: &str, since: Timestamp) -> Result<Tally>;
    /// `members` by role, `items`, visible `events` since `since` by day, `pending` operations
    /// by type, `deliveries`, `storage` by status and `stored_bytes`.
    async fn circuit_tally(&self, circuit_id: &str, since: Timestamp) -> Result<Tally>;
    /// Users by `tier` and `status`, `items`, `circuits` by status, `events` since `since` by
    /// day, `deliveries` by status and the `log_tree_size`.
    async fn platform_tally(&self, since: Timestamp) -> Result<Tally>;
}
