//! The contract check: the spec the code generates is the one committed in `openapi/openapi.json`.

#[test]
fn committed_spec_matches_the_code() {
    let generated = defarm::adapters::http::spec_json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        generated.trim() == committed.trim(),
        "openapi/openapi.json is out of date: regenerate it with `cargo run -- openapi > openapi/openapi.json`"
    );
}

/// Every request body and every success answer shows an example (redocly lint checks each one
/// against its schema), except raw bytes and the Prometheus text.
#[test]
fn every_body_has_an_example() {
    let spec: serde_json::Value = serde_json::from_str(&defarm::adapters::http::spec_json()).unwrap();
    let mut missing = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().into_iter().flatten();
            let successes = responses.filter(|(status, _)| status.starts_with('2'));
            let bodies = successes.map(|(_, answer)| answer).chain([&operation["requestBody"]]);
            for body in bodies {
                let media = body["content"].as_object().into_iter().flatten();
                for (media_type, media) in media {
                    let exempt = media_type == "application/octet-stream" || path == "/metrics";
                    if !exempt && media.get("example").is_none() && media.get("examples").is_none() {
                        missing.push(format!("{method} {path} {media_type}"));
                    }
                }
            }
        }
    }
    assert!(missing.is_empty(), "no example: {missing:#?}");
    assert!(spec["components"]["examples"].as_object().unwrap().len() > 90);
}
