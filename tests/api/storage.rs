//! Storage adapters: the local content-addressed store, an IPFS stand-in, and reading copies
//! back under the visibility rules.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use sha2::Digest as _;

use crate::helpers::{TestApp, assert_error, eventually, json_with_status, serve_on_loopback, spawn_app, spawn_with};

/// CIDv1, raw codec, sha2-256, base32 lower with the `b` multibase prefix, written out by hand
/// so the service's CIDs are checked against an independent computation.
fn independent_cid(bytes: &[u8]) -> String {
    let mut binary = vec![0x01, 0x55, 0x12, 0x20];
    binary.extend_from_slice(&sha2::Sha256::digest(bytes));
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::from("b");
    let (mut buffer, mut bits) = (0_u32, 0);
    for byte in binary {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            out.push(ALPHABET[((buffer >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

#[test]
fn the_independent_cid_matches_the_known_vector() {
    assert_eq!(
        independent_cid(b"hello world"),
        "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
    );
}

async fn stored_record(app: &TestApp, token: &str, dfid: &str) -> Value {
    eventually(10, || async {
        let history = json_with_status(
            app.get_as(&format!("/api/items/{dfid}/storage-history"), token).await,
            200,
        )
        .await;
        history["data"]
            .as_array()
            .and_then(|records| records.first().cloned())
            .filter(|r| r["status"] == "Stored")
    })
    .await
    .expect("the copy was stored")
}

#[tokio::test]
async fn local_adapter_stores_the_item_document() {
    let app = spawn_app().await;
    let (owner, _) = app.register("owner").await;
    let (stranger, _) = app.register("stranger").await;
    let adapters = json_with_status(app.get_as("/api/adapters", &owner).await, 200).await;
    let local = adapters["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["adapter_type"] == "local")
        .unwrap()
        .clone();
    assert_eq!(local["available"], true);
    let stellar = adapters["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["adapter_type"] == "stellar_mainnet-ipfs")
        .unwrap()
        .clone();
    assert_eq!(stellar["available"], false);
    assert_eq!(stellar["allowed_tiers"], json!(["Enterprise", "Admin"]));

    let circuit = app.circuit(&owner, json!({ "adapter_type": "local" })).await;
    let dfid = app.item_in(&owner, &circuit, 1).await;
    let record = stored_record(&app, &owner, &dfid).await;
    assert_eq!(record["adapter_type"], "local");
    let cid = record["cid"].as_str().unwrap();
    assert_eq!(record["location"], format!("local://{cid}"));
    let item = json_with_status(app.get_as(&format!("/api/items/{dfid}"), &owner).await, 200).await;
    assert_eq!(item["latest_cid"], cid);

    let content = app.get_as(&format!("/api/storage/{cid}"), &owner).await;
    assert_eq!(content.status(), 200);
    let bytes = content.bytes().await.unwrap();
    assert_eq!(independent_cid(&bytes), cid);
    let document: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(document["dfid"], dfid.as_str());
    assert_eq!(document["status"], "Active");
    assert_error(
        app.get_as(&format!("/api/storage/{cid}"), &stranger).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.get_as(&format!("/api/items/{dfid}/storage-history"), &stranger)
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn adapter_choice_follows_availability_tier_and_visibility() {
    let app = spawn_app().await;
    let (owner, _) = app.register("owner").await;
    let (member, member_id) = app.register("member").await;
    let circuit = app.circuit(&owner, json!({})).await;
    app.add_member(&owner, &circuit, &member_id, "Member").await;
    let path = format!("/api/circuits/{circuit}/adapter");
    assert_eq!(
        json_with_status(app.get_as(&path, &member).await, 200).await["adapter_type"],
        "none"
    );
    assert_error(
        app.put_as(&path, &member, &json!({ "adapter_type": "local" })).await,
        403,
        "insufficient_permissions",
    )
    .await;
    assert_error(
        app.put_as(&path, &owner, &json!({ "adapter_type": "ipfs-ipfs" })).await,
        409,
        "adapter_unavailable",
    )
    .await;
    assert_error(
        app.put_as(&path, &owner, &json!({ "adapter_type": "stellar_testnet-ipfs" }))
            .await,
        403,
        "adapter_not_in_tier",
    )
    .await;
    assert_eq!(
        json_with_status(
            app.put_as(&path, &owner, &json!({ "adapter_type": "local" })).await,
            200
        )
        .await["adapter_type"],
        "local"
    );
}

/// A stand-in for a Kubo node: `add` stores the uploaded bytes and answers their CID (computed
/// independently), `cat` returns them.
async fn fake_ipfs() -> (String, Arc<Mutex<HashMap<String, Vec<u8>>>>) {
    let blobs: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
    let store = blobs.clone();
    let endpoint = poem::endpoint::make(move |mut req: poem::Request| {
        let store = store.clone();
        async move {
            let path = req.uri().path().to_owned();
            let query = req.uri().query().unwrap_or_default().to_owned();
            let body = req.take_body().into_vec().await.unwrap_or_default();
            if path == "/api/v0/add" {
                assert!(
                    query.contains("cid-version=1") && query.contains("raw-leaves=true"),
                    "{query}"
                );
                let start = body.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                let end = body.windows(4).rposition(|w| w == b"\r\n--").unwrap();
                let file = body[start..end].to_vec();
                let cid = independent_cid(&file);
                store.lock().unwrap().insert(cid.clone(), file.clone());
                let answer = json!({ "Name": cid, "Hash": cid, "Size": file.len().to_string() });
                poem::Response::builder()
                    .content_type("application/json")
                    .body(answer.to_string())
            } else if path == "/api/v0/version" {
                poem::Response::builder()
                    .content_type("application/json")
                    .body(json!({ "Version": "0.30.0" }).to_string())
            } else {
                let cid = query.trim_start_matches("arg=").to_owned();
                match store.lock().unwrap().get(&cid) {
                    Some(bytes) => poem::Response::builder().body(bytes.clone()),
                    None => poem::Response::builder()
                        .status(poem::http::StatusCode::NOT_FOUND)
                        .finish(),
                }
            }
        }
    });
    let (addr, _server) = serve_on_loopback(endpoint).await;
    (format!("http://{addr}/"), blobs)
}

#[tokio::test]
async fn ipfs_adapter_adds_through_the_rpc_api() {
    let (api, blobs) = fake_ipfs().await;
    let app = spawn_with(&[("IPFS_API_URL", api.as_str())]).await;
    let (owner, _) = app.register("owner").await;
    let no_public = app
        .post_as(
            "/api/circuits",
            &owner,
            &json!({ "name": "x", "adapter_type": "ipfs-ipfs" }),
        )
        .await;
    assert_error(no_public, 409, "public_visibility_disabled").await;
    let circuit = app
        .circuit(
            &owner,
            json!({ "adapter_type": "ipfs-ipfs", "permissions": { "allow_public_visibility": true } }),
        )
        .await;
    let dfid = app.item_in(&owner, &circuit, 1).await;
    let record = stored_record(&app, &owner, &dfid).await;
    let cid = record["cid"].as_str().unwrap();
    assert_eq!(record["location"], format!("ipfs://{cid}"));
    assert!(blobs.lock().unwrap().contains_key(cid), "the node received the bytes");
    let bytes = app
        .get_as(&format!("/api/storage/{cid}"), &owner)
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(independent_cid(&bytes), cid);
}

#[tokio::test]
async fn a_failed_store_does_not_undo_the_push() {
    // An IPFS node that is not there: the push completes; the copy waits and is retried.
    let app = spawn_with(&[("IPFS_API_URL", "http://127.0.0.1:9/")]).await;
    let (owner, _) = app.register("owner").await;
    let circuit = app
        .circuit(
            &owner,
            json!({ "adapter_type": "ipfs-ipfs", "permissions": { "allow_public_visibility": true } }),
        )
        .await;
    let dfid = app.item_in(&owner, &circuit, 1).await;
    let items = json_with_status(app.get_as(&format!("/api/circuits/{circuit}/items"), &owner).await, 200).await;
    assert_eq!(items["data"][0]["dfid"], dfid.as_str());
    let history = eventually(5, || async {
        let history = json_with_status(
            app.get_as(&format!("/api/items/{dfid}/storage-history"), &owner).await,
            200,
        )
        .await;
        let record = history["data"][0].clone();
        (record["status"] == "Pending").then_some(record)
    })
    .await;
    assert!(history.is_some(), "the record waits for a retry");
}

#[tokio::test]
async fn adapter_health_pings_each_store_without_revealing_its_address() {
    let (api, _) = fake_ipfs().await;
    let app = spawn_with(&[("IPFS_API_URL", api.as_str())]).await;
    let (user, _) = app.register("user").await;
    let health = |adapter: &'static str| {
        let (app, user) = (&app, &user);
        async move { json_with_status(app.get_as(&format!("/api/adapters/{adapter}/health"), user).await, 200).await }
    };
    for adapter in ["local", "ipfs-ipfs"] {
        let answer = health(adapter).await;
        assert_eq!(answer["available"], true, "{answer}");
        assert_eq!(answer["reachable"], true, "{answer}");
        assert!(answer["latency_ms"].as_f64().unwrap() >= 0.0);
        assert_eq!(answer["problem"], Value::Null);
    }
    for adapter in ["none", "stellar_mainnet-ipfs"] {
        let answer = health(adapter).await;
        assert_eq!(answer["reachable"], Value::Null, "nothing to ask: {answer}");
    }
    assert_error(app.get_as("/api/adapters/ftp/health", &user).await, 404, "not_found").await;
    assert_error(app.get("/api/adapters/local/health").await, 401, "unauthorized").await;

    let app = spawn_with(&[("IPFS_API_URL", "http://127.0.0.1:9/")]).await;
    let (user, _) = app.register("user").await;
    let down = json_with_status(app.get_as("/api/adapters/ipfs-ipfs/health", &user).await, 200).await;
    assert_eq!(down["reachable"], false, "{down}");
    let problem = down["problem"].as_str().unwrap();
    assert!(problem.contains("IPFS") && !problem.contains("127.0.0.1"), "{problem}");
}
