//! Public circuit pages, join requests and public joins.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, json_with_status, spawn_app, spawn_with};

fn settings(extra: Value) -> Value {
    let mut base =
        json!({ "enabled": true, "access_mode": "Public", "public_name": "Fazenda Aberta", "tagline": "Rastreável" });
    if let (Some(base), Some(extra)) = (base.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            base.insert(k.clone(), v.clone());
        }
    }
    base
}

async fn public_circuit(app: &TestApp) -> (String, String, String) {
    let (owner, _) = app.register("owner").await;
    let id = app
        .circuit(&owner, json!({ "permissions": { "allow_public_visibility": true } }))
        .await;
    let dfid = app.item_in(&owner, &id, 1).await;
    (owner, id, dfid)
}

#[tokio::test]
async fn public_visibility_must_be_allowed_first() {
    let app = spawn_app().await;
    let (owner, _) = app.register("owner").await;
    let id = app.circuit(&owner, json!({})).await;
    assert_error(
        app.put_as(
            &format!("/api/circuits/{id}/public-settings"),
            &owner,
            &settings(json!({})),
        )
        .await,
        409,
        "public_visibility_disabled",
    )
    .await;
    assert_error(app.get(&format!("/api/circuits/{id}/public")).await, 404, "not_found").await;
}

