//! API keys: shown once, stored hashed, restricted by permission, IP, endpoint, expiry and rate.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, eventually, json_with_status, spawn_app, spawn_with};

async fn create_key(app: &TestApp, session: &str, body: Value) -> (String, Value) {
    let created = json_with_status(app.post_as("/api/api-keys", session, &body).await, 201).await;
    (created["key"].as_str().unwrap().to_owned(), created)
}

fn read_only() -> Value {
    json!({ "name": "reader", "permissions": { "read": true } })
}

#[tokio::test]
async fn key_is_shown_once_and_works_both_ways() {
    let app = spawn_app().await;
    let (session, user_id) = app.register("kiko").await;
    let (key, created) = create_key(
        &app,
        &session,
        json!({ "name": "erp", "permissions": { "read": true, "write": true } }),
    )
    .await;
    assert!(key.starts_with("dfm_") && key.len() == 36);
    assert!(key[4..].chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(created["key_prefix"], &key[4..12]);
    assert_eq!(
        created["permissions"],
        json!({ "read": true, "write": true, "admin": false })
    );
    assert_eq!(created["is_active"], true);

    let listed = json_with_status(app.get_as("/api/api-keys", &session).await, 200).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert!(listed["next_cursor"].is_null());
    assert!(listed["data"][0].get("key").is_none());
    assert!(!listed.to_string().contains(&key[4..]));

    let me = json_with_status(
        app.client
            .get(app.url("/api/users/me"))
            .header("x-api-key", &key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(me["user_id"], user_id.as_str());
    let me = json_with_status(app.get_as("/api/users/me", &key).await, 200).await;
    assert_eq!(me["user_id"], user_id.as_str());

    let id = created["id"].as_str().unwrap();
    let usage = json_with_status(app.get_as(&format!("/api/api-keys/{id}/usage"), &session).await, 200).await;
    assert_eq!(usage["usage_count"], 2);
    assert_eq!(usage["requests_last_hour"], 2);
    assert!(usage["last_used_at"].is_string());
}

#[tokio::test]
async fn revoked_key_stops_at_once() {
    let app = spawn_app().await;
    let (session, _) = app.register("nina").await;
    let (key, created) = create_key(&app, &session, read_only()).await;
    json_with_status(app.get_as("/api/users/me", &key).await, 200).await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        app.delete_as(&format!("/api/api-keys/{id}"), &session).await.status(),
        204
    );
    assert_error(app.get_as("/api/users/me", &key).await, 401, "invalid_api_key").await;
    assert_error(
        app.get_as(&format!("/api/api-keys/{id}"), &session).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn deactivated_key_is_refused_and_reactivated_works() {
    let app = spawn_app().await;
    let (session, _) = app.register("otto").await;
    let (key, created) = create_key(&app, &session, read_only()).await;
    let path = format!("/api/api-keys/{}", created["id"].as_str().unwrap());
    let updated = json_with_status(
        app.patch_as(&path, &session, &json!({ "is_active": false, "name": "renamed" }))
            .await,
        200,
    )
    .await;
    assert_eq!(updated["name"], "renamed");
    assert_error(app.get_as("/api/users/me", &key).await, 401, "invalid_api_key").await;
    json_with_status(app.patch_as(&path, &session, &json!({ "is_active": true })).await, 200).await;
    json_with_status(app.get_as("/api/users/me", &key).await, 200).await;
}

#[tokio::test]
async fn read_only_key_is_refused_on_post() {
    let app = spawn_app().await;
    let (session, _) = app.register("rolf").await;
    let (key, _) = create_key(&app, &session, read_only()).await;
    assert_error(
        app.post_as("/api/items/local", &key, &json!({})).await,
        403,
        "insufficient_key_permissions",
    )
    .await;
    json_with_status(app.get_as("/api/items/local", &key).await, 200).await;
    let (writer, _) = create_key(
        &app,
        &session,
        json!({ "name": "writer", "permissions": { "write": true } }),
    )
    .await;
    json_with_status(app.post_as("/api/items/local", &writer, &json!({})).await, 201).await;
    let admin_route = app
        .put_as("/api/admin/users/x/tier", &writer, &json!({ "tier": "Basic" }))
        .await;
    assert_error(admin_route, 403, "insufficient_key_permissions").await;
}

#[tokio::test]
async fn expired_key_is_401() {
    let app = spawn_app().await;
    let (session, _) = app.register("eva").await;
    let past = (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
    let rejected = app
        .post_as(
            "/api/api-keys",
            &session,
            &json!({ "name": "old", "permissions": { "read": true }, "expires_at": past }),
        )
        .await;
    assert_error(rejected, 400, "validation_error").await;
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let (key, _) = create_key(
        &app,
        &session,
        json!({ "name": "soon", "permissions": { "read": true }, "expires_at": soon }),
    )
    .await;
    json_with_status(app.get_as("/api/users/me", &key).await, 200).await;
    let expired = eventually(10, || async {
        let response = app.get_as("/api/users/me", &key).await;
        (response.status() != 200).then_some(response)
    })
    .await
    .expect("the key expires");
    assert_error(expired, 401, "invalid_api_key").await;
}

#[tokio::test]
async fn ip_restriction_uses_the_socket_unless_behind_a_trusted_proxy() {
    let app = spawn_with(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    let (session, _) = app.register("ivo").await;
    let (key, _) = create_key(
        &app,
        &session,
        json!({ "name": "office", "permissions": { "read": true }, "allowed_ips": ["10.0.0.0/8"] }),
    )
    .await;
    assert_error(app.get_as("/api/users/me", &key).await, 403, "ip_not_allowed").await;
    let from_office = app
        .with_token(reqwest::Method::GET, "/api/users/me", &key)
        .header("x-forwarded-for", "10.1.2.3")
        .send()
        .await
        .unwrap();
    json_with_status(from_office, 200).await;

    let untrusted = spawn_app().await;
    let (session, _) = untrusted.register("ivo").await;
    let (key, _) = create_key(
        &untrusted,
        &session,
        json!({ "name": "office", "permissions": { "read": true }, "allowed_ips": ["10.0.0.0/8"] }),
    )
    .await;
    let spoofed = untrusted
        .with_token(reqwest::Method::GET, "/api/users/me", &key)
        .header("x-forwarded-for", "10.1.2.3")
        .send()
        .await
        .unwrap();
    assert_error(spoofed, 403, "ip_not_allowed").await;
}

#[tokio::test]
async fn endpoint_restriction() {
    let app = spawn_app().await;
    let (session, _) = app.register("ema").await;
    let (key, _) = create_key(
        &app,
        &session,
        json!({ "name": "items-only", "permissions": { "read": true }, "allowed_endpoints": ["/api/items"] }),
    )
    .await;
    assert_error(app.get_as("/api/users/me", &key).await, 403, "endpoint_not_allowed").await;
    let bad = app
        .post_as(
            "/api/api-keys",
            &session,
            &json!({ "name": "x", "permissions": { "read": true }, "allowed_endpoints": ["api/items"] }),
        )
        .await;
    assert_error(bad, 400, "validation_error").await;
}

#[tokio::test]
async fn per_key_rate_limit_returns_429() {
    let app = spawn_app().await;
    let (session, _) = app.register("ugo").await;
    let (key, _) = create_key(
        &app,
        &session,
        json!({ "name": "slow", "permissions": { "read": true }, "rate_limit_per_hour": 2 }),
    )
    .await;
    for _ in 0..2 {
        json_with_status(app.get_as("/api/users/me", &key).await, 200).await;
    }
    let limited = app.get_as("/api/users/me", &key).await;
    assert_eq!(limited.headers()["ratelimit-limit"], "2");
    assert!(limited.headers().contains_key("retry-after"));
    assert_error(limited, 429, "rate_limited").await;
    // The owner's session is not the key: it still works.
    json_with_status(app.get_as("/api/users/me", &session).await, 200).await;
}

#[tokio::test]
async fn keys_cannot_manage_keys_or_escalate() {
    let app = spawn_app().await;
    let (session, _) = app.register("zeca").await;
    let (key, _) = create_key(
        &app,
        &session,
        json!({ "name": "all", "permissions": { "read": true, "write": true } }),
    )
    .await;
    assert_error(app.get_as("/api/api-keys", &key).await, 403, "session_required").await;
    assert_error(
        app.post_as("/api/auth/logout", &key, &json!({})).await,
        403,
        "session_required",
    )
    .await;
    let escalate = app
        .post_as(
            "/api/api-keys",
            &session,
            &json!({ "name": "root", "permissions": { "admin": true } }),
        )
        .await;
    assert_error(escalate, 403, "admin_required").await;
    let nothing = app
        .post_as("/api/api-keys", &session, &json!({ "name": "none", "permissions": {} }))
        .await;
    assert_error(nothing, 400, "validation_error").await;
}

#[tokio::test]
async fn keys_are_private_to_their_owner() {
    let app = spawn_app().await;
    let (alice, _) = app.register("alice").await;
    let (bob, _) = app.register("bob").await;
    let (_, created) = create_key(&app, &alice, read_only()).await;
    let path = format!("/api/api-keys/{}", created["id"].as_str().unwrap());
    assert_error(app.get_as(&path, &bob).await, 404, "not_found").await;
    assert_error(
        app.patch_as(&path, &bob, &json!({ "name": "mine" })).await,
        404,
        "not_found",
    )
    .await;
    assert_error(app.delete_as(&path, &bob).await, 404, "not_found").await;
    assert_error(app.get_as(&format!("{path}/usage"), &bob).await, 404, "not_found").await;
    let bobs = json_with_status(app.get_as("/api/api-keys", &bob).await, 200).await;
    assert!(bobs["data"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn key_lists_paginate() {
    let app = spawn_app().await;
    let (session, _) = app.register("paula").await;
    for i in 0..5 {
        create_key(
            &app,
            &session,
            json!({ "name": format!("k{i}"), "permissions": { "read": true } }),
        )
        .await;
    }
    let first = json_with_status(app.get_as("/api/api-keys?limit=2", &session).await, 200).await;
    assert_eq!(first["data"].as_array().unwrap().len(), 2);
    let mut names: Vec<String> = first["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap().to_owned())
        .collect();
    let mut cursor = first["next_cursor"].as_str().unwrap().to_owned();
    loop {
        let page = json_with_status(
            app.get_as(&format!("/api/api-keys?limit=2&cursor={cursor}"), &session)
                .await,
            200,
        )
        .await;
        names.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["name"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(names, vec!["k4", "k3", "k2", "k1", "k0"]);
    assert_error(
        app.get_as("/api/api-keys?limit=0", &session).await,
        400,
        "validation_error",
    )
    .await;
    assert_error(
        app.get_as("/api/api-keys?limit=501", &session).await,
        400,
        "validation_error",
    )
    .await;
    assert_error(
        app.get_as("/api/api-keys?cursor=garbage!", &session).await,
        400,
        "validation_error",
    )
    .await;
}

async fn key_status(app: &TestApp, key: &str) -> u16 {
    app.client
        .get(app.url("/api/users/me"))
        .header("x-api-key", key)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn account_recovery_and_logout_all_can_end_every_api_key() {
    let app = spawn_app().await;
    let (session, _) = app.register("nina").await;
    let (first, _) = create_key(&app, &session, read_only()).await;
    // Used once, so that the guard has it cached: revocation must reach the cache too.
    assert_eq!(key_status(&app, &first).await, 200);

    // Without the flag, keys outlive a logout-all and a password change.
    let logout_all = app.post_as("/api/auth/logout-all", &session, &json!({})).await;
    assert_eq!(logout_all.status(), 204);
    assert_eq!(key_status(&app, &first).await, 200);
    let session = json_with_status(app.login("nina", crate::helpers::PASSWORD).await, 200).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let flagged = json!({ "revoke_api_keys": true });
    assert_eq!(
        app.post_as("/api/auth/logout-all", &session, &flagged).await.status(),
        204
    );
    assert_eq!(key_status(&app, &first).await, 401);

    let session = json_with_status(app.login("nina", crate::helpers::PASSWORD).await, 200).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (second, _) = create_key(&app, &session, read_only()).await;
    assert_eq!(key_status(&app, &second).await, 200);
    let change = json!({ "current_password": crate::helpers::PASSWORD, "new_password": "Changed-pass-1!", "revoke_api_keys": true });
    assert_eq!(
        app.post_as("/api/auth/change-password", &session, &change)
            .await
            .status(),
        204
    );
    assert_eq!(key_status(&app, &second).await, 401);

    // A password reset always ends them.
    let (third, _) = create_key(&app, &session, read_only()).await;
    assert_eq!(key_status(&app, &third).await, 200);
    let forgot = json!({ "username": "nina" });
    assert_eq!(app.post_json("/api/auth/forgot-password", &forgot).await.status(), 202);
    let token = crate::auth::token_from(&app.mail.wait_for(1).await[0].body);
    let reset = json!({ "token": token, "new_password": "Res3t-password!" });
    assert_eq!(app.post_json("/api/auth/reset-password", &reset).await.status(), 204);
    assert_eq!(key_status(&app, &third).await, 401);
    let session = json_with_status(app.login("nina", "Res3t-password!").await, 200).await;
    let session = session["token"].as_str().unwrap();
    let listed = json_with_status(app.get_as("/api/api-keys", session).await, 200).await;
    assert!(listed["data"].as_array().unwrap().is_empty());
}
