//! Accounts and sessions: registration rules, login, tokens, passwords, resets, lockout.

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::json;

use crate::helpers::{PASSWORD, assert_error, eventually, json_with_status, spawn_app, spawn_with};

#[tokio::test]
async fn register_returns_a_working_token() {
    let app = spawn_app().await;
    let body =
        json!({ "username": "maria", "email": "maria@example.com", "password": PASSWORD, "workspace_name": "Fazenda" });
    let created = json_with_status(app.post_json("/api/auth/register", &body).await, 201).await;
    assert_eq!(created["token_type"], "Bearer");
    assert!(created["user_id"].as_str().unwrap().starts_with("user-"));
    assert!(created["expires_at"].is_string());
    let token = created["token"].as_str().unwrap();

    let profile = json_with_status(app.get_as("/api/auth/profile", token).await, 200).await;
    assert_eq!(profile["username"], "maria");
    assert_eq!(profile["email"], "maria@example.com");
    assert_eq!(profile["tier"], "Basic");
    assert_eq!(profile["status"], "Active");
    assert_eq!(profile["is_admin"], false);
    assert_eq!(profile["workspace_id"], created["workspace_id"]);
    assert!(profile.get("password_hash").is_none());
    let me = json_with_status(app.get_as("/api/users/me", token).await, 200).await;
    assert_eq!(me, profile);
}

#[tokio::test]
async fn registration_rules() {
    let app = spawn_app().await;
    app.register("joao").await;
    let cases = [
        (
            json!({ "username": "jo", "email": "a@b.co", "password": PASSWORD }),
            400,
            "validation_error",
        ),
        (
            json!({ "username": "has space", "email": "a@b.co", "password": PASSWORD }),
            400,
            "validation_error",
        ),
        (
            json!({ "username": "ana", "email": "not-an-email", "password": PASSWORD }),
            400,
            "validation_error",
        ),
        (
            json!({ "username": "ana", "email": "ana@b.co", "password": "short" }),
            400,
            "weak_password",
        ),
        (
            json!({ "username": "JOAO", "email": "other@b.co", "password": PASSWORD }),
            409,
            "username_taken",
        ),
        (
            json!({ "username": "ana", "email": "JOAO@example.com", "password": PASSWORD }),
            409,
            "email_taken",
        ),
    ];
    for (body, status, code) in cases {
        assert_error(app.post_json("/api/auth/register", &body).await, status, code).await;
    }
    let weak = assert_error(
        app.post_json(
            "/api/auth/register",
            &json!({ "username": "ana", "email": "ana@b.co", "password": "alllowercase" }),
        )
        .await,
        400,
        "weak_password",
    )
    .await;
    let rules = weak["details"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 3, "{weak}"); // uppercase, digit, symbol
}

#[tokio::test]
async fn malformed_json_and_wrong_content_type_have_the_error_shape() {
    let app = spawn_app().await;
    let malformed = app
        .client
        .post(app.url("/api/auth/login"))
        .header("content-type", "application/json")
        .body("{\"username\": ")
        .send()
        .await
        .unwrap();
    assert_error(malformed, 400, "validation_error").await;
    let wrong_type = app
        .client
        .post(app.url("/api/auth/login"))
        .header("content-type", "text/plain")
        .body("username=a")
        .send()
        .await
        .unwrap();
    assert_error(wrong_type, 415, "unsupported_media_type").await;
    let wrong_types = app
        .post_json("/api/auth/login", &json!({ "username": 5, "password": [] }))
        .await;
    assert_error(wrong_types, 400, "validation_error").await;
}

#[tokio::test]
async fn login_by_username_or_email_and_uniform_failures() {
    let app = spawn_app().await;
    app.register("pedro").await;
    json_with_status(app.login("pedro", PASSWORD).await, 200).await;
    json_with_status(app.login("PEDRO@example.com", PASSWORD).await, 200).await;
    let wrong_password = assert_error(app.login("pedro", "Wrong-pass1!").await, 401, "invalid_credentials").await;
    let unknown_user = assert_error(app.login("nobody", PASSWORD).await, 401, "invalid_credentials").await;
    assert_eq!(wrong_password["error"], unknown_user["error"]);
}

