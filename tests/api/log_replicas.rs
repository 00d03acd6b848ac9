//! Two replicas on one PostgreSQL grow one log: they write events and item versions for
//! `LOG_REPLICA_TEST_SECONDS` (default 60) while each is restarted once. Runs when
//! TEST_DATABASE_URL and TEST_REDIS_URL are set.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, eventually, json_with_status, spawn_with};
use crate::replicas::shared_services;
use crate::rfc_verifier::{self as rfc, Checkpoint, Vkey};

/// Each replica's current address: a restart moves it to a new port.
type Addresses = Arc<RwLock<[String; 2]>>;

struct Run {
    addresses: Addresses,
    stop: Arc<AtomicBool>,
    client: reqwest::Client,
}

impl Run {
    fn base(&self, replica: usize) -> String {
        self.addresses.read().unwrap()[replica % 2].clone()
    }

    fn running(&self) -> bool {
        !self.stop.load(Ordering::Relaxed)
    }
}

/// What a writer was answered: the ids of the events accepted, and every refusal.
type Written = (Vec<String>, Vec<(u16, Value)>);

/// Writes to one item through one replica until stopped: events, and every fifth request an
/// enrichment (a new item version).
async fn write(run: Arc<Run>, replica: usize, owner: String, dfid: String) -> Written {
    let (mut accepted, mut refused) = (Vec::new(), Vec::new());
    let mut round = 0u64;
    while run.running() {
        // Paced, so the rest of the suite running beside this test keeps its pace.
        tokio::time::sleep(Duration::from_millis(10)).await;
        round += 1;
        let base = run.base(replica);
        let request = if round.is_multiple_of(5) {
            let patch = json!({ "enriched_data": { "kg": round } });
            run.client.patch(format!("{base}/api/items/{dfid}")).json(&patch)
        } else {
            let event = json!({ "dfid": dfid, "event_type": "weighing", "metadata": { "kg": round } });
            run.client.post(format!("{base}/api/events")).json(&event)
        };
        // A replica restarting refuses connections until its new address is published.
        let Ok(response) = request.bearer_auth(&owner).send().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        match status {
            201 => accepted.push(body["event_id"].as_str().unwrap().to_owned()),
            200 => {}
            _ => refused.push((status, body)),
        }
    }
    (accepted, refused)
}

/// GET `path` on a replica, or None while it restarts (refused connection, or 503 draining).
async fn get_live(run: &Run, replica: usize, path: &str) -> Option<reqwest::Response> {
    let response = run
        .client
        .get(format!("{}{path}", run.base(replica)))
        .send()
        .await
        .ok()?;
    (response.status() != 503).then_some(response)
}

async fn assert_consistent(run: &Run, replica: usize, older: &Checkpoint, newer: &Checkpoint) -> Option<()> {
    if older.size == 0 || older.size == newer.size {
        assert_eq!(older.size == newer.size, older.root == newer.root, "one root per size");
        return Some(());
    }
    let path = format!("/log/proof/consistency?from={}&to={}", older.size, newer.size);
    let proof = json_with_status(get_live(run, replica, &path).await?, 200).await;
    assert!(
        rfc::consistent(
            older.size,
            newer.size,
            &older.root,
            &newer.root,
            &rfc::hashes(&proof["hashes"])
        ),
        "{} is consistent with {}",
        older.size,
        newer.size
    );
    Some(())
}

/// Reads the checkpoint from each replica in turn until stopped: sizes never shrink and each
/// new checkpoint is consistent with the one before. Returns how often the log was seen grow.
async fn monitor(run: Arc<Run>, key: Vkey) -> usize {
    let mut last: Option<Checkpoint> = None;
    let (mut growths, mut turn) = (0, 0);
    while run.running() {
        tokio::time::sleep(Duration::from_millis(100)).await;
        turn += 1;
        let Some(response) = get_live(&run, turn, "/log/checkpoint").await else {
            continue;
        };
        let checkpoint = rfc::open_checkpoint(&key, &json_text(response, 200).await);
        if let Some(previous) = &last {
            assert!(checkpoint.size >= previous.size, "sizes only grow");
            if assert_consistent(&run, turn, previous, &checkpoint).await.is_none() {
                continue;
            }
            growths += usize::from(checkpoint.size > previous.size);
        }
        last = Some(checkpoint);
    }
    growths
}

async fn json_text(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status().as_u16(), status);
    response.text().await.unwrap()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let db = app.database().await;
    let backend = sea_orm::ConnectionTrait::get_database_backend(&db);
    let row = sea_orm::ConnectionTrait::query_one_raw(&db, sea_orm::Statement::from_string(backend, sql.to_owned()))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

