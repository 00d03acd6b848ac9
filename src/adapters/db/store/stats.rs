//! The dashboards' counts: each view is one statement, a `UNION ALL` of grouped counts returning
//! `(part, name, n)` rows, so a dashboard costs one round trip whatever it shows.

use sea_orm::{DbBackend, FromQueryResult, Statement, Value};

use super::SqlStore;
use crate::domain::Timestamp;
use crate::domain::dashboards::ports::StatsRepo;
use crate::domain::dashboards::stats::Tally;
use crate::domain::{Error, Result};

/// `$1`, `$2`... are the parameters; SQLite reads them as `?1`, `?2`.
const USER: &str = "
SELECT 'items' AS part, '' AS name, COUNT(*) AS n FROM items WHERE created_by = $1
UNION ALL
SELECT 'local_unpushed', '', COUNT(*) FROM local_items WHERE owner_id = $1 AND dfid IS NULL
UNION ALL
SELECT 'circuits', role, COUNT(*) FROM circuit_members WHERE user_id = $1 GROUP BY role
UNION ALL
SELECT 'events', e.event_type, COUNT(*) FROM events e JOIN items i ON i.dfid = e.dfid
 WHERE i.created_by = $1 AND e.occurred_at >= $2 GROUP BY e.event_type
UNION ALL
SELECT 'pending', '', COUNT(*) FROM operations o
 JOIN circuit_members m ON m.circuit_id = o.circuit_id AND m.user_id = $1
 LEFT JOIN circuit_roles r ON r.role_id = m.custom_role
 WHERE o.status = 'Pending'
   AND (m.role IN ('Owner', 'Admin') OR CAST(r.permissions AS TEXT) LIKE '%\"ManageMembers\"%')";

const CIRCUIT: &str = "
SELECT 'members' AS part, role AS name, COUNT(*) AS n FROM circuit_members WHERE circuit_id = $1 GROUP BY role
UNION ALL
SELECT 'items', '', COUNT(*) FROM circuit_items WHERE circuit_id = $1
UNION ALL
SELECT 'events', {day}, COUNT(*) FROM events e
 WHERE e.occurred_at >= $2 AND e.visibility <> 'Private'
   AND EXISTS (SELECT 1 FROM circuit_items ci WHERE ci.circuit_id = $1 AND ci.dfid = e.dfid)
 GROUP BY {day}
UNION ALL
SELECT 'pending', operation_type, COUNT(*) FROM operations
 WHERE circuit_id = $1 AND status = 'Pending' GROUP BY operation_type
UNION ALL
SELECT 'deliveries', status, COUNT(*) FROM webhook_deliveries WHERE circuit_id = $1 GROUP BY status
UNION ALL
SELECT 'storage', status, COUNT(*) FROM storage_records WHERE circuit_id = $1 GROUP BY status
UNION ALL
SELECT 'stored_bytes', '', CAST(COALESCE(SUM(b.size), 0) AS BIGINT) FROM content_blobs b
 WHERE b.cid IN (SELECT cid FROM storage_records WHERE circuit_id = $1 AND status = 'Stored')";

const PLATFORM: &str = "
SELECT 'tier' AS part, tier AS name, COUNT(*) AS n FROM users GROUP BY tier
UNION ALL
SELECT 'status', status, COUNT(*) FROM users GROUP BY status
UNION ALL
SELECT 'items', '', COUNT(*) FROM items
UNION ALL
SELECT 'circuits', status, COUNT(*) FROM circuits GROUP BY status
UNION ALL
SELECT 'events', {day}, COUNT(*) FROM events e WHERE e.occurred_at >= $1 GROUP BY {day}
UNION ALL
SELECT 'deliveries', status, COUNT(*) FROM webhook_deliveries GROUP BY status
UNION ALL
SELECT 'log_tree_size', '', CAST(COALESCE(MAX(leaf_index) + 1, 0) AS BIGINT) FROM log_entries";

#[derive(FromQueryResult)]
struct TallyRow {
    part: String,
    name: String,
    n: i64,
}

/// The statement for this engine: its placeholders, and its way of naming an event's UTC day.
fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = match backend {
        DbBackend::Postgres => sql.replace("{day}", "to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"),
        _ => sql.replace("{day}", "substr(e.occurred_at, 1, 10)").replace('$', "?"),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

impl SqlStore {
    async fn tally(&self, op: &'static str, sql: &'static str, values: Vec<Value>) -> Result<Tally> {
        self.db
            .read(op, |c| {
                Box::pin(async move {
                    let rows = TallyRow::find_by_statement(statement(c.get_database_backend(), sql, values))
                        .all(c)
                        .await?;
                    rows.into_iter()
                        .map(|row| {
                            let count = u64::try_from(row.n).map_err(|_| Error::internal("a negative count"))?;
                            Ok((row.part, row.name, count))
                        })
                        .collect::<Result<Vec<_>>>()
                        .map(Tally)
                })
            })
            .await
    }
}

#[async_trait::async_trait]
impl StatsRepo for SqlStore {
    async fn user_tally(&self, user_id: &str, since: Timestamp) -> Result<Tally> {
        self.tally("user_stats", USER, vec![user_id.into(), since.into()]).await
    }

    async fn circuit_tally(&self, circuit_id: &str, since: Timestamp) -> Result<Tally> {
        self.tally("circuit_stats", CIRCUIT, vec![circuit_id.into(), since.into()])
            .await
    }

    async fn platform_tally(&self, since: Timestamp) -> Result<Tally> {
        self.tally("platform_stats", PLATFORM, vec![since.into()]).await
    }
}
