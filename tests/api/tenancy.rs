//! Cross-tenant isolation: everything user A owns is invisible and unchangeable to user B
//! through every route.

use serde_json::json;

use crate::helpers::{json_with_status, spawn_app};

#[tokio::test]
async fn another_users_things_are_invisible_and_unchangeable() {
    let app = spawn_app().await;
    let (alice, alice_id) = app.register("alice").await;
    let (bob, _) = app.register("bob").await;
    let (carol, carol_id) = app.register("carol").await;

    let circuit = app
        .circuit(&alice, json!({ "permissions": { "require_approval_for_push": true } }))
        .await;
    app.add_member(&alice, &circuit, &carol_id, "Member").await;
    let lid = app
        .local_item(&alice, json!([{ "key": "cpf", "value": crate::helpers::cpf(1) }]))
        .await;
    let dfid = app.push_local(&alice, &circuit, &lid, 201).await["dfid"]
        .as_str()
        .unwrap()
        .to_owned();
    let event = json_with_status(
        app.post_as(
            "/api/events",
            &alice,
            &json!({ "dfid": dfid, "event_type": "vaccination", "visibility": "Public" }),
        )
        .await,
        201,
    )
    .await;
    let event_id = event["event_id"].as_str().unwrap().to_owned();
    let local_event = json_with_status(
        app.post_as("/api/events/local", &alice, &json!({ "event_type": "weighing" }))
            .await,
        201,
    )
    .await;
    let local_event_id = local_event["local_event_id"].as_str().unwrap().to_owned();
    let role = json_with_status(
        app.post_as(
            &format!("/api/circuits/{circuit}/roles"),
            &alice,
            &json!({ "role_name": "r", "permissions": ["Pull"] }),
        )
        .await,
        201,
    )
    .await;
    let role_id = role["role_id"].as_str().unwrap().to_owned();
    let carols_lid = app.local_item(&carol, json!([])).await;
    let pending = app.push_local(&carol, &circuit, &carols_lid, 201).await;
    let operation_id = pending["operation_id"].as_str().unwrap().to_owned();
    let bobs_circuit = app.circuit(&bob, json!({})).await;

    let c = format!("/api/circuits/{circuit}");
    let attempts: Vec<(reqwest::Method, String, serde_json::Value)> = vec![
        (reqwest::Method::GET, format!("/api/items/local/{lid}"), json!(null)),
        (reqwest::Method::GET, format!("/api/items/mapping/{lid}"), json!(null)),
        (reqwest::Method::GET, format!("/api/items/{dfid}"), json!(null)),
        (
            reqwest::Method::PATCH,
            format!("/api/items/{dfid}"),
            json!({ "enriched_data": { "x": 1 } }),
        ),
        (reqwest::Method::PUT, format!("/api/items/{dfid}/deprecate"), json!({})),
        (reqwest::Method::GET, format!("/api/items/{dfid}/events"), json!(null)),
        (
            reqwest::Method::POST,
            "/api/events".to_owned(),
            json!({ "dfid": dfid, "event_type": "x" }),
        ),
        (reqwest::Method::GET, format!("/api/events/{event_id}"), json!(null)),
        (reqwest::Method::GET, c.clone(), json!(null)),
        (reqwest::Method::PUT, c.clone(), json!({ "name": "mine" })),
        (reqwest::Method::POST, format!("{c}/deactivate"), json!({})),
        (reqwest::Method::GET, format!("{c}/members"), json!(null)),
        (
            reqwest::Method::POST,
            format!("{c}/members"),
            json!({ "username": "bob", "role": "Viewer" }),
        ),
        (
            reqwest::Method::PUT,
            format!("{c}/members/{alice_id}"),
            json!({ "role": "Viewer" }),
        ),
        (reqwest::Method::DELETE, format!("{c}/members/{carol_id}"), json!(null)),
        (reqwest::Method::GET, format!("{c}/roles"), json!(null)),
        (
            reqwest::Method::POST,
            format!("{c}/roles"),
            json!({ "role_name": "x", "permissions": [] }),
        ),
        (
            reqwest::Method::PUT,
            format!("{c}/roles/{role_id}"),
            json!({ "role_name": "x", "permissions": [] }),
        ),
        (reqwest::Method::DELETE, format!("{c}/roles/{role_id}"), json!(null)),
        (reqwest::Method::GET, format!("{c}/requests"), json!(null)),
        (reqwest::Method::POST, format!("{c}/requests"), json!({})),
        (
            reqwest::Method::POST,
            format!("{c}/requests/{carol_id}/approve"),
            json!({}),
        ),
        (
            reqwest::Method::POST,
            format!("{c}/push-local"),
            json!({ "local_id": lid }),
        ),
        (
            reqwest::Method::POST,
            format!("/api/circuits/{bobs_circuit}/push-local"),
            json!({ "local_id": lid }),
        ),
        (reqwest::Method::POST, format!("{c}/push/{dfid}"), json!({})),
        (
            reqwest::Method::POST,
            format!("/api/circuits/{bobs_circuit}/push/{dfid}"),
            json!({}),
        ),
        (reqwest::Method::POST, format!("{c}/pull/{dfid}"), json!({})),
        (reqwest::Method::GET, format!("{c}/items"), json!(null)),
        (reqwest::Method::GET, format!("{c}/operations"), json!(null)),
        (
            reqwest::Method::POST,
            format!("{c}/operations/{operation_id}/approve"),
            json!({}),
        ),
        (
            reqwest::Method::POST,
            format!("{c}/operations/{operation_id}/reject"),
            json!({}),
        ),
        (
            reqwest::Method::PUT,
            format!("{c}/public-settings"),
            json!({ "enabled": false, "access_mode": "Public", "public_name": "x" }),
        ),
        (reqwest::Method::GET, format!("{c}/public"), json!(null)),
        (reqwest::Method::POST, format!("{c}/public/join"), json!({})),
        (
            reqwest::Method::POST,
            format!("{c}/push-events"),
            json!({ "dfid": dfid, "local_event_ids": [local_event_id] }),
        ),
        (
            reqwest::Method::POST,
            format!("/api/circuits/{bobs_circuit}/push-events"),
            json!({ "dfid": dfid, "local_event_ids": [local_event_id] }),
        ),
        (
            reqwest::Method::GET,
            format!("/api/activities?circuit_id={circuit}"),
            json!(null),
        ),
        (
            reqwest::Method::GET,
            format!("/api/items?circuit_id={circuit}"),
            json!(null),
        ),
    ];
    for (method, path, body) in attempts {
        let mut request = app.with_token(method.clone(), &path, &bob);
        if !body.is_null() {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert_eq!(status, 404, "{method} {path} answered {status}: {text}");
        assert!(!text.contains(&alice_id), "{method} {path} leaked the owner: {text}");
    }

    // Lists show none of it.
    for path in [
        "/api/items",
        "/api/items/local",
        "/api/events",
        "/api/events/local",
        "/api/circuits",
        "/api/activities",
    ] {
        let body = json_with_status(app.get_as(path, &bob).await, 200).await;
        let text = body.to_string();
        assert!(
            !text.contains(&dfid) && !text.contains(&lid) && !text.contains(&circuit),
            "{path} leaked: {text}"
        );
    }

    // And nothing changed.
    let item = json_with_status(app.get_as(&format!("/api/items/{dfid}"), &alice).await, 200).await;
    assert_eq!(item["status"], "Active");
    assert!(item["enriched_data"].get("x").is_none());
    let circuit_now = json_with_status(app.get_as(&c, &alice).await, 200).await;
    assert_eq!(circuit_now["name"], "Circuit");
    assert_eq!(circuit_now["member_count"], 2);
    let ops = json_with_status(app.get_as(&format!("{c}/operations?status=Pending"), &alice).await, 200).await;
    assert_eq!(ops["data"].as_array().unwrap().len(), 1);
    let _ = carol;
}
