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