#[tokio::test]
async fn public_page_shows_published_items_canonically_and_public_events_only() {
    let app = spawn_app().await;
    let (owner, id, dfid) = public_circuit(&app).await;
    let unpublished = app.item_in(&owner, &id, 2).await;
    json_with_status(
        app.patch_as(
            &format!("/api/items/{dfid}"),
            &owner,
            &json!({ "identifiers": [{ "key": "lote", "value": "secret-label" }] }),
        )
        .await,
        200,
    )
    .await;
    for visibility in ["Public", "CircuitOnly", "Private"] {
        let body = json!({ "dfid": dfid, "event_type": format!("e-{visibility}"), "visibility": visibility });
        json_with_status(app.post_as("/api/events", &owner, &body).await, 201).await;
    }
    let path = format!("/api/circuits/{id}/public-settings");
    assert_error(
        app.put_as(
            &path,
            &owner,
            &settings(json!({ "published_items": [crate::helpers::unknown_dfid()] })),
        )
        .await,
        400,
        "validation_error",
    )
    .await;
    let saved = json_with_status(
        app.put_as(&path, &owner, &settings(json!({ "published_items": [dfid] })))
            .await,
        200,
    )
    .await;
    assert_eq!(saved["public_settings"]["enabled"], true);
    assert_eq!(saved["public_settings"]["requires_password"], false);

    let page = json_with_status(app.get(&format!("/api/circuits/{id}/public")).await, 200).await;
    assert_eq!(page["public_name"], "Fazenda Aberta");
    assert_eq!(page["member_count"], 1);
    assert!(page["public_since"].is_string());
    let items = page["published_items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["dfid"], dfid.as_str());
    assert!(
        items[0]["identifiers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["id_type"] == "Canonical")
    );
    let events: Vec<&str> = items[0]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(events, vec!["e-Public"]);
    let text = page.to_string();
    assert!(!text.contains(&unpublished) && !text.contains("secret-label"));

    json_with_status(
        app.put_as(&path, &owner, &settings(json!({ "enabled": false }))).await,
        200,
    )
    .await;
    assert_error(app.get(&format!("/api/circuits/{id}/public")).await, 404, "not_found").await;
}

#[tokio::test]
async fn protected_pages_need_the_password_and_never_return_it() {
    let app = spawn_app().await;
    let (owner, id, _) = public_circuit(&app).await;
    let path = format!("/api/circuits/{id}/public-settings");
    assert_error(
        app.put_as(&path, &owner, &settings(json!({ "access_mode": "Protected" })))
            .await,
        400,
        "validation_error",
    )
    .await;
    let saved = json_with_status(
        app.put_as(
            &path,
            &owner,
            &settings(json!({ "access_mode": "Protected", "access_password": "porteira-42" })),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(saved["public_settings"]["requires_password"], true);
    assert!(!saved.to_string().contains("porteira-42"));
    let circuit = json_with_status(app.get_as(&format!("/api/circuits/{id}"), &owner).await, 200).await;
    assert!(!circuit.to_string().contains("argon2"));

    let page = format!("/api/circuits/{id}/public");
    assert_error(app.get(&page).await, 401, "access_password_required").await;
    let wrong = app
        .client
        .get(app.url(&page))
        .header("x-access-password", "nope")
        .send()
        .await
        .unwrap();
    assert_error(wrong, 401, "access_password_required").await;
    let right = app
        .client
        .get(app.url(&page))
        .header("x-access-password", "porteira-42")
        .send()
        .await
        .unwrap();
    assert_eq!(json_with_status(right, 200).await["requires_password"], true);
    // An omitted password keeps the old one.
    json_with_status(
        app.put_as(
            &path,
            &owner,
            &settings(json!({ "access_mode": "Protected", "tagline": "new" })),
        )
        .await,
        200,
    )
    .await;
    let still = app
        .client
        .get(app.url(&page))
        .header("x-access-password", "porteira-42")
        .send()
        .await
        .unwrap();
    assert_eq!(json_with_status(still, 200).await["tagline"], "new");
}

#[tokio::test]
async fn scheduled_pages_open_at_their_date() {
    let app = spawn_app().await;
    let (owner, id, _) = public_circuit(&app).await;
    let path = format!("/api/circuits/{id}/public-settings");
    assert_error(
        app.put_as(&path, &owner, &settings(json!({ "access_mode": "Scheduled" })))
            .await,
        400,
        "validation_error",
    )
    .await;
    let later = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    json_with_status(
        app.put_as(
            &path,
            &owner,
            &settings(json!({ "access_mode": "Scheduled", "scheduled_date": later })),
        )
        .await,
        200,
    )
    .await;
    assert_error(app.get(&format!("/api/circuits/{id}/public")).await, 404, "not_found").await;
    let earlier = (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
    json_with_status(
        app.put_as(
            &path,
            &owner,
            &settings(json!({ "access_mode": "Scheduled", "scheduled_date": earlier })),
        )
        .await,
        200,
    )
    .await;
    json_with_status(app.get(&format!("/api/circuits/{id}/public")).await, 200).await;
}

#[tokio::test]
async fn auto_publish_adds_each_completed_push() {
    let app = spawn_app().await;
    let (owner, id, _) = public_circuit(&app).await;
    json_with_status(
        app.put_as(
            &format!("/api/circuits/{id}/public-settings"),
            &owner,
            &settings(json!({ "auto_publish_pushed_items": true })),
        )
        .await,
        200,
    )
    .await;
    let dfid = app.item_in(&owner, &id, 9).await;
    let page = json_with_status(app.get(&format!("/api/circuits/{id}/public")).await, 200).await;
    let published: Vec<&str> = page["published_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["dfid"].as_str().unwrap())
        .collect();
    assert_eq!(published, vec![dfid.as_str()]);
}

#[tokio::test]
async fn join_requests_through_an_open_page() {
    let app = spawn_app().await;
    let (owner, id, _) = public_circuit(&app).await;
    let (joiner, joiner_id) = app.register("joiner").await;
    let requests = format!("/api/circuits/{id}/requests");
    assert_error(
        app.post_as(&requests, &joiner, &json!({ "message": "hi" })).await,
        404,
        "not_found",
    )
    .await;
    json_with_status(
        app.put_as(
            &format!("/api/circuits/{id}/public-settings"),
            &owner,
            &settings(json!({})),
        )
        .await,
        200,
    )
    .await;

    let request = json_with_status(app.post_as(&requests, &joiner, &json!({ "message": "hi" })).await, 201).await;
    assert_eq!(request["status"], "Pending");
    assert_error(
        app.post_as(&requests, &joiner, &json!({})).await,
        409,
        "request_pending",
    )
    .await;
    assert_error(app.post_as(&requests, &owner, &json!({})).await, 409, "already_member").await;
    assert_error(app.get_as(&requests, &joiner).await, 404, "not_found").await;
    let pending = json_with_status(app.get_as(&requests, &owner).await, 200).await;
    assert_eq!(pending["data"][0]["user_id"], joiner_id.as_str());

    let rejected = json_with_status(
        app.post_as(
            &format!("{requests}/{joiner_id}/reject"),
            &owner,
            &json!({ "reason": "unknown farm" }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(rejected["status"], "Rejected");
    json_with_status(
        app.post_as(&requests, &joiner, &json!({ "message": "again" })).await,
        201,
    )
    .await;
    let approved = json_with_status(
        app.post_as(
            &format!("{requests}/{joiner_id}/approve"),
            &owner,
            &json!({ "role": "Viewer" }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(approved["status"], "Approved");
    let seen = json_with_status(app.get_as(&format!("/api/circuits/{id}"), &joiner).await, 200).await;
    assert_eq!(seen["my_role"], "Viewer");
}

#[tokio::test]
async fn public_join_is_immediate_with_auto_approve() {
    let app = spawn_app().await;
    let (owner, id, _) = public_circuit(&app).await;
    let (joiner, _) = app.register("joiner").await;
    let (asker, _) = app.register("asker").await;
    let path = format!("/api/circuits/{id}/public-settings");
    json_with_status(
        app.put_as(
            &path,
            &owner,
            &settings(json!({ "access_mode": "Protected", "access_password": "porteira-42" })),
        )
        .await,
        200,
    )
    .await;
    let join = format!("/api/circuits/{id}/public/join");
    assert_error(
        app.post_as(&join, &asker, &json!({})).await,
        401,
        "access_password_required",
    )
    .await;
    let pending = json_with_status(
        app.post_as(&join, &asker, &json!({ "access_password": "porteira-42" }))
            .await,
        201,
    )
    .await;
    assert_eq!(pending["status"], "Pending");

    json_with_status(
        app.put_as(&path, &owner, &settings(json!({ "auto_approve_members": true })))
            .await,
        200,
    )
    .await;
    let joined = json_with_status(app.post_as(&join, &joiner, &json!({})).await, 201).await;
    assert_eq!(joined["status"], "Joined");
    assert_eq!(joined["member"]["role"], "Member");
    assert_error(app.post_as(&join, &joiner, &json!({})).await, 409, "already_member").await;
}

/// A circuit with a `Protected` page whose password is `porteira-42`.
async fn protected_circuit(app: &TestApp) -> (String, String) {
    let (owner, id, _) = public_circuit(app).await;
    json_with_status(
        app.put_as(
            &format!("/api/circuits/{id}/public-settings"),
            &owner,
            &settings(json!({ "access_mode": "Protected", "access_password": "porteira-42" })),
        )
        .await,
        200,
    )
    .await;
    (owner, id)
}

#[tokio::test]
async fn a_password_guesser_locks_out_only_itself() {
    let app = spawn_with(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    let (_, id) = protected_circuit(&app).await;
    let page = app.url(&format!("/api/circuits/{id}/public"));
    let read = |from: &'static str, password: &'static str| {
        app.client
            .get(&page)
            .header("x-forwarded-for", from)
            .header("x-access-password", password)
            .send()
    };
    for _ in 0..10 {
        assert_error(
            read("10.9.9.9", "guess").await.unwrap(),
            401,
            "access_password_required",
        )
        .await;
    }
    let locked = read("10.9.9.9", "porteira-42").await.unwrap();
    assert!(locked.headers().contains_key("retry-after"));
    assert_error(locked, 429, "rate_limited").await;
    json_with_status(read("10.1.1.1", "porteira-42").await.unwrap(), 200).await;
}

#[tokio::test]
async fn join_requests_on_a_protected_page_need_its_password() {
    let app = spawn_app().await;
    let (_, id) = protected_circuit(&app).await;
    let (joiner, _) = app.register("joiner").await;
    let requests = format!("/api/circuits/{id}/requests");
    assert_error(
        app.post_as(&requests, &joiner, &json!({ "message": "hi" })).await,
        401,
        "access_password_required",
    )
    .await;
    assert_error(
        app.post_as(&requests, &joiner, &json!({ "access_password": "wrong" }))
            .await,
        401,
        "access_password_required",
    )
    .await;
    let request = json_with_status(
        app.post_as(&requests, &joiner, &json!({ "access_password": "porteira-42" }))
            .await,
        201,
    )
    .await;
    assert_eq!(request["status"], "Pending");
}

#[tokio::test]
async fn item_epcs_resolve_to_the_page_that_publishes_them_and_nothing_else() {
    let app = spawn_with(&[("PUBLIC_BASE_URL", "https://rastreio.example")]).await;
    let (owner, id, dfid) = public_circuit(&app).await;
    let unpublished = app.item_in(&owner, &id, 2).await;
    let path = format!("/api/circuits/{id}/public-settings");

    // Before the page publishes it, the item is as unknown as one that does not exist.
    let not_yet = app.get(&format!("/id/{dfid}")).await;
    assert_error(not_yet, 404, "not_found").await;
    json_with_status(
        app.put_as(&path, &owner, &settings(json!({ "published_items": [dfid] })))
            .await,
        200,
    )
    .await;
    let resolved = app.get(&format!("/id/{dfid}")).await;
    assert_eq!(resolved.status(), 303);
    assert_eq!(
        resolved.headers()["location"],
        format!("https://rastreio.example/p/{id}/items/{dfid}").as_str()
    );
    for hidden in [unpublished, crate::helpers::unknown_dfid(), "not-a-dfid".to_owned()] {
        assert_error(app.get(&format!("/id/{hidden}")).await, 404, "not_found").await;
    }

    // A page taken down or not yet open leads nowhere.
    let later = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    json_with_status(
        app.put_as(
            &path,
            &owner,
            &settings(json!({ "access_mode": "Scheduled", "scheduled_date": later, "published_items": [dfid] })),
        )
        .await,
        200,
    )
    .await;
    assert_error(app.get(&format!("/id/{dfid}")).await, 404, "not_found").await;
}
