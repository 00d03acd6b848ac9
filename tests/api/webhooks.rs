//! Post-action webhooks against a real receiver on loopback: signatures, retries, timeouts,
//! restarts, approvals, and the destination rules.

use std::time::Duration;

use hmac::{KeyInit, Mac};
use serde_json::{Value, json};

use crate::helpers::{Receiver, Reply, TestApp, assert_error, eventually, json_with_status, spawn_with};

/// Fast retries and a short attempt timeout, and loopback receivers allowed.
const PARTNER_SETTINGS: &[(&str, &str)] = &[("WEBHOOK_ALLOW_PRIVATE", "true"), ("WEBHOOK_TIMEOUT_MS", "500")];

/// A circuit with webhooks enabled for `triggers`, and one webhook to `receiver`; returns
/// `(owner token, circuit id, webhook id, signing secret)`.
async fn circuit_with_webhook(
    app: &TestApp,
    receiver: &Receiver,
    triggers: Value,
    circuit: Value,
    retry: Value,
) -> (String, String, String, String) {
    circuit_with_webhook_of(app, "owner", receiver, triggers, circuit, retry).await
}

async fn circuit_with_webhook_of(
    app: &TestApp,
    username: &str,
    receiver: &Receiver,
    triggers: Value,
    circuit: Value,
    retry: Value,
) -> (String, String, String, String) {
    let (owner, _) = app.register(username).await;
    let id = app.circuit(&owner, circuit).await;
    let settings = json!({ "enabled": true, "trigger_events": triggers });
    json_with_status(
        app.put_as(&format!("/api/circuits/{id}/post-actions"), &owner, &settings)
            .await,
        200,
    )
    .await;
    let body = json!({ "name": "erp", "url": receiver.url, "headers": { "X-Partner": "acme" }, "retry_config": retry });
    let created = json_with_status(
        app.post_as(&format!("/api/circuits/{id}/post-actions/webhooks"), &owner, &body)
            .await,
        201,
    )
    .await;
    let secret = created["signing_secret"].as_str().unwrap().to_owned();
    (owner, id, created["webhook_id"].as_str().unwrap().to_owned(), secret)
}

fn fast_retries(max_retries: u32) -> Value {
    json!({ "max_retries": max_retries, "initial_delay_ms": 50, "max_delay_ms": 200, "backoff_multiplier": 2.0 })
}

fn verify(secret: &str, received: &crate::helpers::Received) -> bool {
    let timestamp = &received.headers["x-defarm-timestamp"];
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.{}", received.body).as_bytes());
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    received.headers["x-defarm-signature"] == expected
}

async fn deliveries(app: &TestApp, owner: &str, circuit: &str) -> Vec<Value> {
    let page = json_with_status(
        app.get_as(
            &format!("/api/circuits/{circuit}/post-actions/deliveries?limit=500"),
            owner,
        )
        .await,
        200,
    )
    .await;
    page["data"].as_array().unwrap().clone()
}

/// Waits until every delivery of the circuit is final; returns them.
async fn settled(app: &TestApp, owner: &str, circuit: &str, count: usize) -> Vec<Value> {
    eventually(15, || async {
        let all = deliveries(app, owner, circuit).await;
        let done = all.len() >= count
            && all
                .iter()
                .all(|d| d["status"] == "Delivered" || d["status"] == "Failed");
        done.then_some(all)
    })
    .await
    .unwrap_or_else(|| panic!("deliveries did not settle"))
}

#[tokio::test]
async fn deliveries_are_signed_and_carry_the_payload() {
    let app = spawn_with(PARTNER_SETTINGS).await;
    let receiver = Receiver::start(vec![]).await;
    let (owner, circuit, _, secret) = circuit_with_webhook(
        &app,
        &receiver,
        json!(["item_pushed", "item_tokenized"]),
        json!({ "name": "Cafe" }),
        fast_retries(3),
    )
    .await;
    let dfid = app.item_in(&owner, &circuit, 1).await;
    let received = receiver.wait_for(2, 10).await;
    assert_eq!(received.len(), 2);
    let mut kinds = Vec::new();
    for request in &received {
        assert!(verify(&secret, request), "signature does not verify: {request:?}");
        assert_eq!(request.headers["content-type"], "application/json");
        assert_eq!(request.headers["x-partner"], "acme");
        let body: Value = serde_json::from_str(&request.body).unwrap();
        assert_eq!(request.headers["x-defarm-event"], body["event_type"].as_str().unwrap());
        assert_eq!(
            request.headers["x-defarm-delivery"],
            body["delivery_id"].as_str().unwrap()
        );
        assert_eq!(body["circuit_id"], circuit.as_str());
        assert_eq!(body["circuit_name"], "Cafe");
        assert_eq!(body["item"]["dfid"], dfid.as_str());
        assert_eq!(body["item"]["identifiers"][0]["key"], "cpf");
        assert!(body["item"]["pushed_by"].is_string());
        assert_eq!(body["operation_status"], "Completed");
        kinds.push(body["event_type"].as_str().unwrap().to_owned());
    }
    kinds.sort();
    assert_eq!(kinds, vec!["item_pushed", "item_tokenized"]);
    let all = settled(&app, &owner, &circuit, 2).await;
    assert!(all.iter().all(|d| d["status"] == "Delivered" && d["attempts"] == 1));
}