#[tokio::test]
async fn logout_revokes_that_session_only() {
    let app = spawn_app().await;
    let (first, _) = app.register("lucia").await;
    let second = json_with_status(app.login("lucia", PASSWORD).await, 200).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.post_as("/api/auth/logout", &first, &json!({})).await.status(), 204);
    assert_error(app.get_as("/api/users/me", &first).await, 401, "session_revoked").await;
    json_with_status(app.get_as("/api/users/me", &second).await, 200).await;
}

#[tokio::test]
async fn logout_all_revokes_every_session() {
    let app = spawn_app().await;
    let (first, _) = app.register("carla").await;
    let second = json_with_status(app.login("carla", PASSWORD).await, 200).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    json_with_status(app.get_as("/api/users/me", &second).await, 200).await;
    assert_eq!(
        app.post_as("/api/auth/logout-all", &first, &json!({})).await.status(),
        204
    );
    assert_error(app.get_as("/api/users/me", &first).await, 401, "session_revoked").await;
    assert_error(app.get_as("/api/users/me", &second).await, 401, "session_revoked").await;
    json_with_status(app.login("carla", PASSWORD).await, 200).await;
}

#[tokio::test]
async fn refresh_extends_the_same_session() {
    let app = spawn_app().await;
    let (token, user_id) = app.register("rafa").await;
    // A token names its issue time in whole seconds: refresh until the second has turned.
    let refreshed = eventually(5, || async {
        let refreshed = json_with_status(app.post_as("/api/auth/refresh", &token, &json!({})).await, 200).await;
        (refreshed["token"] != token.as_str()).then_some(refreshed)
    })
    .await
    .expect("a new token");
    assert_eq!(refreshed["user_id"], user_id.as_str());
    let new_token = refreshed["token"].as_str().unwrap();
    // Same session: logging out with the new token ends the old one too.
    assert_eq!(
        app.post_as("/api/auth/logout", new_token, &json!({})).await.status(),
        204
    );
    assert_error(app.get_as("/api/users/me", &token).await, 401, "session_revoked").await;
}

#[tokio::test]
async fn expired_and_forged_tokens_are_401() {
    let app = spawn_app().await;
    let (token, user_id) = app.register("tiago").await;
    let secret = app.vars["JWT_SECRET"].as_bytes();
    let claims = |exp: i64| json!({ "sub": user_id, "sid": "whatever", "iat": 0, "exp": exp });
    let expired = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims(chrono::Utc::now().timestamp() - 10),
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .unwrap();
    assert_error(app.get_as("/api/users/me", &expired).await, 401, "token_expired").await;
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims(chrono::Utc::now().timestamp() + 600),
        &jsonwebtoken::EncodingKey::from_secret(b"not-the-server-secret-not-the-server"),
    )
    .unwrap();
    assert_error(app.get_as("/api/users/me", &forged).await, 401, "invalid_token").await;
    // A valid signature over a session that does not exist.
    let unknown_session = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims(chrono::Utc::now().timestamp() + 600),
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .unwrap();
    assert_error(
        app.get_as("/api/users/me", &unknown_session).await,
        401,
        "session_revoked",
    )
    .await;
    assert_error(app.get_as("/api/users/me", "garbage").await, 401, "invalid_token").await;
    let no_credentials = app.get("/api/users/me").await;
    assert_error(no_credentials, 401, "unauthorized").await;
    json_with_status(app.get_as("/api/users/me", &token).await, 200).await;
}

#[tokio::test]
async fn change_password_keeps_this_session_and_revokes_others() {
    let app = spawn_app().await;
    let (current, _) = app.register("bia").await;
    let other = json_with_status(app.login("bia", PASSWORD).await, 200).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let wrong = app
        .post_as(
            "/api/auth/change-password",
            &current,
            &json!({ "current_password": "Nope-nope1!", "new_password": "N3w-password!" }),
        )
        .await;
    assert_error(wrong, 400, "invalid_current_password").await;
    let weak = app
        .post_as(
            "/api/auth/change-password",
            &current,
            &json!({ "current_password": PASSWORD, "new_password": "weak" }),
        )
        .await;
    assert_error(weak, 400, "weak_password").await;
    let changed = app
        .post_as(
            "/api/auth/change-password",
            &current,
            &json!({ "current_password": PASSWORD, "new_password": "N3w-password!" }),
        )
        .await;
    assert_eq!(changed.status(), 204);
    json_with_status(app.get_as("/api/users/me", &current).await, 200).await;
    assert_error(app.get_as("/api/users/me", &other).await, 401, "session_revoked").await;
    assert_error(app.login("bia", PASSWORD).await, 401, "invalid_credentials").await;
    json_with_status(app.login("bia", "N3w-password!").await, 200).await;
}