/// Every kept checkpoint, largest first.
async fn kept_checkpoints(app: &TestApp, key: &Vkey) -> Vec<Checkpoint> {
    let mut kept = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = json_with_status(app.get(&format!("/log/checkpoints?limit=500{cursor}")).await, 200).await;
        for c in page["data"].as_array().unwrap() {
            kept.push(rfc::open_checkpoint(key, c["checkpoint"].as_str().unwrap()));
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return kept,
        }
    }
}

#[tokio::test]
async fn two_replicas_grow_one_log_across_restarts() {
    if !shared_services() {
        return;
    }
    let seconds: u64 = std::env::var("LOG_REPLICA_TEST_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let mut a = spawn_with(&[
        ("RATE_LIMIT_PER_HOUR_BASIC", "0"),
        ("RATE_LIMIT_PUBLIC_PER_MINUTE", "0"),
        ("DB_ACQUIRE_TIMEOUT_MS", "15000"),
        ("LOG_INTEGRATE_MS", "200"),
    ])
    .await;
    let mut b = a.replica().await;
    let (owner, _) = a.register("owner").await;
    let circuit = a.circuit(&owner, json!({})).await;
    let key = rfc::vkey(&a.get("/log/key").await.text().await.unwrap());
    let run = Arc::new(Run {
        addresses: Arc::new(RwLock::new([a.url(""), b.url("")])),
        stop: Arc::new(AtomicBool::new(false)),
        client: a.client.clone(),
    });
    let mut writers = Vec::new();
    for n in 0..4 {
        let dfid = a.item_in(&owner, &circuit, n).await;
        writers.push(tokio::spawn(write(run.clone(), n, owner.clone(), dfid)));
    }
    let monitor = tokio::spawn(monitor(run.clone(), key.clone()));

    let third = Duration::from_secs(seconds) / 3;
    tokio::time::sleep(third).await;
    a.restart().await;
    run.addresses.write().unwrap()[0] = a.url("");
    tokio::time::sleep(third).await;
    b.restart().await;
    run.addresses.write().unwrap()[1] = b.url("");
    tokio::time::sleep(third).await;
    run.stop.store(true, Ordering::Relaxed);

    let mut accepted = Vec::new();
    for writer in writers {
        let (events, refused) = writer.await.unwrap();
        assert!(
            refused.iter().all(|(status, _)| *status == 503),
            "only a draining replica may refuse a write: {refused:?}"
        );
        accepted.extend(events);
    }
    let growths = monitor.await.unwrap();
    assert!(growths >= 3, "the monitor saw the log grow: {growths}");

    // Whatever either replica left pending is integrated by the running ones.
    let entries = count(&a, "SELECT COUNT(*) AS n FROM log_entries").await;
    let pending = eventually(10, || async {
        let pending = count(&a, "SELECT COUNT(*) AS n FROM log_entries WHERE leaf_index IS NULL").await;
        (pending == 0).then_some(())
    })
    .await;
    assert!(pending.is_some(), "nothing pending is lost");
    let distinct = count(&a, "SELECT COUNT(DISTINCT leaf_index) AS n FROM log_entries").await;
    assert_eq!(distinct, entries, "no index is given twice");
    let past_last = count(&a, "SELECT MAX(leaf_index) + 1 AS n FROM log_entries").await;
    assert_eq!(past_last, entries, "and none is skipped");
    let ids = accepted
        .iter()
        .map(|id| format!("'{id}'"))
        .collect::<Vec<_>>()
        .join(",");
    let logged = count(
        &a,
        &format!("SELECT COUNT(*) AS n FROM log_entries WHERE kind = 1 AND fact_id IN ({ids})"),
    )
    .await;
    assert_eq!(logged, accepted.len() as i64, "every accepted event is in the log");

    let latest = crate::log::integrated_checkpoint(&b, &key).await;
    assert_eq!(latest.size, entries as u64);
    let kept = kept_checkpoints(&b, &key).await;
    assert_eq!(kept[0], latest);
    for pair in kept.windows(2) {
        assert!(pair[1].size < pair[0].size, "one checkpoint per size, largest first");
        assert_consistent(&run, 1, &pair[1], &pair[0])
            .await
            .expect("b is running");
    }
    eprintln!(
        "two replicas, {seconds} s: {entries} entries, {} accepted events, {} checkpoints kept",
        accepted.len(),
        kept.len()
    );
}
