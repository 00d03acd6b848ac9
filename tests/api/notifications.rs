//! Notifications over REST and the WebSocket.

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{TestApp, assert_error, json_with_status, spawn_app};

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(app: &TestApp, token: &str) -> Socket {
    let url = format!("ws://{}/api/notifications/ws?token={token}", app.addr);
    tokio_tungstenite::connect_async(url).await.unwrap().0
}

/// The next JSON message, within `seconds`.
async fn next(socket: &mut Socket, seconds: u64) -> Option<Value> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(seconds), socket.next())
            .await
            .ok()??
            .ok()?;
        match message {
            Message::Text(text) => return serde_json::from_str(&text).ok(),
            Message::Close(_) => return None,
            _ => continue,
        }
    }
}

#[tokio::test]
async fn notifications_are_created_listed_and_owned() {
    let app = spawn_app().await;
    let (owner, _) = app.register("owner").await;
    let (member, member_id) = app.register("member").await;
    let (other, _) = app.register("other").await;
    let circuit = app.circuit(&owner, json!({})).await;
    app.add_member(&owner, &circuit, &member_id, "Member").await;

    let count = json_with_status(app.get_as("/api/notifications/unread-count", &member).await, 200).await;
    assert_eq!(count["count"], 1);
    let list = json_with_status(app.get_as("/api/notifications?unread_only=true", &member).await, 200).await;
    let notification = &list["data"][0];
    assert_eq!(notification["notification_type"], "MemberAdded");
    assert_eq!(notification["read"], false);
    assert_eq!(notification["data"]["circuit_id"], circuit.as_str());
    let id = notification["id"].as_str().unwrap();

    assert_error(
        app.put_as(&format!("/api/notifications/{id}/read"), &other, &json!({}))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.delete_as(&format!("/api/notifications/{id}"), &other).await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(
        app.put_as(&format!("/api/notifications/{id}/read"), &member, &json!({}))
            .await
            .status(),
        204
    );
    assert_eq!(
        json_with_status(app.get_as("/api/notifications/unread-count", &member).await, 200).await["count"],
        0
    );

    json_with_status(
        app.put_as(
            &format!("/api/circuits/{circuit}/members/{member_id}"),
            &owner,
            &json!({ "role": "Viewer" }),
        )
        .await,
        200,
    )
    .await;
    let marked = json_with_status(
        app.post_as("/api/notifications/mark-all-read", &member, &json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(marked["updated"], 1);
    assert_eq!(
        app.delete_as(&format!("/api/notifications/{id}"), &member)
            .await
            .status(),
        204
    );
    let remaining = json_with_status(app.get_as("/api/notifications", &member).await, 200).await;
    let kinds: Vec<&str> = remaining["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["notification_type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["RoleChanged"]);
}

#[tokio::test]
async fn managers_hear_about_requests_and_requesters_about_decisions() {
    let app = spawn_app().await;
    let (owner, _) = app.register("owner").await;
    let (member, member_id) = app.register("member").await;
    let circuit = app
        .circuit(&owner, json!({ "permissions": { "require_approval_for_push": true } }))
        .await;
    app.add_member(&owner, &circuit, &member_id, "Member").await;
    let local = app.local_item(&member, json!([])).await;
    let pushed = app.push_local(&member, &circuit, &local, 201).await;
    let owners = json_with_status(app.get_as("/api/notifications", &owner).await, 200).await;
    assert_eq!(owners["data"][0]["notification_type"], "CircuitItemPendingApproval");
    let op = pushed["operation_id"].as_str().unwrap();
    json_with_status(
        app.post_as(
            &format!("/api/circuits/{circuit}/operations/{op}/reject"),
            &owner,
            &json!({ "reason": "no" }),
        )
        .await,
        200,
    )
    .await;
    let members = json_with_status(app.get_as("/api/notifications", &member).await, 200).await;
    assert_eq!(members["data"][0]["notification_type"], "CircuitItemRejected");
    assert_eq!(members["data"][0]["data"]["reason"], "no");
}

#[tokio::test]
async fn socket_receives_notifications_live() {
    let app = spawn_app().await;
    let (owner, _) = app.register("owner").await;
    let (member, member_id) = app.register("member").await;
    let circuit = app.circuit(&owner, json!({})).await;
    let mut socket = connect(&app, &member).await;
    assert_eq!(next(&mut socket, 2).await.unwrap()["type"], "connected");
    let unread = next(&mut socket, 2).await.unwrap();
    assert_eq!(unread, json!({ "type": "unread_count", "count": 0 }));

    app.add_member(&owner, &circuit, &member_id, "Member").await;
    let live = next(&mut socket, 1).await.expect("a notification within a second");
    assert_eq!(live["type"], "notification");
    assert_eq!(live["data"]["notification_type"], "MemberAdded");

    socket
        .send(Message::Text(json!({ "action": "ping" }).to_string().into()))
        .await
        .unwrap();
    assert_eq!(next(&mut socket, 2).await.unwrap()["type"], "pong");
    let id = live["data"]["id"].as_str().unwrap();
    socket
        .send(Message::Text(
            json!({ "action": "mark_read", "notification_id": id })
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    assert_eq!(
        next(&mut socket, 2).await.unwrap(),
        json!({ "type": "unread_count", "count": 0 })
    );

    // Logging out closes the socket.
    assert_eq!(app.post_as("/api/auth/logout", &member, &json!({})).await.status(), 204);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        match next(&mut socket, 5).await {
            None => break,
            Some(_) => assert!(std::time::Instant::now() < deadline, "socket stayed open"),
        }
    }
}

#[tokio::test]
async fn bad_tokens_are_refused_before_the_upgrade() {
    let app = spawn_app().await;
    for url in [
        format!("ws://{}/api/notifications/ws?token=garbage", app.addr),
        format!("ws://{}/api/notifications/ws", app.addr),
    ] {
        let error = tokio_tungstenite::connect_async(url).await.unwrap_err();
        match error {
            tokio_tungstenite::tungstenite::Error::Http(response) => assert_eq!(response.status(), 401),
            other => panic!("expected an HTTP refusal, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn account_changes_notify_the_user() {
    let (app, admin) = crate::admin::app_with_admin().await;
    let (user, user_id) = app.register("grower").await;
    json_with_status(
        app.put_as(
            &format!("/api/admin/users/{user_id}/tier"),
            &admin,
            &json!({ "tier": "Professional" }),
        )
        .await,
        200,
    )
    .await;
    let list = json_with_status(app.get_as("/api/notifications", &user).await, 200).await;
    assert_eq!(list["data"][0]["notification_type"], "AccountUpdated");
}
