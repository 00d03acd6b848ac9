//! What the dashboards show, built from a [`Tally`]: the `(part, name, count)` rows one query
//! returns.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::domain::Timestamp;

/// Days of activity a dashboard shows, ending today (UTC).
pub const WINDOW_DAYS: u64 = 30;

/// Counts by part and name, as the stats queries return them (`("events", "2026-12-01", 4)`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally(pub Vec<(String, String, u64)>);

impl Tally {
    /// The counts of one part by name.
    pub fn by_name(&self, part: &str) -> BTreeMap<String, u64> {
        let mut counts = BTreeMap::new();
        for (_, name, count) in self.0.iter().filter(|(p, _, _)| p == part) {
            *counts.entry(name.clone()).or_default() += count;
        }
        counts
    }

    /// The sum of one part's counts.
    pub fn total(&self, part: &str) -> u64 {
        self.0
            .iter()
            .filter(|(p, _, _)| p == part)
            .map(|(_, _, count)| count)
            .sum()
    }

    /// One count per day of the window ending `today`, oldest first, 0 where the part has none
    /// (its names are `YYYY-MM-DD` days).
    pub fn per_day(&self, part: &str, today: NaiveDate) -> Vec<DayCount> {
        let counts = self.by_name(part);
        (0..WINDOW_DAYS)
            .rev()
            .filter_map(|back| today.checked_sub_days(Days::new(back)))
            .map(|day| DayCount {
                count: counts.get(&day.format("%Y-%m-%d").to_string()).copied().unwrap_or(0),
                day,
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayCount {
    pub day: NaiveDate,
    pub count: u64,
}

/// A user's own dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserStats {
    /// When these counts were taken (a dashboard is reused for a while).
    pub counted_at: Timestamp,
    /// Items the user owns (DFIDs).
    pub items_owned: u64,
    /// Local items the user has not pushed to any circuit yet.
    pub local_items_unpushed: u64,
    /// The user's circuits by their role in each.
    pub circuits_by_role: BTreeMap<String, u64>,
    /// Events on the user's items in the window, by event type.
    pub events_by_type: BTreeMap<String, u64>,
    /// Pending operations the user may decide (in circuits where they manage members).
    pub pending_operations: u64,
}

/// A circuit's dashboard, for its members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CircuitStats {
    /// When these counts were taken (a dashboard is reused for a while).
    pub counted_at: Timestamp,
    pub members_by_role: BTreeMap<String, u64>,
    pub items: u64,
    /// Events every member may see (not `Private`) on the circuit's items, per day.
    pub events_per_day: Vec<DayCount>,
    /// Pending operations by type (`Push`, `Pull`).
    pub pending_operations: BTreeMap<String, u64>,
    pub deliveries_by_status: BTreeMap<String, u64>,
    /// Storage records of the circuit's items by status.
    pub storage_by_status: BTreeMap<String, u64>,
    /// Bytes of the stored documents this service keeps itself (the `local` adapter).
    pub stored_bytes: u64,
}

/// The whole service, for administrators.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlatformStats {
    /// When these counts were taken (a dashboard is reused for a while).
    pub counted_at: Timestamp,
    pub users_by_tier: BTreeMap<String, u64>,
    pub users_by_status: BTreeMap<String, u64>,
    pub items: u64,
    pub circuits_by_status: BTreeMap<String, u64>,
    pub events_per_day: Vec<DayCount>,
    pub deliveries_by_status: BTreeMap<String, u64>,
    /// Entries integrated into the transparency log (its tree size).
    pub log_tree_size: u64,
}

impl UserStats {
    pub fn of(tally: &Tally, counted_at: Timestamp) -> Self {
        Self {
            counted_at,
            items_owned: tally.total("items"),
            local_items_unpushed: tally.total("local_unpushed"),
            circuits_by_role: tally.by_name("circuits"),
            events_by_type: tally.by_name("events"),
            pending_operations: tally.total("pending"),
        }
    }
}

impl CircuitStats {
    pub fn of(tally: &Tally, counted_at: Timestamp) -> Self {
        let today = counted_at.date_naive();
        Self {
            counted_at,
            members_by_role: tally.by_name("members"),
            items: tally.total("items"),
            events_per_day: tally.per_day("events", today),
            pending_operations: tally.by_name("pending"),
            deliveries_by_status: tally.by_name("deliveries"),
            storage_by_status: tally.by_name("storage"),
            stored_bytes: tally.total("stored_bytes"),
        }
    }
}

impl PlatformStats {
    pub fn of(tally: &Tally, counted_at: Timestamp) -> Self {
        let today = counted_at.date_naive();
        Self {
            counted_at,
            users_by_tier: tally.by_name("tier"),
            users_by_status: tally.by_name("status"),
            items: tally.total("items"),
            circuits_by_status: tally.by_name("circuits"),
            events_per_day: tally.per_day("events", today),
            deliveries_by_status: tally.by_name("deliveries"),
            log_tree_size: tally.total("log_tree_size"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(rows: &[(&str, &str, u64)]) -> Tally {
        Tally(rows.iter().map(|(p, n, c)| ((*p).into(), (*n).into(), *c)).collect())
    }

    #[test]
    fn days_without_events_count_zero_and_the_window_ends_today() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        let rows = tally(&[
            ("events", "2026-12-03", 4),
            ("events", "2026-11-04", 1),
            ("events", "2026-11-03", 9),
        ]);
        let days = rows.per_day("events", today);
        assert_eq!(days.len(), 30);
        assert_eq!(
            days[0],
            DayCount {
                day: NaiveDate::from_ymd_opt(2026, 11, 4).unwrap(),
                count: 1
            }
        );
        assert_eq!(days[29].count, 4);
        assert_eq!(
            days.iter().map(|d| d.count).sum::<u64>(),
            5,
            "the 31st day back is outside"
        );
    }

    #[test]
    fn parts_are_read_by_name_and_in_total() {
        let rows = tally(&[("members", "Owner", 1), ("members", "Member", 3), ("items", "", 7)]);
        let stats = CircuitStats::of(&rows, chrono::Utc::now());
        assert_eq!(stats.members_by_role["Member"], 3);
        assert_eq!(stats.items, 7);
        assert_eq!(stats.stored_bytes, 0);
        assert!(stats.deliveries_by_status.is_empty());
    }
}
