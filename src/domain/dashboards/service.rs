//! Who may see which dashboard: their own, a circuit's for its members (404 for anyone else,
//! like the circuit itself), the whole service's for administrators.

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use chrono::Days;

use crate::domain::circuits::ports::MemberRepo;
use crate::domain::dashboards::ports::StatsRepo;
use crate::domain::dashboards::stats::{CircuitStats, PlatformStats, UserStats, WINDOW_DAYS};
use crate::domain::identity::access::Principal;
use crate::domain::{Error, Result, Timestamp};
use crate::ports::{Cache, Clock};

combined_port!(
    /// What dashboards need from storage.
    pub trait DashboardStore: StatsRepo, MemberRepo
);

pub struct DashboardService {
    pub(crate) store: Arc<dyn DashboardStore>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) cache: Arc<dyn Cache>,
    /// How long counts are reused: counting a large circuit's month takes hundreds of
    /// milliseconds, and a dashboard half a minute old says the same at a glance.
    pub(crate) fresh_for: Duration,
    /// Keys this replica is counting again.
    pub(crate) counting: Mutex<HashSet<String>>,
}

impl DashboardService {
    /// The start of the window: midnight UTC `WINDOW_DAYS - 1` days before today.
    fn window_start(&self, now: Timestamp) -> Timestamp {
        let today = now.date_naive();
        let first = today.checked_sub_days(Days::new(WINDOW_DAYS - 1)).unwrap_or(today);
        first.and_time(chrono::NaiveTime::MIN).and_utc()
    }

    pub async fn user(&self, principal: &Principal) -> Result<UserStats> {
        self.counted(format!("dashboard:user:{}", principal.user_id), |now| async move {
            let tally = self
                .store
                .user_tally(&principal.user_id, self.window_start(now))
                .await?;
            Ok(UserStats::of(&tally, now))
        })
        .await
    }

    /// The same for every member; whether the caller is one is checked on every request.
    pub async fn circuit(&self, principal: &Principal, circuit_id: &str) -> Result<CircuitStats> {
        self.store
            .member(circuit_id, &principal.user_id)
            .await?
            .ok_or_else(|| Error::not_found("circuit"))?;
        self.counted(format!("dashboard:circuit:{circuit_id}"), |now| async move {
            let tally = self.store.circuit_tally(circuit_id, self.window_start(now)).await?;
            Ok(CircuitStats::of(&tally, now))
        })
        .await
    }

    pub async fn platform(&self, principal: &Principal) -> Result<PlatformStats> {
        if !principal.is_admin {
            return Err(Error::forbidden("admin_required", "administrators only"));
        }
        self.counted("dashboard:platform".to_owned(), |now| async move {
            let tally = self.store.platform_tally(self.window_start(now)).await?;
            Ok(PlatformStats::of(&tally, now))
        })
        .await
    }

    /// The counts under `key`. Fresh ones are served as they are. Stale ones (older than
    /// `fresh_for`, kept four times as long) are served too while one caller of this replica
    /// counts again, so a large circuit's month is counted at most once at a time per replica
    /// however many ask, and only that caller waits for it. With none kept, the caller counts.
    async fn counted<T, F, Fut>(&self, key: String, count: F) -> Result<T>
    where
        T: Serialize + DeserializeOwned + Counted,
        F: FnOnce(Timestamp) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        if self.fresh_for.is_zero() {
            return count(self.clock.now()).await;
        }
        let kept: Option<T> = self
            .cache
            .get(&key)
            .await
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        let now = self.clock.now();
        let fresh_for = chrono::Duration::from_std(self.fresh_for).unwrap_or(chrono::Duration::MAX);
        let _counting = match kept {
            Some(kept) if now - kept.counted_at() < fresh_for => return Ok(kept),
            Some(stale) => match Counting::start(&self.counting, &key) {
                Some(counting) => Some(counting),
                None => return Ok(stale),
            },
            None => None,
        };
        let counts = count(now).await?;
        if let Ok(bytes) = serde_json::to_vec(&counts) {
            self.cache.set(&key, &bytes, self.fresh_for * 4).await;
        }
        Ok(counts)
    }
}

/// Counts that say when they were taken.
pub trait Counted {
    fn counted_at(&self) -> Timestamp;
}

impl Counted for UserStats {
    fn counted_at(&self) -> Timestamp {
        self.counted_at
    }
}

impl Counted for CircuitStats {
    fn counted_at(&self) -> Timestamp {
        self.counted_at
    }
}

impl Counted for PlatformStats {
    fn counted_at(&self) -> Timestamp {
        self.counted_at
    }
}

/// A key this replica is counting; the mark goes when the count ends, however it ends.
struct Counting<'a> {
    keys: &'a Mutex<HashSet<String>>,
    key: String,
}

impl<'a> Counting<'a> {
    /// `None` when someone here is counting `key` already.
    fn start(keys: &'a Mutex<HashSet<String>>, key: &str) -> Option<Self> {
        let mut counting = keys.lock().ok()?;
        counting.insert(key.to_owned()).then(|| Self {
            keys,
            key: key.to_owned(),
        })
    }
}

