//! The pages people open in a browser (WEB.md): the same gate as the public page API, as HTML
//! with a strict policy, in Portuguese and English. The browser itself (the verification
//! panel, axe-core, screenshots) is driven by tests/browser/ in CI.

use std::process::Command;

use serde_json::{Value, json};

use crate::helpers::{TestApp, json_with_status, spawn_app, spawn_with};

/// A circuit of a new user `owner{n}` with a public page (`extra` settings) publishing one item with
/// a `Public` and a `CircuitOnly` event.
async fn published(app: &TestApp, n: usize, extra: Value) -> (String, String, String) {
    let (owner, _) = app.register(&format!("owner{n}")).await;
    let id = app
        .circuit(&owner, json!({ "permissions": { "allow_public_visibility": true } }))
        .await;
    let dfid = app.item_in(&owner, &id, 10 * n).await;
    for (event_type, visibility) in [("colheita", "Public"), ("segredo", "CircuitOnly")] {
        let body = json!({
            "dfid": dfid, "event_type": event_type, "visibility": visibility,
            "metadata": { "fazenda": "Santa Rita", "sacas": 12 }
        });
        json_with_status(app.post_as("/api/events", &owner, &body).await, 201).await;
    }
    let mut settings = json!({
        "enabled": true, "access_mode": "Public", "public_name": "Café <Sul>",
        "tagline": "Do pé à xícara", "primary_color": "#ffee00", "published_items": [dfid]
    });
    if let (Some(settings), Some(extra)) = (settings.as_object_mut(), extra.as_object()) {
        settings.extend(extra.clone());
    }
    let path = format!("/api/circuits/{id}/public-settings");
    json_with_status(app.put_as(&path, &owner, &settings).await, 200).await;
    (owner, id, dfid)
}