pub(crate) fn token_from(body: &str) -> String {
    body.lines()
        .map(str::trim)
        .find(|line| line.len() > 30 && !line.contains(' '))
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn forgot_and_reset_password_once() {
    let app = spawn_app().await;
    let (session, _) = app.register("duda").await;
    let unknown = json_with_status(
        app.post_json("/api/auth/forgot-password", &json!({ "email": "ghost@example.com" }))
            .await,
        202,
    )
    .await;
    let known = json_with_status(
        app.post_json("/api/auth/forgot-password", &json!({ "email": "duda@example.com" }))
            .await,
        202,
    )
    .await;
    assert_eq!(unknown, known);
    // Sent in order: by the time the known account's message is out, the unknown one was handled.
    let messages = app.mail.wait_for(1).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].to, "duda@example.com");
    let token = token_from(&messages[0].body);

    let reset = app
        .post_json(
            "/api/auth/reset-password",
            &json!({ "token": token, "new_password": "Res3t-password!" }),
        )
        .await;
    assert_eq!(reset.status(), 204);
    assert_error(app.get_as("/api/users/me", &session).await, 401, "session_revoked").await;
    json_with_status(app.login("duda", "Res3t-password!").await, 200).await;
    let again = app
        .post_json(
            "/api/auth/reset-password",
            &json!({ "token": token, "new_password": "Another-pass1!" }),
        )
        .await;
    assert_error(again, 400, "invalid_token").await;
    let bogus = app
        .post_json(
            "/api/auth/reset-password",
            &json!({ "token": "bogus", "new_password": "Another-pass1!" }),
        )
        .await;
    assert_error(bogus, 400, "invalid_token").await;
}

#[tokio::test]
async fn concurrent_resets_with_one_token_succeed_once() {
    let app = spawn_app().await;
    app.register("gabi").await;
    json_with_status(
        app.post_json("/api/auth/forgot-password", &json!({ "username": "gabi" }))
            .await,
        202,
    )
    .await;
    let token = token_from(&app.mail.wait_for(1).await[0].body);
    let attempts = (0..8).map(|i| {
        let body = json!({ "token": token, "new_password": format!("Parallel-{i}pass!") });
        let request = app.client.post(app.url("/api/auth/reset-password")).json(&body);
        async move { request.send().await.unwrap().status().as_u16() }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    assert_eq!(statuses.iter().filter(|s| **s == 204).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 204 || *s == 400), "{statuses:?}");
}

#[tokio::test]
async fn lockout_after_five_failures_per_account_and_ip() {
    let app = spawn_app().await;
    app.register("lara").await;
    for _ in 0..5 {
        assert_error(app.login("lara", "Wrong-pass1!").await, 401, "invalid_credentials").await;
    }
    let locked = app.login("lara", PASSWORD).await;
    assert!(locked.headers().get("retry-after").is_some());
    let retry: u64 = locked.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 900, "{retry}");
    assert_error(locked, 429, "login_locked").await;
    // Unknown names lock the same way, so locking says nothing about existence.
    for _ in 0..5 {
        assert_error(app.login("ghost", "Wrong-pass1!").await, 401, "invalid_credentials").await;
    }
    assert_error(app.login("ghost", "Wrong-pass1!").await, 429, "login_locked").await;
}

