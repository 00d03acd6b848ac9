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

/// The latest version's document equals the item as its owner reads it.
async fn assert_latest_version_is_the_item(app: &TestApp, owner: &str, dfid: &str, kind: &str) -> u64 {
    let item = json_with_status(app.get_as(&format!("/api/items/{dfid}"), owner).await, 200).await;
    let list = json_with_status(app.get_as(&format!("/api/items/{dfid}/versions"), owner).await, 200).await;
    let latest = &list["data"][0];
    assert_eq!(latest["change"]["kind"], kind);
    let number = latest["version"].as_u64().unwrap();
    assert_eq!(
        number as usize,
        list["data"].as_array().unwrap().len(),
        "dense, newest first"
    );
    let one = json_with_status(
        app.get_as(&format!("/api/items/{dfid}/versions/{number}"), owner).await,
        200,
    )
    .await;
    let document = &one["document"];
    assert_eq!(document["dfid"], dfid);
    assert_eq!(document["version"], number);
    assert_eq!(document["status"], item["status"]);
    assert_eq!(document["enriched_data"], item["enriched_data"]);
    let pairs = |list: &Value| {
        let mut pairs: Vec<(String, String)> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["key"].as_str().unwrap().to_owned(),
                    i["value"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        pairs.sort();
        pairs
    };
    assert_eq!(pairs(&document["identifiers"]), pairs(&item["identifiers"]));
    number
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Checks one fact's log object as an outside verifier would: the commitment from the salt
/// and digest, the entry from the commitment, the root from the inclusion proof.
fn assert_logged(log: &Value, kind: u8, digest_hex: &str, checkpoint: &Checkpoint) {
    use base64::Engine;
    assert_eq!(log["status"], "integrated", "{log}");
    let salt = hex::decode(log["salt"].as_str().unwrap()).unwrap();
    assert_eq!(salt.len(), 16);
    let mut salted = salt.clone();
    salted.extend(hex::decode(digest_hex).unwrap());
    let commitment = sha256_hex(&salted);
    assert_eq!(log["commitment"], commitment.as_str());
    let entry = base64::engine::general_purpose::STANDARD
        .decode(log["entry"].as_str().unwrap())
        .unwrap();
    assert_eq!(entry.len(), 41);
    assert_eq!(entry[0], kind);
    assert_eq!(hex::encode(&entry[1..33]), commitment);
    assert_eq!(log["tree_size"], checkpoint.size);
    let path = rfc::hashes(&log["inclusion_proof"]);
    let index = log["leaf_index"].as_u64().unwrap();
    assert_eq!(
        rfc::root_from_path(index, checkpoint.size, rfc::leaf(&entry), &path),
        Some(checkpoint.root)
    );
}

#[tokio::test]
async fn item_versions_chain_every_state_change_and_the_bundle_verifies() {
    let app = spawn_app().await;
    let (owner, _) = app.register("farmer").await;
    let circuit = app.circuit(&owner, json!({})).await;
    let dfid = app.item_in(&owner, &circuit, 7).await;
    assert_eq!(
        assert_latest_version_is_the_item(&app, &owner, &dfid, "Tokenized").await,
        1
    );

    let patch = json!({ "enriched_data": { "breed": "Nelore", "kg": 412.5 }, "identifiers": [{ "key": "ear_tag", "value": "BR-77" }] });
    json_with_status(app.patch_as(&format!("/api/items/{dfid}"), &owner, &patch).await, 200).await;
    assert_eq!(
        assert_latest_version_is_the_item(&app, &owner, &dfid, "Enriched").await,
        2
    );
    let body = json!({ "dfid": dfid, "event_type": "vaccination", "visibility": "Private", "metadata": { "dose": 2 } });
    json_with_status(app.post_as("/api/events", &owner, &body).await, 201).await;
    json_with_status(
        app.put_as(&format!("/api/items/{dfid}/deprecate"), &owner, &json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(
        assert_latest_version_is_the_item(&app, &owner, &dfid, "StatusChanged").await,
        3
    );

    let diff = json_with_status(
        app.get_as(&format!("/api/items/{dfid}/versions/2/diff?from=1"), &owner)
            .await,
        200,
    )
    .await;
    let ops = diff["patch"].as_array().unwrap();
    assert!(
        ops.iter()
            .any(|op| op["op"] == "add" && op["path"] == "/enriched_data/breed" && op["value"] == "Nelore"),
        "{diff}"
    );

    let key = key_of(&app).await;
    let checkpoint = integrated_checkpoint(&app, &key).await;
    let bundle = eventually(10, || async {
        let bundle = json_with_status(app.get_as(&format!("/api/items/{dfid}/proof"), &owner).await, 200).await;
        (bundle["pending"] == 0).then_some(bundle)
    })
    .await
    .unwrap();
    assert_eq!(
        bundle["verifier_key"],
        app.get("/log/key").await.text().await.unwrap().as_str()
    );
    let signed = rfc::open_checkpoint(&key, bundle["checkpoint"].as_str().unwrap());
    assert!(signed.size >= checkpoint.size);

    let versions = bundle["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 3);
    let mut previous: Option<String> = None;
    for version in versions.iter().rev() {
        let document = &version["document"];
        let canonical = serde_jcs::to_string(document).unwrap();
        let digest = sha256_hex(canonical.as_bytes());
        assert_eq!(version["document_sha256"], digest.as_str());
        assert_eq!(
            document["previous_sha256"],
            json!(previous),
            "versions form a hash chain"
        );
        assert_logged(&version["log"], 2, &digest, &signed);
        previous = Some(digest);
    }
    let events = bundle["events"].as_array().unwrap();
    assert!(events.iter().any(|e| e["event"]["event_type"] == "vaccination"));
    for event in events {
        let e = &event["event"];
        let content = json!({ "dfid": e["dfid"], "event_type": e["event_type"], "source": e["source"], "metadata": e["metadata"], "occurred_at": e["occurred_at"] });
        let hash = sha256_hex(serde_jcs::to_string(&content).unwrap().as_bytes());
        assert_eq!(e["content_hash"], hash.as_str());
        assert_logged(&event["log"], 1, &hash, &signed);
    }

    // Someone who cannot see the item learns nothing, not even that it has versions.
    let (stranger, _) = app.register("stranger").await;
    for path in ["versions", "versions/1", "versions/2/diff?from=1", "proof"] {
        assert_error(
            app.get_as(&format!("/api/items/{dfid}/{path}"), &stranger).await,
            404,
            "not_found",
        )
        .await;
    }
    assert_error(
        app.get_as(&format!("/api/items/{dfid}/versions/9"), &owner).await,
        404,
        "not_found",
    )
    .await;
}

/// Runs `defarm verify` on `bundle`; returns whether it passed and what it said.
fn defarm_verify(bundle: &Value, key: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bundle.json");
    std::fs::write(&path, serde_json::to_vec(bundle).unwrap()).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_defarm"))
        .arg("verify")
        .arg(&path)
        .args(["--key", key])
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), said)
}

#[tokio::test]
async fn an_event_changed_behind_the_services_back_no_longer_verifies() {
    let app = spawn_app().await;
    let (owner, _) = app.register("auditor").await;
    let circuit = app.circuit(&owner, json!({})).await;
    let dfid = app.item_in(&owner, &circuit, 3).await;
    let body = json!({ "dfid": dfid, "event_type": "transit_permit", "metadata": { "gta": "SP-0001" } });
    let event = json_with_status(app.post_as("/api/events", &owner, &body).await, 201).await;
    let key_text = app.get("/log/key").await.text().await.unwrap();
    let proof_path = format!("/api/items/{dfid}/proof");
    let integrated = || async {
        let bundle = json_with_status(app.get_as(&proof_path, &owner).await, 200).await;
        (bundle["pending"] == 0).then_some(bundle)
    };
    let bundle = eventually(10, integrated).await.unwrap();
    let (passed, said) = defarm_verify(&bundle, &key_text);
    assert!(passed, "{said}");
    assert!(said.starts_with("OK: 1 versions, "), "{said}");

    // Someone with database access rewrites the permit number.
    let db = app.database().await;
    sea_orm::ConnectionTrait::execute_unprepared(
        &db,
        r#"UPDATE events SET metadata = '{"gta":"SP-9999"}' WHERE event_type = 'transit_permit'"#,
    )
    .await
    .unwrap();
    let tampered = json_with_status(app.get_as(&proof_path, &owner).await, 200).await;
    let (passed, said) = defarm_verify(&tampered, &key_text);
    assert!(!passed, "a rewritten event must not verify");
    let event_id = event["event_id"].as_str().unwrap();
    assert!(said.contains(&format!("event {event_id}")), "names the record: {said}");

    // A bundle checked against another key fails at the checkpoint.
    let other = "other.example/log+5a3f1b2c+AevhUwA8DbxQpPhLx++c+mH53Atfq4r1Tisrfcwv40Cm";
    let (passed, said) = defarm_verify(&bundle, other);
    assert!(!passed, "{said}");
}

#[tokio::test]
async fn receipts_are_logged_attached_as_evidence_and_found_by_their_bytes() {
    let app = spawn_app().await;
    let (owner, _) = app.register("lab").await;
    let (partner, partner_id) = app.register("buyer").await;
    let (stranger, _) = app.register("stranger").await;
    let circuit = app.circuit(&owner, json!({})).await;
    let dfid = app.item_in(&owner, &circuit, 5).await;
    app.add_member(&owner, &circuit, &partner_id, "Viewer").await;

    // Bytes of any content type, attached to the item through the query string.
    let permit = b"GTA permit SP-0001: 40 head, Ribeirao Preto to Santos";
    let response = app
        .with_token(
            reqwest::Method::POST,
            &format!("/api/receipts?dfid={dfid}&label=GTA"),
            &owner,
        )
        .header("content-type", "application/pdf")
        .body(permit.to_vec())
        .send()
        .await
        .unwrap();
    let attached = json_with_status(response, 201).await;
    assert_eq!(attached["sha256"], sha256_hex(permit).as_str());
    assert_eq!(attached["size_bytes"], permit.len());
    assert_eq!(attached["content_type"], "application/pdf");
    assert_eq!(attached["dfid"], dfid.as_str());
    // A digest only, not attached.
    let private = json_with_status(
        app.post_as(
            "/api/receipts",
            &owner,
            &json!({ "sha256": sha256_hex(b"lab result"), "label": "lab" }),
        )
        .await,
        201,
    )
    .await;
    assert!(private["size_bytes"].is_null());
    assert_error(
        app.post_as("/api/receipts", &owner, &json!({ "sha256": "abc" })).await,
        400,
        "validation_error",
    )
    .await;
    let not_theirs = json!({ "sha256": sha256_hex(b"x"), "dfid": dfid });
    assert_error(
        app.post_as("/api/receipts", &stranger, &not_theirs).await,
        404,
        "not_found",
    )
    .await;

    // Who sees what: the owner both; a member of the item's circuit the attached one; others none.
    let attached_id = attached["receipt_id"].as_str().unwrap();
    let private_id = private["receipt_id"].as_str().unwrap();
    json_with_status(app.get_as(&format!("/api/receipts/{attached_id}"), &partner).await, 200).await;
    assert_error(
        app.get_as(&format!("/api/receipts/{private_id}"), &partner).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.get_as(&format!("/api/receipts/{attached_id}"), &stranger).await,
        404,
        "not_found",
    )
    .await;
    let mine = json_with_status(app.get_as("/api/receipts", &owner).await, 200).await;
    assert_eq!(mine["data"].as_array().unwrap().len(), 2);
    let verify = |token: String| {
        let app = &app;
        async move {
            let response = app
                .with_token(reqwest::Method::POST, "/api/receipts/verify", &token)
                .header("content-type", "application/octet-stream")
                .body(permit.to_vec())
                .send()
                .await
                .unwrap();
            json_with_status(response, 200).await["matches"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(verify(owner.clone()).await, 1);
    assert_eq!(verify(partner.clone()).await, 1);
    assert_eq!(verify(stranger.clone()).await, 0);

    // The attached receipt is in the item's bundle, and the bundle verifies.
    let key_text = app.get("/log/key").await.text().await.unwrap();
    let bundle = eventually(10, || async {
        let bundle = json_with_status(app.get_as(&format!("/api/items/{dfid}/proof"), &partner).await, 200).await;
        (bundle["pending"] == 0).then_some(bundle)
    })
    .await
    .unwrap();
    let receipts = bundle["receipts"].as_array().unwrap();
    assert_eq!(receipts.len(), 1);
    let key = rfc::vkey(&key_text);
    let signed = rfc::open_checkpoint(&key, bundle["checkpoint"].as_str().unwrap());
    assert_logged(&receipts[0]["receipt"]["log"], 3, &sha256_hex(permit), &signed);
    let (passed, said) = defarm_verify(&bundle, &key_text);
    assert!(passed && said.contains("1 receipts"), "{said}");
}

#[tokio::test]
async fn a_public_page_proves_what_it_publishes_and_nothing_more() {
    let app = spawn_app().await;
    let (owner, _) = app.register("coffee").await;
    let circuit = app
        .circuit(&owner, json!({ "permissions": { "allow_public_visibility": true } }))
        .await;
    let dfid = app.item_in(&owner, &circuit, 11).await;
    let unpublished = app.item_in(&owner, &circuit, 12).await;
    // Version 2 names a contextual identifier, which the page does not show.
    let patch = json!({ "identifiers": [{ "key": "lote", "value": "secret-label" }] });
    json_with_status(app.patch_as(&format!("/api/items/{dfid}"), &owner, &patch).await, 200).await;
    for visibility in ["Public", "CircuitOnly", "Private"] {
        let body = json!({ "dfid": dfid, "event_type": format!("e-{visibility}"), "visibility": visibility });
        json_with_status(app.post_as("/api/events", &owner, &body).await, 201).await;
    }
    let receipt = app
        .with_token(
            reqwest::Method::POST,
            &format!("/api/receipts?dfid={dfid}&label=lab"),
            &owner,
        )
        .header("content-type", "text/plain")
        .body("lab result: negative")
        .send()
        .await
        .unwrap();
    assert_eq!(receipt.status(), 201);
    let settings =
        json!({ "enabled": true, "access_mode": "Public", "public_name": "Café", "published_items": [dfid] });
    let settings_path = format!("/api/circuits/{circuit}/public-settings");
    json_with_status(app.put_as(&settings_path, &owner, &settings).await, 200).await;

    let proof_path = format!("/api/circuits/{circuit}/public/items/{dfid}/proof");
    let bundle = eventually(10, || async {
        let bundle = json_with_status(app.get(&proof_path).await, 200).await;
        (bundle["pending"] == 0).then_some(bundle)
    })
    .await
    .expect("every published fact is integrated");
    let key = key_of(&app).await;
    let signed = rfc::open_checkpoint(&key, bundle["checkpoint"].as_str().unwrap());

    let versions = bundle["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    let (latest, first) = (&versions[0], &versions[1]);
    assert_eq!(
        first["withheld"], false,
        "version 1 names the canonical identifier only"
    );
    let digest = sha256_hex(serde_jcs::to_string(&first["document"]).unwrap().as_bytes());
    assert_eq!(first["document_sha256"], digest.as_str());
    assert_logged(&first["log"], 2, &digest, &signed);
    assert_eq!(latest["withheld"], true, "version 2 names a contextual identifier");
    assert!(latest["document"].is_null());
    assert_logged(&latest["log"], 2, latest["document_sha256"].as_str().unwrap(), &signed);

    let events: Vec<&str> = bundle["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"]["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(events, vec!["e-Public"], "Public events only");
    assert_eq!(bundle["receipts"], json!([]), "the page shows no receipts");
    assert!(!bundle.to_string().contains("secret-label"));
    let (passed, said) = defarm_verify(&bundle, &app.get("/log/key").await.text().await.unwrap());
    assert!(passed, "{said}");

    // Only what the page publishes, and only while it is open.
    let unpublished_path = format!("/api/circuits/{circuit}/public/items/{unpublished}/proof");
    assert_error(app.get(&unpublished_path).await, 404, "not_found").await;
    let protected = json!({ "enabled": true, "access_mode": "Protected", "access_password": "cafe-2026", "public_name": "Café", "published_items": [dfid] });
    json_with_status(app.put_as(&settings_path, &owner, &protected).await, 200).await;
    assert_error(app.get(&proof_path).await, 401, "access_password_required").await;
    let with_password = app
        .client
        .get(app.url(&proof_path))
        .header("X-Access-Password", "cafe-2026")
        .send()
        .await
        .unwrap();
    assert_eq!(with_password.status(), 200);
    let closed = json!({ "enabled": false, "access_mode": "Public", "public_name": "Café" });
    json_with_status(app.put_as(&settings_path, &owner, &closed).await, 200).await;
    assert_error(app.get(&proof_path).await, 404, "not_found").await;
}
