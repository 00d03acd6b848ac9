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
    "get_public_item_proof",
    "resolve_item",
    "log_checkpoint",
    "log_key",
    "log_checkpoints",
    "log_inclusion_proof",
    "log_consistency_proof",
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

/// Sends `head` and reads until the server answers or closes; `None` when it closed without an
/// answer.
async fn exchange(stream: &mut tokio::net::TcpStream, head: &[u8]) -> Option<String> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    if stream.write_all(head).await.is_err() {
        return None;
    }
    let mut answer = vec![0; 1024];
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("the server neither answered nor closed");
    match read {
        Ok(n) if n > 0 => Some(String::from_utf8_lossy(&answer[..n]).into_owned()),
        _ => None,
    }
}

#[tokio::test]
async fn a_client_dripping_its_headers_is_cut_off() {
    use tokio::io::AsyncWriteExt as _;
    let app = crate::helpers::spawn_with(&[("HEADER_READ_TIMEOUT_MS", "500")]).await;
    let mut slow = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut cut = false;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        if slow.write_all(b"X-Drip: 1\r\n").await.is_err() {
            cut = true;
            break;
        }
    }
    if !cut {
        // Writes may still be buffered by the kernel: the end of the head must find it closed.
        cut = exchange(&mut slow, b"\r\n").await.is_none();
    }
    assert!(cut, "a connection dripping headers for 10 s stayed open");
    // A client that sends its head at once is served on a connection it keeps open.
    let mut prompt = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let answer = exchange(&mut prompt, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let again = exchange(&mut prompt, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert!(again.starts_with("HTTP/1.1 200"), "{again}");
}

#[tokio::test]
async fn one_address_holds_at_most_max_connections_per_ip() {
    let app = crate::helpers::spawn_with(&[("MAX_CONNECTIONS_PER_IP", "3")]).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        let answer = exchange(&mut stream, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"));
        held.push(stream);
    }
    let mut fourth = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    assert_eq!(
        exchange(&mut fourth, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n").await,
        None
    );
    drop(held.pop());
    let answer = crate::helpers::eventually(5, || async {
        let mut stream = tokio::net::TcpStream::connect(app.addr).await.ok()?;
        exchange(&mut stream, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n").await
    })
    .await
    .expect("a freed slot is used again");
    assert!(answer.starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn a_body_dripped_slower_than_the_request_timeout_is_cut_off() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let app = crate::helpers::spawn_with(&[("REQUEST_TIMEOUT_MS", "500")]).await;
    let stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let head =
        b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n";
    writer.write_all(head).await.unwrap();
    // A one-byte chunk every 200 ms, and never the last chunk.
    let drip = tokio::spawn(async move {
        for _ in 0..100 {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            if writer.write_all(b"1\r\n \r\n").await.is_err() {
                return;
            }
        }
    });
    let mut answer = vec![0; 2048];
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), reader.read(&mut answer))
        .await
        .expect("a dripping body held the request past the timeout")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(
        answer.starts_with("HTTP/1.1 503") && answer.contains("request_timeout"),
        "{answer}"
    );
    drip.abort();
}
