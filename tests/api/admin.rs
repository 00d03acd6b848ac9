//! Administration: the bootstrap administrator, users, tiers, statuses, audit.

use serde_json::json;

use crate::auth::token_from;
use crate::helpers::{PASSWORD, TestApp, assert_error, json_with_status, spawn_with};

const ADMIN_PASSWORD: &str = "Adm1n-password!";

pub(crate) async fn app_with_admin() -> (TestApp, String) {
    app_with_admin_and(&[]).await
}

/// The app with the bootstrap administrator `root` and `overrides`; returns root's token.
pub(crate) async fn app_with_admin_and(overrides: &[(&str, &str)]) -> (TestApp, String) {
    let mut vars = vec![
        ("DEFARM_ADMIN_USERNAME", "root"),
        ("DEFARM_ADMIN_EMAIL", "root@example.com"),
        ("DEFARM_ADMIN_PASSWORD", ADMIN_PASSWORD),
    ];
    vars.extend_from_slice(overrides);
    let app = spawn_with(&vars).await;
    let token = json_with_status(app.login("root", ADMIN_PASSWORD).await, 200).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    (app, token)
}

#[tokio::test]
async fn bootstrap_admin_is_created_once() {
    let (mut app, token) = app_with_admin().await;
    let me = json_with_status(app.get_as("/api/users/me", &token).await, 200).await;
    assert_eq!(me["is_admin"], true);
    assert_eq!(me["tier"], "Admin");
    app.restart().await;
    let token = json_with_status(app.login("root", ADMIN_PASSWORD).await, 200).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let users = json_with_status(app.get_as("/api/admin/users?q=root", &token).await, 200).await;
    assert_eq!(users["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn non_admins_are_refused() {
    let (app, _) = app_with_admin().await;
    let (user, _) = app.register("plain").await;
    assert_error(app.get_as("/api/admin/users", &user).await, 403, "admin_required").await;
    assert_error(app.get_as("/api/admin/audit", &user).await, 403, "admin_required").await;
    let tier_admin = app
        .post_as(
            "/api/api-keys",
            &user,
            &json!({ "name": "a", "permissions": { "read": true } }),
        )
        .await;
    assert_eq!(tier_admin.status(), 201);
    let key = json_with_status(tier_admin, 201).await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_error(
        app.get_as("/api/admin/users", &key).await,
        403,
        "insufficient_key_permissions",
    )
    .await;
}

#[tokio::test]
async fn suspending_a_user_refuses_their_live_token_on_the_next_request() {
    let (app, admin) = app_with_admin().await;
    let (user, user_id) = app.register("suspect").await;
    json_with_status(app.get_as("/api/users/me", &user).await, 200).await;
    let body = json!({ "status": "Suspended", "reason": "chargeback" });
    let updated = json_with_status(
        app.put_as(&format!("/api/admin/users/{user_id}/status"), &admin, &body)
            .await,
        200,
    )
    .await;
    assert_eq!(updated["status"], "Suspended");
    assert_error(app.get_as("/api/users/me", &user).await, 403, "account_suspended").await;
    assert_error(app.login("suspect", PASSWORD).await, 403, "account_suspended").await;

    let banned = json!({ "status": "Banned" });
    json_with_status(
        app.put_as(&format!("/api/admin/users/{user_id}/status"), &admin, &banned)
            .await,
        200,
    )
    .await;
    assert_error(app.get_as("/api/users/me", &user).await, 403, "account_banned").await;

    let active = json!({ "status": "Active" });
    json_with_status(
        app.put_as(&format!("/api/admin/users/{user_id}/status"), &admin, &active)
            .await,
        200,
    )
    .await;
    json_with_status(app.get_as("/api/users/me", &user).await, 200).await;
}

#[tokio::test]
async fn tiers_change_and_lists_filter() {
    let (app, admin) = app_with_admin().await;
    let (user, user_id) = app.register("grower").await;
    let updated = json_with_status(
        app.put_as(
            &format!("/api/admin/users/{user_id}/tier"),
            &admin,
            &json!({ "tier": "Enterprise" }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(updated["tier"], "Enterprise");
    let me = json_with_status(app.get_as("/api/users/me", &user).await, 200).await;
    assert_eq!(me["tier"], "Enterprise");
    let enterprise = json_with_status(app.get_as("/api/admin/users?tier=Enterprise", &admin).await, 200).await;
    let names: Vec<&str> = enterprise["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["grower"]);
    assert_error(
        app.get_as("/api/admin/users?tier=Gold", &admin).await,
        400,
        "validation_error",
    )
    .await;
    assert_error(app.get_as("/api/admin/users/user-nope", &admin).await, 404, "not_found").await;
    assert_error(
        app.put_as("/api/admin/users/user-nope/tier", &admin, &json!({ "tier": "Basic" }))
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn audit_records_logins_changes_and_keys() {
    let (app, admin) = app_with_admin().await;
    let (user, user_id) = app.register("audited").await;
    assert_eq!(app.login("audited", "Wrong-pass1!").await.status(), 401);
    json_with_status(app.login("audited", PASSWORD).await, 200).await;
    let key = json_with_status(
        app.post_as(
            "/api/api-keys",
            &user,
            &json!({ "name": "k", "permissions": { "read": true } }),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(
        app.delete_as(&format!("/api/api-keys/{}", key["id"].as_str().unwrap()), &user)
            .await
            .status(),
        204
    );
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

    let mine = json_with_status(app.get_as("/api/users/me/audit", &user).await, 200).await;
    let actions: Vec<&str> = mine["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in [
        "account_registered",
        "login_failed",
        "login_succeeded",
        "api_key_created",
        "api_key_revoked",
        "tier_changed",
    ] {
        assert!(actions.contains(&expected), "{expected} missing from {actions:?}");
    }
    let entry = &mine["data"][0];
    for field in ["id", "action", "target_type", "ip", "request_id", "at"] {
        assert!(!entry[field].is_null(), "{field}: {entry}");
    }

    let failed = json_with_status(app.get_as("/api/admin/audit?action=login_failed", &admin).await, 200).await;
    assert_eq!(failed["data"].as_array().unwrap().len(), 1);
    assert_eq!(failed["data"][0]["actor_id"], user_id.as_str());
    let by_user = json_with_status(
        app.get_as(&format!("/api/admin/audit?user_id={user_id}&limit=500"), &admin)
            .await,
        200,
    )
    .await;
    assert!(by_user["data"].as_array().unwrap().len() >= 6);
    let future = json_with_status(
        app.get_as("/api/admin/audit?from=2999-01-01T00:00:00Z", &admin).await,
        200,
    )
    .await;
    assert!(future["data"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn user_search_takes_underscore_and_percent_literally() {
    let (app, token) = app_with_admin().await;
    app.register("ana_lima").await;
    app.register("anaxlima").await;
    let found = json_with_status(app.get_as("/api/admin/users?q=ana_", &token).await, 200).await;
    let names: Vec<&str> = found["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["ana_lima"]);
    let none = json_with_status(app.get_as("/api/admin/users?q=%25", &token).await, 200).await;
    assert!(none["data"].as_array().unwrap().is_empty(), "% is not a wildcard");
}

/// An administrator creates an account without knowing its password: its owner gets a token by
/// mail, chooses the password, and logs in; the audit names the administrator.
#[tokio::test]
async fn an_administrator_creates_an_account_whose_owner_chooses_the_password() {
    let (app, admin) = app_with_admin().await;
    let body = json!({ "username": "Fazenda.Boa.Vista", "email": "joao@fazenda.example", "tier": "Professional" });
    let created = json_with_status(app.post_as("/api/admin/users", &admin, &body).await, 201).await;
    assert_eq!(created["username"], "Fazenda.Boa.Vista");
    assert_eq!(created["tier"], "Professional");
    assert_eq!(created["status"], "Active");
    assert_eq!(created["is_admin"], false);
    let user_id = created["user_id"].as_str().unwrap();

    let mail = app.mail.wait_for(1).await;
    assert_eq!(mail[0].to, "joao@fazenda.example");
    assert!(mail[0].body.contains("An administrator created"), "{}", mail[0].body);
    let reset = json!({ "token": token_from(&mail[0].body), "new_password": PASSWORD });
    assert_eq!(app.post_json("/api/auth/reset-password", &reset).await.status(), 204);
    json_with_status(app.login("fazenda.boa.vista", PASSWORD).await, 200).await;

    let audit = json_with_status(
        app.get_as(
            &format!("/api/admin/audit?user_id={user_id}&action=account_created"),
            &admin,
        )
        .await,
        200,
    )
    .await;
    let root = json_with_status(app.get_as("/api/users/me", &admin).await, 200).await;
    assert_eq!(audit["data"][0]["actor_id"], root["user_id"]);

    let again = json!({ "username": "fazenda.boa.vista", "email": "other@fazenda.example" });
    assert_error(
        app.post_as("/api/admin/users", &admin, &again).await,
        409,
        "username_taken",
    )
    .await;
    let again = json!({ "username": "outra", "email": "JOAO@fazenda.example" });
    assert_error(
        app.post_as("/api/admin/users", &admin, &again).await,
        409,
        "email_taken",
    )
    .await;
    let suspended = json!({ "username": "suspensa", "email": "s@fazenda.example", "status": "Suspended" });
    let created = json_with_status(app.post_as("/api/admin/users", &admin, &suspended).await, 201).await;
    assert_eq!(created["status"], "Suspended");
}

#[tokio::test]
async fn an_administrator_changes_login_names_and_sends_reset_tokens() {
    let (app, admin) = app_with_admin().await;
    let (_, user_id) = app.register("grower").await;
    app.register("neighbour").await;
    let path = format!("/api/admin/users/{user_id}");
    let change = json!({ "username": "grower.sul", "email": "grower@sul.example" });
    let changed = json_with_status(app.patch_as(&path, &admin, &change).await, 200).await;
    assert_eq!(changed["username"], "grower.sul");
    assert_eq!(changed["email"], "grower@sul.example");
    json_with_status(app.login("GROWER@sul.example", PASSWORD).await, 200).await;
    json_with_status(app.login("grower.sul", PASSWORD).await, 200).await;
    assert_error(app.login("grower", PASSWORD).await, 401, "invalid_credentials").await;

    let only_email = json!({ "email": "g@sul.example" });
    let changed = json_with_status(app.patch_as(&path, &admin, &only_email).await, 200).await;
    assert_eq!(changed["username"], "grower.sul");
    assert_error(app.patch_as(&path, &admin, &json!({})).await, 400, "validation_error").await;
    let taken = json!({ "username": "Neighbour" });
    assert_error(app.patch_as(&path, &admin, &taken).await, 409, "username_taken").await;
    let bad = json!({ "email": "not an email" });
    assert_error(app.patch_as(&path, &admin, &bad).await, 400, "validation_error").await;
    let unknown = "/api/admin/users/user-00000000-0000-0000-0000-000000000000";
    assert_error(app.patch_as(unknown, &admin, &only_email).await, 404, "not_found").await;

    // Each email change was told to the address it left.
    let mail = app.mail.wait_for(2).await;
    assert_eq!(mail[0].to, "grower@example.com");
    assert_eq!(mail[1].to, "grower@sul.example");
    assert!(mail[1].body.contains("g@sul.example"), "{}", mail[1].body);

    let sent = app.post_as(&format!("{path}/reset-password"), &admin, &json!({})).await;
    let sent = json_with_status(sent, 202).await;
    assert!(sent["message"].is_string());
    let mail = app.mail.wait_for(3).await;
    assert_eq!(mail[2].to, "g@sul.example");
    let reset = json!({ "token": token_from(&mail[2].body), "new_password": "N3w-password!" });
    assert_eq!(app.post_json("/api/auth/reset-password", &reset).await.status(), 204);
    json_with_status(app.login("grower.sul", "N3w-password!").await, 200).await;

    // Another administrator's login names are theirs to change.
    let root = json_with_status(app.get_as("/api/users/me", &admin).await, 200).await;
    let own = format!("/api/admin/users/{}", root["user_id"].as_str().unwrap());
    let body = json!({ "email": "root@ops.example" });
    json_with_status(app.patch_as(&own, &admin, &body).await, 200).await;
    let other = json!({ "username": "second", "email": "second@example.com" });
    let other = json_with_status(app.post_as("/api/admin/users", &admin, &other).await, 201).await;
    let other_id = other["user_id"].as_str().unwrap();
    let granted = std::process::Command::new(env!("CARGO_BIN_EXE_defarm"))
        .args(["admin", "set-admin", other_id])
        .envs(&app.vars)
        .output()
        .unwrap();
    assert!(granted.status.success(), "{}", String::from_utf8_lossy(&granted.stderr));
    let path = format!("/api/admin/users/{other_id}");
    assert_error(app.patch_as(&path, &admin, &body).await, 403, "forbidden").await;
}
