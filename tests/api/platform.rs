//! Operations endpoints, the error shape at the edge, and database outages.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{assert_error, eventually, json_with_status, spawn_app, spawn_with};

#[tokio::test]
async fn health_answers_without_io() {
    let app = spawn_app().await;
    let response = app.get("/health").await;
    assert!(response.headers().contains_key("x-commit"));
    let body = json_with_status(response, 200).await;
    assert_eq!(body["status"], "healthy");
    assert!(body["uptime_seconds"].is_u64());
    assert!(body["timestamp"].is_string());
}

#[tokio::test]
async fn health_db_reports_backend_and_pool() {
    let app = spawn_app().await;
    let body = json_with_status(app.get("/health/db").await, 200).await;
    let database = &body["database"];
    assert_eq!(database["status"], "connected");
    let expected = if app.db.is_postgres() { "postgres" } else { "sqlite" };
    assert_eq!(database["backend"], expected);
    assert!(database["ping_ms"].as_f64().is_some());
    assert_eq!(database["pool"]["max"], 8);
    for field in ["size", "idle", "in_use", "waiting"] {
        assert!(database["pool"][field].is_u64(), "{field}: {body}");
    }
}

#[tokio::test]
async fn readiness_reports_database_and_cache() {
    let app = spawn_app().await;
    let body = json_with_status(app.get("/health/ready").await, 200).await;
    assert_eq!(body["status"], "ready");
    assert_eq!(body["checks"]["database"], "ok");
    let expected_cache = if app.vars.contains_key("REDIS_URL") {
        "ok"
    } else {
        "disabled"
    };
    assert_eq!(body["checks"]["cache"], expected_cache);
}

#[tokio::test]
async fn version_reports_the_build() {
    let app = spawn_app().await;
    let response = app.get("/version").await;
    let commit_header = response.headers()["x-commit"].to_str().unwrap().to_owned();
    let body = json_with_status(response, 200).await;
    for field in [
        "service",
        "version",
        "commit",
        "commit_short",
        "branch",
        "build_time",
        "rust_version",
        "profile",
    ] {
        assert!(body[field].as_str().is_some_and(|v| !v.is_empty()), "{field}: {body}");
    }
    assert!(body["dirty"].is_boolean());
    assert_eq!(body["commit_short"], commit_header.as_str());
    assert!(body["commit"].as_str().unwrap().starts_with(&commit_header));
    let api = json_with_status(app.get("/api/version").await, 200).await;
    assert_eq!(api, body);
}

#[tokio::test]
async fn request_id_is_echoed_when_valid_and_generated_otherwise() {
    let app = spawn_app().await;
    let echoed = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "client-id.42")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "client-id.42");
    let replaced = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "bad id!")
        .send()
        .await
        .unwrap();
    let generated = replaced.headers()["x-request-id"].to_str().unwrap();
    assert_ne!(generated, "bad id!");
    assert!(!generated.is_empty());
}

#[tokio::test]
async fn metrics_expose_requests_and_pool() {
    let app = spawn_app().await;
    json_with_status(app.get("/health/db").await, 200).await;
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(
        text.contains("defarm_http_requests_total{method=\"GET\",route=\"/health/db\",status=\"200\"}"),
        "{text}"
    );
    assert!(text.contains("defarm_http_request_duration_seconds_bucket"), "{text}");
    assert!(text.contains("defarm_db_pool_connections{state=\"max\"}"), "{text}");
    assert!(text.contains("defarm_db_acquire_seconds"), "{text}");
}

#[tokio::test]
async fn metrics_describe_every_family_and_name_routes_as_the_spec_does() {
    let app = spawn_app().await;
    app.get("/api/items/DFID-20250101-000001-F7BD").await;
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(
        text.contains("defarm_http_requests_total{method=\"GET\",route=\"/api/items/{dfid}\",status=\"401\"}"),
        "{text}"
    );
    assert!(text.contains("defarm_build_info{"), "{text}");
    for process in [
        "process_cpu_seconds_total ",
        "process_resident_memory_bytes ",
        "process_open_fds ",
    ] {
        assert!(text.contains(process), "{process}: {text}");
    }
    for family in text.lines().filter_map(|line| line.strip_prefix("# TYPE ")) {
        let name = family.split(' ').next().unwrap();
        assert!(text.contains(&format!("# HELP {name} ")), "no # HELP for {name}");
    }
}

