//! Deny by default: every operation in the generated spec that is not explicitly public answers
//! 401 without credentials, so a future route cannot forget to check.

use serde_json::Value;

use crate::helpers::spawn_app;

/// The operations anyone may call. Adding one here is a deliberate decision.
const PUBLIC_OPERATIONS: &[&str] = &[
    "health",
    "health_db",
    "health_ready",
    "version",
    "api_version",
    "metrics",
    "register",
    "login",
    "forgot_password",
    "reset_password",
    "get_public_page",
];

fn operations(spec: &Value) -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            found.push((method.to_uppercase(), path.clone(), operation.clone()));
        }
    }
    found
}

/// The path with every `{param}` filled with a harmless value.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "00000000-0000-0000-0000-000000000000"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_non_public_operation_requires_credentials() {
    let spec: Value = serde_json::from_str(&defarm::adapters::http::spec_json()).unwrap();
    let app = spawn_app().await;
    let mut checked = 0;
    for (method, path, operation) in operations(&spec) {
        let id = operation["operationId"].as_str().unwrap().to_owned();
        let declared = operation
            .get("security")
            .and_then(Value::as_array)
            .is_some_and(|s| !s.is_empty());
        if PUBLIC_OPERATIONS.contains(&id.as_str()) {
            assert!(!declared, "{id} is listed as public but declares security");
            continue;
        }
        assert!(
            declared,
            "{method} {path} ({id}) declares no security and is not in PUBLIC_OPERATIONS"
        );
        let request = app
            .client
            .request(method.parse().unwrap(), app.url(&concrete(&path)))
            .header("content-type", "application/json")
            .body("{}");
        let response = request.send().await.unwrap();
        assert_eq!(
            response.status(),
            401,
            "{method} {path} ({id}) answered without credentials"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "unauthorized", "{method} {path}");
        checked += 1;
    }
    assert!(checked > 10, "only {checked} protected operations found");
}

#[tokio::test]
async fn nul_characters_are_refused_on_every_engine() {
    let app = spawn_app().await;
    let (token, _) = app.register("tipos").await;
    let nul_username = serde_json::json!({ "username": "nul\u{0}user", "email": "nul@example.com", "password": crate::helpers::PASSWORD });
    crate::helpers::assert_error(
        app.post_json("/api/auth/register", &nul_username).await,
        400,
        "validation_error",
    )
    .await;
    let nul_deep = serde_json::json!({ "enriched_data": { "notes": ["fine", { "k": "bad\u{0}" }] } });
    crate::helpers::assert_error(
        app.post_as("/api/items/local", &token, &nul_deep).await,
        400,
        "validation_error",
    )
    .await;
    crate::helpers::assert_error(
        app.get_as("/api/items?key=cpf&value=1%00", &token).await,
        400,
        "validation_error",
    )
    .await;
    // An escaped backslash before "u0000" is ordinary text.
    let text = serde_json::json!({ "enriched_data": { "path": "C:\\u0000" } });
    let created = crate::helpers::json_with_status(app.post_as("/api/items/local", &token, &text).await, 201).await;
    assert_eq!(created["enriched_data"]["path"], "C:\\u0000");
}

#[tokio::test]
async fn a_number_or_boolean_where_a_string_belongs_is_refused_not_coerced() {
    let app = spawn_app().await;
    let (token, _) = app.register("tipos").await;
    let number =
        serde_json::json!({ "username": 12345, "email": "num@example.com", "password": crate::helpers::PASSWORD });
    let refused = crate::helpers::assert_error(
        app.post_json("/api/auth/register", &number).await,
        400,
        "validation_error",
    )
    .await;
    assert_eq!(refused["details"]["field"], "username");
    crate::helpers::assert_error(
        app.login("12345", crate::helpers::PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
    let boolean = serde_json::json!({ "name": true });
    crate::helpers::assert_error(
        app.post_as("/api/circuits", &token, &boolean).await,
        400,
        "validation_error",
    )
    .await;
    let nested = serde_json::json!({ "identifiers": [{ "key": "lote", "value": 7 }] });
    let refused = crate::helpers::assert_error(
        app.post_as("/api/items/local", &token, &nested).await,
        400,
        "validation_error",
    )
    .await;
    assert_eq!(refused["details"]["field"], "identifiers[0].value");
    // Free-form data keeps any JSON.
    let data = serde_json::json!({ "identifiers": [{ "key": "lote", "value": "7" }], "enriched_data": { "weight": 412, "organic": true } });
    crate::helpers::json_with_status(app.post_as("/api/items/local", &token, &data).await, 201).await;
}
