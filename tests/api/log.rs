//! The transparency log: every checkpoint, proof and tile the service publishes verifies with
//! a verifier written from the RFC and the C2SP specs (`rfc_verifier`), not the service's code.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, eventually, json_with_status, spawn_app};
use crate::rfc_verifier::{self as rfc, Checkpoint, Vkey};

/// How many facts carry a log entry, integrated or not.
async fn entries_recorded(app: &TestApp) -> u64 {
    let db = app.database().await;
    let row = sea_orm::ConnectionTrait::query_one_raw(
        &db,
        sea_orm::Statement::from_string(
            sea_orm::ConnectionTrait::get_database_backend(&db),
            "SELECT COUNT(*) AS n FROM log_entries".to_owned(),
        ),
    )
    .await
    .unwrap()
    .unwrap();
    row.try_get::<i64>("", "n").unwrap() as u64
}

async fn key_of(app: &TestApp) -> Vkey {
    let response = app.get("/log/key").await;
    assert_eq!(response.status(), 200);
    rfc::vkey(&response.text().await.unwrap())
}

/// The latest checkpoint, once it covers every recorded fact.
pub async fn integrated_checkpoint(app: &TestApp, key: &Vkey) -> Checkpoint {
    let want = entries_recorded(app).await;
    eventually(10, || async {
        let response = app.get("/log/checkpoint").await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/plain; charset=utf-8");
        let checkpoint = rfc::open_checkpoint(key, &response.text().await.unwrap());
        (checkpoint.size >= want).then_some(checkpoint)
    })
    .await
    .expect("every recorded fact is integrated within seconds")
}

/// Records facts of every kind the log takes so far: item versions and events.
async fn record_facts(app: &TestApp) -> String {
    let (owner, _) = app.register("logger").await;
    let circuit = app.circuit(&owner, json!({})).await;
    let dfid = app.item_in(&owner, &circuit, 1).await;
    for n in 0..5 {
        let body = json!({ "dfid": dfid, "event_type": "weighing", "metadata": { "kg": 400 + n } });
        json_with_status(app.post_as("/api/events", &owner, &body).await, 201).await;
    }
    let patch = json!({ "enriched_data": { "breed": "Nelore" } });
    json_with_status(app.patch_as(&format!("/api/items/{dfid}"), &owner, &patch).await, 200).await;
    dfid
}

fn entries_of(bundle: &[u8]) -> Vec<Vec<u8>> {
    let mut entries = Vec::new();
    let mut rest = bundle;
    while !rest.is_empty() {
        let len = u16::from_be_bytes([rest[0], rest[1]]) as usize;
        entries.push(rest[2..2 + len].to_vec());
        rest = &rest[2 + len..];
    }
    entries
}

#[tokio::test]
async fn every_checkpoint_proof_and_tile_verifies_independently() {
    let app = spawn_app().await;
    record_facts(&app).await;
    let key = key_of(&app).await;
    assert_eq!(key.name, "defarm.local/log");
    let checkpoint = integrated_checkpoint(&app, &key).await;
    let size = checkpoint.size;
    assert!(size >= 8, "a version and events were logged: {size}");

    // The entry bundle holds every entry: 41 bytes each, kind 1 (event) or 2 (version).
    let bundle = app.get(&format!("/log/tile/entries/000.p/{size}")).await;
    assert_eq!(bundle.status(), 200);
    assert_eq!(bundle.headers()["content-type"], "application/octet-stream");
    let entries = entries_of(&bundle.bytes().await.unwrap());
    assert_eq!(entries.len() as u64, size);
    assert!(entries.iter().all(|e| e.len() == 41 && (e[0] == 1 || e[0] == 2)));
    assert!(entries.iter().any(|e| e[0] == 2), "item versions are logged");
    let leaves: Vec<rfc::Hash> = entries.iter().map(|e| rfc::leaf(e)).collect();
    assert_eq!(
        rfc::mth(&leaves),
        checkpoint.root,
        "the signed root is the tree of the served entries"
    );

    // The level-0 hash tile is the leaf hashes.
    let tile = app
        .get(&format!("/log/tile/0/000.p/{size}"))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(tile, leaves.concat());

    for index in 0..size {
        let proof = json_with_status(
            app.get(&format!("/log/proof/inclusion?index={index}&tree_size={size}"))
                .await,
            200,
        )
        .await;
        let path = rfc::hashes(&proof["hashes"]);
        assert_eq!(
            rfc::root_from_path(index, size, leaves[index as usize], &path),
            Some(checkpoint.root),
            "inclusion of {index}"
        );
    }

    // Every kept checkpoint verifies, sizes only grow, and each is consistent with the latest.
    let list = json_with_status(app.get("/log/checkpoints?limit=500").await, 200).await;
    let kept: Vec<&Value> = list["data"].as_array().unwrap().iter().collect();
    assert!(kept.len() >= 2, "the empty tree and at least one batch");
    let mut previous_size = u64::MAX;
    for entry in &kept {
        let opened = rfc::open_checkpoint(&key, entry["checkpoint"].as_str().unwrap());
        assert_eq!(entry["tree_size"], opened.size);
        assert!(opened.size < previous_size, "largest first, one root per size");
        previous_size = opened.size;
        assert_eq!(
            opened.root,
            rfc::mth(&leaves[..opened.size as usize]),
            "an old root is a prefix's root"
        );
        if opened.size == 0 || opened.size > size {
            continue;
        }
        let proof = json_with_status(
            app.get(&format!("/log/proof/consistency?from={}&to={size}", opened.size))
                .await,
            200,
        )
        .await;
        assert!(
            rfc::consistent(
                opened.size,
                size,
                &opened.root,
                &checkpoint.root,
                &rfc::hashes(&proof["hashes"])
            ),
            "{} is consistent with {size}",
            opened.size
        );
    }
}

#[tokio::test]
async fn log_routes_refuse_what_the_tree_does_not_have() {
    let app = spawn_app().await;
    record_facts(&app).await;
    let key = key_of(&app).await;
    let size = integrated_checkpoint(&app, &key).await.size;

    for path in [
        format!("/log/proof/inclusion?index={size}&tree_size={size}"),
        format!("/log/proof/inclusion?index=0&tree_size={}", size + 1),
        format!("/log/proof/consistency?from=0&to={size}"),
        "/log/proof/consistency?from=2&to=1".to_owned(),
        format!("/log/proof/consistency?from=1&to={}", size + 1),
    ] {
        assert_error(app.get(&path).await, 400, "validation_error").await;
    }
    for path in [
        "/log/tile/0/000".to_owned(),
        format!("/log/tile/0/000.p/{}", size + 1),
        "/log/tile/1/000.p/1".to_owned(),
        "/log/tile/entries/001.p/1".to_owned(),
        "/log/tile/0/0".to_owned(),
        "/log/tile/64/000.p/1".to_owned(),
    ] {
        assert_error(app.get(&path).await, 404, "not_found").await;
    }
    let partial = app.get(&format!("/log/tile/0/000.p/{size}")).await;
    assert_eq!(partial.headers()["cache-control"], "public, max-age=1");
    let one = app.get("/log/proof/consistency?from=1&to=1").await;
    assert_eq!(json_with_status(one, 200).await["hashes"], json!([]));
}