#[tokio::test]
async fn docs_and_spec_are_served() {
    let app = spawn_app().await;
    let docs = app.get("/docs").await;
    assert_eq!(docs.status(), 200);
    let page = docs.text().await.unwrap();
    assert!(page.contains("swagger"));
    let spec = json_with_status(app.get("/openapi.json").await, 200).await;
    // The page embeds the served spec, not poem-openapi's own.
    let served = serde_json::to_string_pretty(&spec).unwrap();
    assert!(page.contains(&served), "the docs page embeds another spec");
    assert!(page.contains("persistAuthorization: true"));
    assert!(spec["paths"]["/health"].is_object());
    let yaml = app.get("/openapi.yaml").await;
    assert_eq!(yaml.status(), 200);
    assert!(yaml.text().await.unwrap().contains("openapi:"));
}

#[tokio::test]
async fn unknown_route_and_wrong_method_have_the_error_shape() {
    let app = spawn_app().await;
    assert_error(app.get("/no/such/route").await, 404, "not_found").await;
    let response = app.client.delete(app.url("/health")).send().await.unwrap();
    assert_error(response, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn oversized_body_is_413_declared_or_chunked() {
    let app = spawn_with(&[("MAX_BODY_BYTES", "1024")]).await;
    let big = json!({ "padding": "x".repeat(4096) });
    assert_error(app.post_json("/health", &big).await, 413, "payload_too_large").await;

    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![Ok(vec![b'x'; 800]), Ok(vec![b'y'; 800])];
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let response = app
        .client
        .post(app.url("/health"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_error(response, 413, "payload_too_large").await;
}

#[tokio::test]
async fn outage_of_postgres_is_503_within_a_second_and_recovers() {
    let Some(proxy) = crate::helpers::PgProxy::start().await else {
        return; // PostgreSQL only: needs TEST_DATABASE_URL.
    };
    let db = crate::helpers::TestDb::new().await;
    let url = proxy.route(&db.url);
    let app = crate::helpers::spawn_on(db, &[("DATABASE_URL", url.as_str())]).await;
    json_with_status(app.get("/health/db").await, 200).await;

    proxy.cut();
    let started = Instant::now();
    let response = app.get("/health/db").await;
    let waited = started.elapsed();
    assert!(response.headers().contains_key("retry-after"));
    let body = json_with_status(response, 503).await;
    assert_eq!(body["database"]["status"], "unreachable");
    // The contract says "within a second"; the margin absorbs a loaded CI machine.
    assert!(waited < Duration::from_millis(1500), "took {waited:?}");
    json_with_status(app.get("/health").await, 200).await;
    assert_eq!(app.get("/health/ready").await.status(), 503);

    proxy.restore();
    let recovered = eventually(5, || async {
        (app.get("/health/db").await.status() == 200).then_some(())
    })
    .await;
    assert!(recovered.is_some(), "no recovery within 5 s");
}

#[cfg(unix)]
#[tokio::test]
async fn the_database_file_and_generated_secrets_are_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let app = crate::helpers::spawn_app().await;
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let data_dir = std::path::PathBuf::from(&app.vars["DATA_DIR"]);
    let generated: Vec<_> = std::fs::read_dir(&data_dir)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    for path in &generated {
        assert_eq!(mode(path), 0o600, "{}", path.display());
    }
    if !app.db.is_postgres() {
        let url = &app.db.url;
        let path = url.trim_start_matches("sqlite://").split('?').next().unwrap();
        assert_eq!(mode(std::path::Path::new(path)), 0o600, "{path}");
    }
}