#[tokio::test]
async fn retries_keep_the_delivery_id_until_success() {
    let app = spawn_with(PARTNER_SETTINGS).await;
    let receiver = Receiver::start(vec![Reply::Status(500), Reply::Status(500)]).await;
    let (owner, circuit, _, secret) =
        circuit_with_webhook(&app, &receiver, json!(["item_pushed"]), json!({}), fast_retries(3)).await;
    app.item_in(&owner, &circuit, 1).await;
    let received = receiver.wait_for(3, 10).await;
    assert_eq!(received.len(), 3);
    let ids: Vec<&String> = received.iter().map(|r| &r.headers["x-defarm-delivery"]).collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert!(
        received.iter().all(|r| r.body == received[0].body),
        "the body never changes"
    );
    assert!(received.iter().all(|r| verify(&secret, r)));
    let all = settled(&app, &owner, &circuit, 1).await;
    assert_eq!(all[0]["status"], "Delivered");
    assert_eq!(all[0]["attempts"], 3);
    assert_eq!(all[0]["last_status_code"], 200);
}

#[tokio::test]
async fn a_client_error_fails_at_once_and_retries_run_out() {
    let app = spawn_with(PARTNER_SETTINGS).await;
    let receiver = Receiver::start(vec![Reply::Status(400)]).await;
    let (owner, circuit, _, _) =
        circuit_with_webhook(&app, &receiver, json!(["item_pushed"]), json!({}), fast_retries(1)).await;
    app.item_in(&owner, &circuit, 1).await;
    let all = settled(&app, &owner, &circuit, 1).await;
    assert_eq!(all[0]["status"], "Failed");
    assert_eq!(all[0]["attempts"], 1);
    assert_eq!(all[0]["last_status_code"], 400);

    let failing = Receiver::start(vec![Reply::Status(503); 10]).await;
    let (owner, circuit, _, _) = circuit_with_webhook_of(
        &app,
        "second",
        &failing,
        json!(["item_pushed"]),
        json!({ "name": "b" }),
        fast_retries(1),
    )
    .await;
    app.item_in(&owner, &circuit, 2).await;
    let all = settled(&app, &owner, &circuit, 1).await;
    assert_eq!(all[0]["status"], "Failed");
    assert_eq!(all[0]["attempts"], 2, "max_retries 1 means 2 attempts");
    let failed = json_with_status(
        app.get_as(
            &format!("/api/circuits/{circuit}/post-actions/deliveries?status=Failed"),
            &owner,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(failed["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_hanging_receiver_times_out_and_is_retried() {
    let app = spawn_with(PARTNER_SETTINGS).await;
    let receiver = Receiver::start(vec![Reply::Hang(Duration::from_secs(3))]).await;
    let (owner, circuit, _, _) =
        circuit_with_webhook(&app, &receiver, json!(["item_pushed"]), json!({}), fast_retries(3)).await;
    app.item_in(&owner, &circuit, 1).await;
    let all = settled(&app, &owner, &circuit, 1).await;
    assert_eq!(all[0]["status"], "Delivered");
    assert_eq!(all[0]["attempts"], 2);
}

#[tokio::test]
async fn a_restart_in_the_middle_of_retries_loses_nothing() {
    let mut app = spawn_with(PARTNER_SETTINGS).await;
    let receiver = Receiver::start(vec![Reply::Status(500)]).await;
    let slow = json!({ "max_retries": 3, "initial_delay_ms": 1500, "max_delay_ms": 1500, "backoff_multiplier": 1.0 });
    let (owner, circuit, _, _) = circuit_with_webhook(&app, &receiver, json!(["item_pushed"]), json!({}), slow).await;
    app.item_in(&owner, &circuit, 1).await;
    receiver.wait_for(1, 10).await;
    app.restart().await;
    let owner = json_with_status(app.login("owner", crate::helpers::PASSWORD).await, 200).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let received = receiver.wait_for(2, 15).await;
    assert_eq!(received.len(), 2);
    assert_eq!(
        received[0].headers["x-defarm-delivery"],
        received[1].headers["x-defarm-delivery"]
    );
    let all = settled(&app, &owner, &circuit, 1).await;
    assert_eq!(all[0]["status"], "Delivered");
}

#[tokio::test]
async fn approval_gated_pushes_deliver_only_after_approval() {
    let app = spawn_with(PARTNER_SETTINGS).await;
    let receiver = Receiver::start(vec![]).await;
    let (owner, circuit, _, _) = circuit_with_webhook(
        &app,
        &receiver,
        json!(["item_pushed", "item_approved"]),
        json!({ "permissions": { "require_approval_for_push": true } }),
        fast_retries(3),
    )
    .await;
    let (member, member_id) = app.register("member").await;
    app.add_member(&owner, &circuit, &member_id, "Member").await;
    let local = app.local_item(&member, json!([])).await;
    let pushed = app.push_local(&member, &circuit, &local, 201).await;
    // A quiet period: nothing must arrive, and absence has no event to wait for.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(receiver.received().is_empty(), "nothing is announced before approval");
    let op = pushed["operation_id"].as_str().unwrap();
    json_with_status(
        app.post_as(
            &format!("/api/circuits/{circuit}/operations/{op}/approve"),
            &owner,
            &json!({}),
        )
        .await,
        200,
    )
    .await;
    let received = receiver.wait_for(2, 10).await;
    let mut kinds: Vec<String> = received.iter().map(|r| r.headers["x-defarm-event"].clone()).collect();
    kinds.sort();
    assert_eq!(kinds, vec!["item_approved", "item_pushed"]);
}

#[tokio::test]
async fn private_events_are_never_announced() {
    let app = spawn_with(PARTNER_SETTINGS).await;
    let receiver = Receiver::start(vec![]).await;
    let (owner, circuit, _, _) =
        circuit_with_webhook(&app, &receiver, json!(["event_created"]), json!({}), fast_retries(3)).await;
    let dfid = app.item_in(&owner, &circuit, 1).await;
    for visibility in ["Private", "CircuitOnly"] {
        let body = json!({ "dfid": dfid, "event_type": "weighing", "visibility": visibility, "metadata": { "v": visibility } });
        json_with_status(app.post_as("/api/events", &owner, &body).await, 201).await;
    }
    let received = receiver.wait_for(1, 10).await;
    // A quiet period: a wrongly announced Private event would arrive within it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let received = if received.len() > 1 {
        received
    } else {
        receiver.received()
    };
    assert_eq!(received.len(), 1);
    let body: Value = serde_json::from_str(&received[0].body).unwrap();
    assert_eq!(body["event"]["visibility"], "CircuitOnly");
    assert_eq!(body["event"]["event_type"], "weighing");
    assert!(body["operation_id"].is_null());
}

#[tokio::test]
async fn the_test_route_sends_a_real_delivery() {
    let app = spawn_with(PARTNER_SETTINGS).await;
    let receiver = Receiver::start(vec![]).await;
    let (owner, circuit, webhook, secret) =
        circuit_with_webhook(&app, &receiver, json!([]), json!({}), fast_retries(3)).await;
    let result = json_with_status(
        app.post_as(
            &format!("/api/circuits/{circuit}/post-actions/webhooks/{webhook}/test"),
            &owner,
            &json!({}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(result["status"], "Delivered");
    assert_eq!(result["response_code"], 200);
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].headers["x-defarm-event"], "test");
    assert!(verify(&secret, &received[0]));
    assert_eq!(
        received[0].headers["x-defarm-delivery"],
        result["delivery_id"].as_str().unwrap()
    );
}

#[tokio::test]
async fn webhook_settings_rules() {
    let app = spawn_with(&[("WEBHOOK_ALLOW_PRIVATE", "false")]).await;
    let (owner, _) = app.register("owner").await;
    let (member, member_id) = app.register("member").await;
    let circuit = app.circuit(&owner, json!({})).await;
    app.add_member(&owner, &circuit, &member_id, "Admin").await;
    let path = format!("/api/circuits/{circuit}/post-actions/webhooks");
    for url in [
        "http://127.0.0.1:9/hook",
        "http://10.0.0.5/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest",
        "http://localhost/x",
        // Special-purpose addresses and IPv6 spellings of private IPv4 ones.
        "http://192.0.0.1/hook",
        "http://[fec0::1]/hook",
        "http://[::7f00:1]/hook",
        "http://[64:ff9b::7f00:1]/hook",
        "http://[2002:a00:1::1]/hook",
    ] {
        let error = assert_error(
            app.post_as(&path, &owner, &json!({ "name": "x", "url": url })).await,
            400,
            "webhook_destination_refused",
        )
        .await;
        assert_eq!(error["details"]["field"], "url", "{url}");
    }
    assert_error(
        app.post_as(&path, &owner, &json!({ "name": "x", "url": "ftp://example.com" }))
            .await,
        400,
        "validation_error",
    )
    .await;
    let reserved =
        json!({ "name": "x", "url": "http://93.184.216.34/hook", "headers": { "X-DeFarm-Signature": "forged" } });
    assert_error(app.post_as(&path, &owner, &reserved).await, 400, "validation_error").await;
    assert_error(app.get_as(&path, &member).await, 403, "insufficient_permissions").await;

    for hop_by_hop in [
        "Connection",
        "Keep-Alive",
        "Transfer-Encoding",
        "TE",
        "Trailer",
        "Upgrade",
        "Proxy-Authorization",
    ] {
        let body = json!({ "name": "x", "url": "http://93.184.216.34/hook", "headers": { hop_by_hop: "x" } });
        assert_error(app.post_as(&path, &owner, &body).await, 400, "validation_error").await;
    }

    let body = json!({
        "name": "x",
        "url": "http://93.184.216.34/hook?token=q-secret&tenant=acme",
        "headers": { "X-Partner-Token": "h-secret" },
        "auth_type": "BearerToken",
        "auth_credentials": "s3cr3t-token",
    });
    let created = json_with_status(app.post_as(&path, &owner, &body).await, 201).await;
    assert!(created["signing_secret"].as_str().unwrap().starts_with("whsec_"));
    let id = created["webhook_id"].as_str().unwrap();
    let fetched = json_with_status(app.get_as(&format!("{path}/{id}"), &owner).await, 200).await;
    let text = fetched.to_string();
    assert!(fetched.get("signing_secret").is_none() && !text.contains("s3cr3t-token") && !text.contains("whsec_"));
    assert!(
        !text.contains("h-secret") && !text.contains("q-secret") && !text.contains("acme"),
        "{text}"
    );
    assert_eq!(fetched["header_names"], json!(["X-Partner-Token"]));
    assert_eq!(fetched["url"], "http://93.184.216.34/hook?token=***&tenant=***");
    assert_eq!(fetched["has_credentials"], true);
    let db = app.database().await;
    let row = sea_orm::ConnectionTrait::query_one_raw(
        &db,
        sea_orm::Statement::from_string(
            sea_orm::ConnectionTrait::get_database_backend(&db),
            "SELECT CAST(headers AS TEXT) AS headers FROM webhooks".to_owned(),
        ),
    )
    .await
    .unwrap()
    .unwrap();
    let stored: String = row.try_get("", "headers").unwrap();
    assert!(
        stored.contains("X-Partner-Token") && !stored.contains("h-secret"),
        "{stored}"
    );
    let updated = json_with_status(app.put_as(&format!("{path}/{id}"), &owner, &json!({ "name": "renamed", "url": "http://93.184.216.34/hook", "auth_type": "BearerToken", "enabled": false })).await, 200).await;
    assert_eq!(updated["name"], "renamed");
    assert_eq!(updated["has_credentials"], true, "omitted credentials are kept");
    assert_eq!(
        updated["header_names"],
        json!(["X-Partner-Token"]),
        "omitted headers are kept"
    );
    let listed = json_with_status(app.get_as(&path, &owner).await, 200).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert_eq!(app.delete_as(&format!("{path}/{id}"), &owner).await.status(), 204);
    assert_error(app.get_as(&format!("{path}/{id}"), &owner).await, 404, "not_found").await;
    let audit = json_with_status(app.get_as("/api/users/me/audit?limit=500", &owner).await, 200).await;
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"webhook_created") && actions.contains(&"webhook_deleted"));
}