#[tokio::test]
async fn legacy_bcrypt_hash_is_upgraded_on_login() {
    let app = spawn_app().await;
    let (_, user_id) = app.register("legado").await;
    let legacy = bcrypt::hash("Legacy-pass1!", 4).unwrap();
    let db = app.database().await;
    let backend = db.get_database_backend();
    let placeholder = |n: usize| {
        if backend == DbBackend::Postgres {
            format!("${n}")
        } else {
            "?".to_owned()
        }
    };
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        format!(
            "UPDATE users SET password_hash = {} WHERE id = {}",
            placeholder(1),
            placeholder(2)
        ),
        [legacy.into(), user_id.clone().into()],
    ))
    .await
    .unwrap();
    assert_error(app.login("legado", "wrong-Pass1!").await, 401, "invalid_credentials").await;
    json_with_status(app.login("legado", "Legacy-pass1!").await, 200).await;
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            format!("SELECT password_hash FROM users WHERE id = {}", placeholder(1)),
            [user_id.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    let stored: String = row.try_get("", "password_hash").unwrap();
    assert!(stored.starts_with("$argon2id$"), "{stored}");
    json_with_status(app.login("legado", "Legacy-pass1!").await, 200).await;
}

#[tokio::test]
async fn per_user_rate_limit_by_tier() {
    let app = spawn_with(&[("RATE_LIMIT_PER_HOUR_BASIC", "3")]).await;
    let (token, _) = app.register("rita").await;
    for remaining in [2, 1, 0] {
        let response = app.get_as("/api/users/me", &token).await;
        assert_eq!(response.headers()["ratelimit-limit"], "3");
        assert_eq!(
            response.headers()["ratelimit-remaining"],
            remaining.to_string().as_str()
        );
        assert!(response.headers().contains_key("ratelimit-reset"));
        json_with_status(response, 200).await;
    }
    let limited = app.get_as("/api/users/me", &token).await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_eq!(limited.headers()["ratelimit-remaining"], "0");
    assert_error(limited, 429, "rate_limited").await;
}

#[tokio::test]
async fn public_routes_are_limited_per_ip_and_operations_are_not() {
    let app = spawn_with(&[("RATE_LIMIT_PUBLIC_PER_MINUTE", "2")]).await;
    for _ in 0..2 {
        assert_error(app.login("x-user", "Wrong-pass1!").await, 401, "invalid_credentials").await;
    }
    let limited = app.login("x-user", "Wrong-pass1!").await;
    assert_eq!(limited.headers()["ratelimit-limit"], "2");
    assert_error(limited, 429, "rate_limited").await;
    for _ in 0..5 {
        json_with_status(app.get("/health").await, 200).await;
    }
}

#[tokio::test]
async fn an_ipv6_slash_64_counts_as_one_client_for_login_lockouts() {
    let app = crate::helpers::spawn_with(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    app.register("vera").await;
    let login = |from: String, password: &'static str| {
        app.client
            .post(app.url("/api/auth/login"))
            .header("x-forwarded-for", from)
            .json(&json!({ "username": "vera", "password": password }))
            .send()
    };
    // Five addresses of one /64, one wrong password each.
    for host in 1..=5 {
        let from = format!("2001:db8:aa:bb::{host:x}");
        assert_error(login(from, "Wrong-pass1!").await.unwrap(), 401, "invalid_credentials").await;
    }
    assert_error(
        login("2001:db8:aa:bb::99".into(), PASSWORD).await.unwrap(),
        429,
        "login_locked",
    )
    .await;
    // Another /64 is another client.
    json_with_status(login("2001:db8:aa:cc::1".into(), PASSWORD).await.unwrap(), 200).await;
}

#[tokio::test]
async fn forgot_password_answers_before_any_mail_work() {
    let app = spawn_app().await;
    app.register("bela").await;
    let stalled = app.mail.stalled.lock().await;
    // The mail server does not answer: an answer that waited for it would never come.
    for login in ["bela", "nobody"] {
        let body = json!({ "username": login });
        let answer = app.post_json("/api/auth/forgot-password", &body);
        let answer = tokio::time::timeout(std::time::Duration::from_secs(5), answer)
            .await
            .expect("forgot-password waited for the mail");
        assert_eq!(answer.status(), 202);
    }
    assert!(app.mail.messages().is_empty());
    drop(stalled);
    let messages = app.mail.wait_for(1).await;
    assert_eq!(messages[0].to, "bela@example.com");
}