async fn page(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> (u16, reqwest::header::HeaderMap, String) {
    let mut request = app.client.get(app.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

/// Sends a `Protected` page's password form.
async fn unlock(app: &TestApp, circuit_id: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    app.client
        .post(app.url(&format!("/p/{circuit_id}/unlock")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

fn assert_strict_page(headers: &reqwest::header::HeaderMap) {
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let csp = headers["content-security-policy"].to_str().unwrap();
    for rule in [
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(rule), "{csp}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
}

#[tokio::test]
async fn an_item_page_shows_public_history_in_both_languages_under_a_strict_policy() {
    let app = spawn_app().await;
    let (_, id, dfid) = published(&app, 1, json!({})).await;
    let path = format!("/p/{id}/items/{dfid}");

    let (status, headers, body) = page(&app, &path, &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_strict_page(&headers);
    assert!(body.contains(r#"<html lang="pt-BR">"#), "Portuguese first");
    assert!(body.contains("Histórico") && body.contains("colheita") && body.contains("Santa Rita"));
    assert!(!body.contains("segredo"), "a CircuitOnly event is not public");
    assert!(body.contains(r#"data-verification="pending""#));
    assert!(body.contains(&format!(r#"data-proof="{path}/proof.json""#)));
    assert!(body.contains("Café &lt;Sul&gt;"), "values are escaped");
    assert!(body.len() < 100_000);
    // Every address the page loads is on this origin.
    for attribute in [" src=\"", " href=\""] {
        for (at, _) in body.match_indices(attribute) {
            let value = &body[at + attribute.len()..];
            assert!(value.starts_with('/'), "{}", &value[..value.len().min(60)]);
        }
    }
    // The circuit's yellow fails contrast with white text, so it is darkened, and only the
    // style block whose hash the policy names may apply.
    assert!(!body.contains("#ffee00"));
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("style-src 'self' 'sha256-"), "{csp}");

    let (_, _, english) = page(&app, &format!("{path}?lang=en"), &[]).await;
    assert!(english.contains(r#"<html lang="en">"#) && english.contains("History"));
    let (_, _, preferred) = page(&app, &path, &[("accept-language", "en-US,en;q=0.9,pt;q=0.5")]).await;
    assert!(preferred.contains(r#"<html lang="en">"#));

    let (status, headers, circuit) = page(&app, &format!("/p/{id}"), &[]).await;
    assert_eq!(status, 200);
    assert_strict_page(&headers);
    assert!(circuit.contains(&format!("/p/{id}/items/{dfid}")) && circuit.contains("Do pé à xícara"));
}

#[tokio::test]
async fn pages_that_are_not_public_are_the_same_not_found_page() {
    let app = spawn_app().await;
    let (owner, id, dfid) = published(&app, 2, json!({})).await;
    let unpublished = app.item_in(&owner, &id, 2).await;
    let (_, other_id, _) = published(&app, 3, json!({ "enabled": false })).await;
    let missing = [
        format!("/p/{id}/items/{unpublished}"),
        format!("/p/{id}/items/{}", crate::helpers::unknown_dfid()),
        format!("/p/{id}/items/not-a-dfid"),
        format!("/p/{other_id}"),
        format!("/p/{other_id}/items/{dfid}"),
        "/p/not-a-circuit".to_owned(),
        format!("/p/{id}/items/{unpublished}/proof.json"),
        format!("/p/{id}/items/{unpublished}/qr.svg"),
    ];
    for path in missing {
        let (status, headers, _) = page(&app, &path, &[("accept", "text/html")]).await;
        assert_eq!(status, 404, "{path}");
        let html = headers["content-type"].to_str().unwrap().starts_with("text/html");
        assert_eq!(html, !path.ends_with(".json") && !path.ends_with(".svg"), "{path}");
    }
    // The resolver answers a browser with the page and a program with the API's error.
    let unknown = format!("/id/{}", crate::helpers::unknown_dfid());
    let (status, headers, body) = page(&app, &unknown, &[("accept", "text/html,*/*")]).await;
    assert_eq!(status, 404);
    assert_strict_page(&headers);
    assert!(body.contains("Página não encontrada"));
    let (status, headers, _) = page(&app, &unknown, &[("accept", "application/json")]).await;
    assert_eq!(
        (status, headers["content-type"].to_str().unwrap()),
        (404, "application/json; charset=utf-8")
    );
}

#[tokio::test]
async fn a_protected_page_takes_its_password_once_and_keeps_a_pass_for_its_circuit_only() {
    let app = spawn_with(&[("PUBLIC_BASE_URL", "https://rastreio.example")]).await;
    let (_, id, dfid) = published(
        &app,
        4,
        json!({ "access_mode": "Protected", "access_password": "lote-42-cafe" }),
    )
    .await;
    let (_, other_id, _) = published(
        &app,
        5,
        json!({ "access_mode": "Protected", "access_password": "outra" }),
    )
    .await;
    let path = format!("/p/{id}/items/{dfid}");

    let (status, headers, password_form) = page(&app, &path, &[]).await;
    assert_eq!(status, 401);
    assert_strict_page(&headers);
    assert!(password_form.contains(&format!(r#"action="/p/{id}/unlock""#)) && password_form.contains(&dfid));
    assert!(!password_form.contains("colheita"));

    let wrong = unlock(&app, &id, &[("password", "guess"), ("item", &dfid), ("lang", "en")]).await;
    assert_eq!(wrong.status(), 401);
    assert!(wrong.text().await.unwrap().contains("Wrong password."));

    let right = unlock(
        &app,
        &id,
        &[("password", "lote-42-cafe"), ("item", &dfid), ("lang", "en")],
    )
    .await;
    assert_eq!(right.status(), 303);
    assert_eq!(right.headers()["location"], format!("{path}?lang=en").as_str());
    let cookie = right.headers()["set-cookie"].to_str().unwrap().to_owned();
    for attribute in [
        &format!("Path=/p/{id}") as &str,
        "Max-Age=43200",
        "HttpOnly",
        "SameSite=Strict",
        "Secure",
    ] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let pass = cookie.split(';').next().unwrap().to_owned();
    let (status, headers, body) = page(&app, &path, &[("cookie", &pass)]).await;
    assert_eq!(status, 200);
    assert_eq!(headers["cache-control"], "private, no-store");
    assert!(body.contains("colheita"));
    let (status, _, _) = page(&app, &format!("{path}/proof.json"), &[("cookie", &pass)]).await;
    assert_eq!(status, 200);
    // The pass opens its own circuit only, and a forged one nothing.
    let (status, _, _) = page(&app, &format!("/p/{other_id}"), &[("cookie", &pass)]).await;
    assert_eq!(status, 401);
    let forged = format!("defarm_page=9999999999.{}", "0".repeat(64));
    let (status, _, _) = page(&app, &path, &[("cookie", &forged)]).await;
    assert_eq!(status, 401);
    // An address outside the circuit's pages is never where the form sends anyone.
    let elsewhere = unlock(
        &app,
        &id,
        &[
            ("password", "lote-42-cafe"),
            ("item", "https://evil.example/"),
            ("lang", "en"),
        ],
    )
    .await;
    assert_eq!(elsewhere.headers()["location"], format!("/p/{id}?lang=en").as_str());
}

#[tokio::test]
async fn failed_page_passwords_count_as_in_the_api() {
    let app = spawn_app().await;
    let (_, id, _) = published(
        &app,
        6,
        json!({ "access_mode": "Protected", "access_password": "lote-42-cafe" }),
    )
    .await;
    for _ in 0..10 {
        let wrong = unlock(&app, &id, &[("password", "guess")]).await;
        assert_eq!(wrong.status(), 401);
    }
    let locked = unlock(&app, &id, &[("password", "lote-42-cafe")]).await;
    assert_eq!(locked.status(), 429);
    assert!(locked.headers().contains_key("retry-after"));
    // The API counts the same failures: the same client is locked out there too.
    let api = app
        .client
        .get(app.url(&format!("/api/circuits/{id}/public")))
        .header("x-access-password", "lote-42-cafe")
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 429);
}

#[tokio::test]
async fn the_qr_code_holds_the_resolver_url_and_the_proof_verifies_offline() {
    let app = spawn_with(&[("PUBLIC_BASE_URL", "https://rastreio.example")]).await;
    let (_, id, dfid) = published(&app, 7, json!({})).await;
    let base = format!("/p/{id}/items/{dfid}");
    let (status, headers, svg) = page(&app, &format!("{base}/qr.svg"), &[]).await;
    assert_eq!(
        (status, headers["content-type"].to_str().unwrap()),
        (200, "image/svg+xml")
    );
    assert!(svg.contains("<svg") && svg.contains("<path"));

    let key = app.get("/log/key").await.text().await.unwrap();
    let bundle = crate::helpers::eventually(30, || async {
        let (status, headers, text) = page(&app, &format!("{base}/proof.json"), &[]).await;
        assert_eq!(status, 200);
        assert!(
            headers["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment")
        );
        let bundle: Value = serde_json::from_str(&text).unwrap();
        (bundle["pending"] == 0 && bundle["checkpoint"].is_string()).then_some(text)
    })
    .await
    .expect("the item's facts are integrated");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("proof.json");
    std::fs::write(&file, &bundle).unwrap();
    let verify = |file: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_defarm"))
            .arg("verify")
            .arg(file)
            .args(["--key", key.trim()])
            .output()
            .unwrap()
    };
    assert!(verify(&file).status.success());
    // The same bundle with a public event's metadata changed fails, naming the event.
    let mut tampered: Value = serde_json::from_str(&bundle).unwrap();
    tampered["events"][0]["event"]["metadata"]["sacas"] = json!(13);
    let event_id = tampered["events"][0]["event"]["event_id"].as_str().unwrap().to_owned();
    std::fs::write(&file, tampered.to_string()).unwrap();
    let refused = verify(&file);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr).to_string() + &String::from_utf8_lossy(&refused.stdout);
    assert!(said.contains(&event_id), "{said}");
}
