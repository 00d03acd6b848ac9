//! Two instances on one PostgreSQL and Redis: every delivery is sent once, and notifications
//! reach sockets on the other instance. Runs when TEST_DATABASE_URL and TEST_REDIS_URL are set.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::StreamExt as _;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, Receiver, TestApp, assert_error, eventually, json_with_status, spawn_with};

pub fn shared_services() -> bool {
    ["TEST_DATABASE_URL", "TEST_REDIS_URL"]
        .iter()
        .all(|v| std::env::var(v).is_ok_and(|s| !s.is_empty()))
}

#[tokio::test]
async fn two_replicas_send_each_delivery_once() {
    if !shared_services() {
        return;
    }
    // A generous acquire timeout: this test checks exactly-once delivery, not overload answers,
    // and shares a small CI machine with the rest of the suite.
    let a = spawn_with(&[
        ("WEBHOOK_ALLOW_PRIVATE", "true"),
        ("RATE_LIMIT_PER_HOUR_BASIC", "0"),
        ("DB_ACQUIRE_TIMEOUT_MS", "15000"),
    ])
    .await;
    let b = a.replica().await;
    let receiver = Receiver::start(vec![]).await;
    let (owner, _) = a.register("owner").await;
    let circuit = a.circuit(&owner, json!({})).await;
    json_with_status(
        a.put_as(
            &format!("/api/circuits/{circuit}/post-actions"),
            &owner,
            &json!({ "enabled": true, "trigger_events": ["item_pushed"] }),
        )
        .await,
        200,
    )
    .await;
    json_with_status(
        a.post_as(
            &format!("/api/circuits/{circuit}/post-actions/webhooks"),
            &owner,
            &json!({ "name": "r", "url": receiver.url }),
        )
        .await,
        201,
    )
    .await;

    const PUSHES: usize = 200;
    let pushes = (0..PUSHES).map(|i| {
        let app = if i % 2 == 0 { &a } else { &b };
        let owner = owner.clone();
        let circuit = circuit.clone();
        async move {
            let local = app
                .local_item(&owner, json!([{ "key": "n", "value": i.to_string() }]))
                .await;
            app.push_local(&owner, &circuit, &local, 201).await;
        }
    });
    futures_util::stream::iter(pushes)
        .buffer_unordered(8)
        .collect::<Vec<()>>()
        .await;

    // A delivery is recorded only after its request was answered, so once every row is recorded
    // a duplicate send would already have reached the receiver.
    let deliveries_url = format!("/api/circuits/{circuit}/post-actions/deliveries?limit=500");
    let rows = eventually(60, || async {
        let deliveries = json_with_status(b.get_as(&deliveries_url, &owner).await, 200).await;
        let rows = deliveries["data"].as_array().cloned().unwrap_or_default();
        (rows.len() == PUSHES && rows.iter().all(|d| d["status"] == "Delivered")).then_some(rows)
    })
    .await
    .expect("every delivery recorded as Delivered");
    assert!(rows.iter().all(|d| d["attempts"] == 1));
    let received = receiver.received();
    let ids: HashSet<&String> = received.iter().map(|r| &r.headers["x-defarm-delivery"]).collect();
    assert_eq!(ids.len(), PUSHES, "every push delivered");
    assert_eq!(received.len(), PUSHES, "and each delivery received once");
}