impl Drop for Counting<'_> {
    fn drop(&mut self) {
        if let Ok(mut counting) = self.keys.lock() {
            counting.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::circuits::circuit::CircuitSettings;
    use crate::domain::circuits::roles::MemberRole;
    use crate::domain::items::event::Visibility;
    use crate::domain::testing::{FixedClock, MemoryStore, NoCache, principal, start_of_test};

    /// Circuit `c` owned by `owner` holding `owner`'s item `d1`, with `member` as a Member.
    fn world() -> (DashboardService, Arc<MemoryStore>) {
        let store = Arc::new(MemoryStore::default());
        store.add_circuit("c", "owner", CircuitSettings::default());
        store.add_member("c", "member", MemberRole::Member);
        store.add_item("d1", "owner", vec![]);
        store.put_item_in_circuit("c", "d1");
        let service = DashboardService {
            store: store.clone(),
            clock: Arc::new(FixedClock::default()),
            cache: Arc::new(NoCache),
            fresh_for: Duration::ZERO,
            counting: Mutex::default(),
        };
        (service, store)
    }

    #[tokio::test]
    async fn the_window_is_the_last_thirty_utc_days_today_included() {
        let (service, store) = world();
        let now = start_of_test();
        let midnight = now.date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
        store.add_event("d1", "weighing", Visibility::CircuitOnly, now);
        store.add_event(
            "d1",
            "weighing",
            Visibility::CircuitOnly,
            midnight - chrono::Duration::days(29),
        );
        store.add_event(
            "d1",
            "too_old",
            Visibility::CircuitOnly,
            midnight - chrono::Duration::days(29) - chrono::Duration::seconds(1),
        );
        store.add_event("d1", "vaccination", Visibility::Private, now);

        let mine = service.user(&principal("owner")).await.unwrap();
        assert_eq!(mine.events_by_type.get("weighing"), Some(&2));
        assert_eq!(mine.events_by_type.get("vaccination"), Some(&1));
        assert!(!mine.events_by_type.contains_key("too_old"));

        let circuit = service.circuit(&principal("member"), "c").await.unwrap();
        assert_eq!(circuit.events_per_day.first().map(|d| d.count), Some(1));
        assert_eq!(
            circuit.events_per_day.last().map(|d| (d.day, d.count)),
            Some((now.date_naive(), 1))
        );
        assert_eq!(circuit.members_by_role.get("Member"), Some(&1));
        assert_eq!(circuit.items, 1);
    }

    #[tokio::test]
    async fn a_circuit_dashboard_is_for_members_and_the_platform_one_for_administrators() {
        let (service, _) = world();
        let refused = service.circuit(&principal("stranger"), "c").await.unwrap_err();
        assert_eq!(refused.code, "not_found");
        let refused = service.platform(&principal("owner")).await.unwrap_err();
        assert_eq!(refused.code, "admin_required");
        let mut admin = principal("root");
        admin.is_admin = true;
        let platform = service.platform(&admin).await.unwrap();
        assert_eq!(platform.items, 1);
        assert_eq!(platform.circuits_by_status.get("Active"), Some(&1));
    }

    /// A cache in a map; entries never expire here (the service decides what is fresh).
    #[derive(Default)]
    struct MapCache(Mutex<std::collections::HashMap<String, Vec<u8>>>);

    #[async_trait::async_trait]
    impl Cache for MapCache {
        async fn get(&self, key: &str) -> Option<Vec<u8>> {
            self.0.lock().unwrap().get(key).cloned()
        }
        async fn get_many(&self, keys: &[String]) -> Vec<Option<Vec<u8>>> {
            keys.iter()
                .map(|key| self.0.lock().unwrap().get(key).cloned())
                .collect()
        }
        async fn set(&self, key: &str, value: &[u8], _ttl: Duration) {
            self.0.lock().unwrap().insert(key.to_owned(), value.to_vec());
        }
        async fn delete(&self, key: &str) -> bool {
            self.0.lock().unwrap().remove(key);
            true
        }
        fn backend(&self) -> &'static str {
            "memory"
        }
        async fn ping(&self) -> bool {
            true
        }
    }

    #[tokio::test]
    async fn counts_are_reused_while_fresh_and_served_stale_while_someone_counts_again() {
        let store = Arc::new(MemoryStore::default());
        let clock = Arc::new(FixedClock::default());
        let service = DashboardService {
            store: store.clone(),
            clock: clock.clone(),
            cache: Arc::new(MapCache::default()),
            fresh_for: Duration::from_secs(30),
            counting: Mutex::default(),
        };
        let owner = principal("owner");
        assert_eq!(service.user(&owner).await.unwrap().items_owned, 0);
        store.add_item("d1", "owner", vec![]);
        assert_eq!(service.user(&owner).await.unwrap().items_owned, 0, "fresh: reused");

        clock.advance(chrono::Duration::seconds(31));
        let key = "dashboard:user:owner";
        let elsewhere = Counting::start(&service.counting, key).unwrap();
        assert_eq!(
            service.user(&owner).await.unwrap().items_owned,
            0,
            "stale, served while counted"
        );
        drop(elsewhere);
        let recounted = service.user(&owner).await.unwrap();
        assert_eq!(recounted.items_owned, 1, "stale and nobody counting: counted again");
        assert_eq!(recounted.counted_at, clock.now());
        assert!(
            Counting::start(&service.counting, key).is_some(),
            "the mark went with the count"
        );
    }
}