#[tokio::test]
async fn a_notification_created_on_one_replica_reaches_a_socket_on_the_other() {
    if !shared_services() {
        return;
    }
    let a = spawn_with(&[]).await;
    let b = a.replica().await;
    let (owner, _) = a.register("owner").await;
    let (member, member_id) = a.register("member").await;
    let circuit = a.circuit(&owner, json!({})).await;
    let url = format!("ws://{}/api/notifications/ws?token={member}", b.addr);
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    assert_eq!(next(&mut socket).await.unwrap()["type"], "connected");
    assert_eq!(next(&mut socket).await.unwrap()["type"], "unread_count");
    // Redis subscriptions are asynchronous; give B's a moment to be in place.
    tokio::time::sleep(Duration::from_millis(300)).await;
    a.add_member(&owner, &circuit, &member_id, "Viewer").await;
    let live = next(&mut socket).await.expect("the notification crossed replicas");
    assert_eq!(live["type"], "notification");
    assert_eq!(live["data"]["notification_type"], "MemberAdded");
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next(socket: &mut Socket) -> Option<Value> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(3), socket.next())
            .await
            .ok()??
            .ok()?;
        if let tokio_tungstenite::tungstenite::Message::Text(text) = message {
            return serde_json::from_str::<Value>(&text).ok();
        }
    }
}

/// Each replica keeps its own copy of session, account and key facts. Every way of revoking
/// access takes effect on the replica that revoked at once, and on the other one as soon as the
/// published deletion arrives (the bench measures how soon; the copy itself would live 60 s).
#[tokio::test]
async fn revocations_reach_both_replicas_copies_of_session_facts() {
    if !shared_services() {
        return;
    }
    let (a, admin) = crate::admin::app_with_admin_and(&[("RATE_LIMIT_PER_HOUR_BASIC", "0")]).await;
    let b = a.replica().await;
    // Redis subscriptions are asynchronous; give both a moment to be in place.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let (session, _) = a.register("leaver").await;
    check_revocation(&a, &b, &session, 401, "session_revoked", || async {
        assert_eq!(a.post_as("/api/auth/logout", &session, &json!({})).await.status(), 204);
    })
    .await;

    let (current, _) = a.register("changer").await;
    let other = json_with_status(a.login("changer", PASSWORD).await, 200).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let change = json!({ "current_password": PASSWORD, "new_password": "N3w-password!" });
    check_revocation(&a, &b, &other, 401, "session_revoked", || async {
        let changed = a.post_as("/api/auth/change-password", &current, &change).await;
        assert!(changed.status().is_success(), "{}", changed.status());
    })
    .await;

    let (suspect, suspect_id) = a.register("suspect").await;
    let suspend = json!({ "status": "Suspended", "reason": "chargeback" });
    check_revocation(&a, &b, &suspect, 403, "account_suspended", || async {
        let path = format!("/api/admin/users/{suspect_id}/status");
        json_with_status(a.put_as(&path, &admin, &suspend).await, 200).await;
    })
    .await;

    let (owner, _) = a.register("keyholder").await;
    let created = json_with_status(
        a.post_as(
            "/api/api-keys",
            &owner,
            &json!({ "name": "k", "permissions": { "read": true } }),
        )
        .await,
        201,
    )
    .await;
    let (key, key_id) = (created["key"].as_str().unwrap(), created["id"].as_str().unwrap());
    check_revocation(&a, &b, key, 401, "invalid_api_key", || async {
        let revoked = a.delete_as(&format!("/api/api-keys/{key_id}"), &owner).await;
        assert!(revoked.status().is_success(), "{}", revoked.status());
    })
    .await;
}

/// Uses `credential` on both replicas (so each holds its facts), runs `revoke` on A, and checks
/// the credential is refused with `status`/`code` on A at once and on B within a few seconds.
async fn check_revocation<F, Fut>(a: &TestApp, b: &TestApp, credential: &str, status: u16, code: &str, revoke: F)
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for app in [a, b, a, b] {
        json_with_status(app.get_as("/api/users/me", credential).await, 200).await;
    }
    revoke().await;
    let started = std::time::Instant::now();
    assert_error(a.get_as("/api/users/me", credential).await, status, code).await;
    let refused_on_b = eventually(5, || async {
        (b.get_as("/api/users/me", credential).await.status().as_u16() == status).then_some(())
    })
    .await;
    assert!(
        refused_on_b.is_some(),
        "{code}: the other replica still accepts the credential"
    );
    eprintln!("{code}: refused on the other replica after {:?}", started.elapsed());
}
