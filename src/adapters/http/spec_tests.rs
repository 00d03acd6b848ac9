//! How `spec::normalized` reshapes the generated document, on small documents.

use serde_json::json;

use super::normalized;

fn normalized_for_test(document: serde_json::Value) -> serde_json::Value {
    normalized(document, &[])
}

#[test]
fn nulls_are_written_as_openapi_31_writes_them() {
    let field = json!({ "description": "d", "allOf": [{ "$ref": "#/components/schemas/Role" }, { "description": "d", "nullable": true }] });
    let document = normalized_for_test(json!({
        "properties": {
            "role": field,
            "name": { "type": "string", "nullable": true },
            "kind": { "type": "string", "enum": ["a"], "nullable": true }
        }
    }));
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(
        document["properties"]["role"],
        json!({ "description": "d", "anyOf": [{ "$ref": "#/components/schemas/Role" }, { "type": "null" }] })
    );
    assert_eq!(document["properties"]["name"], json!({ "type": ["string", "null"] }));
    assert_eq!(
        document["properties"]["kind"],
        json!({ "type": ["string", "null"], "enum": ["a", null] })
    );
}

#[test]
fn compositions_of_two_schemas_stay() {
    let both = json!({ "allOf": [{ "$ref": "#/components/schemas/A" }, { "$ref": "#/components/schemas/B" }] });
    assert_eq!(normalized_for_test(json!({ "x": both.clone() }))["x"], both);
}

#[test]
fn properties_of_schemas_only_answered_are_required() {
    let body = |name: &str| json!({ "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{name}") } } } });
    let optional = |nested: &str| json!({ "type": "object", "properties": { "a": { "type": "string" }, "nested": { "$ref": format!("#/components/schemas/{nested}") } } });
    let document = normalized_for_test(json!({
        "paths": { "/x": { "post": { "requestBody": body("Sent"), "responses": { "200": body("Answered"), "400": body("Failure") } } } },
        "components": { "schemas": {
            "Sent": optional("Shared"),
            "Answered": optional("Nested"),
            "Nested": optional("Shared"),
            "Shared": { "type": "object", "properties": { "b": { "type": "string" } } },
            "Failure": { "type": "object", "properties": { "c": { "type": "string" } } }
        } }
    }));
    let required = |name: &str| document["components"]["schemas"][name].get("required").cloned();
    assert_eq!(required("Answered"), Some(json!(["a", "nested"])));
    assert_eq!(required("Nested"), Some(json!(["a", "nested"])));
    assert_eq!(required("Sent"), None);
    assert_eq!(required("Shared"), None, "also sent by clients");
    assert_eq!(required("Failure"), None, "not a success response");
}

fn error(description: &str) -> serde_json::Value {
    json!({ "description": description, "content": { "application/json; charset=utf-8": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

#[test]
fn errors_are_shared_and_listed_where_the_inputs_allow_them() {
    let all_errors = || {
        let mut responses = serde_json::Map::new();
        for status in ["400", "401", "403", "404", "409", "413", "415", "429", "503"] {
            responses.insert(status.to_owned(), error(status));
        }
        responses.insert("200".to_owned(), json!({ "description": "ok" }));
        serde_json::Value::Object(responses)
    };
    let document = normalized_for_test(json!({
        "paths": {
            "/health": { "get": { "operationId": "health", "tags": ["Operations"], "responses": all_errors() } },
            "/items/{id}": {
                "get": { "security": [{ "Bearer": [] }], "parameters": [{ "in": "path", "name": "id" }], "responses": all_errors() },
                "post": { "security": [{ "Bearer": [] }], "requestBody": {}, "responses": all_errors() }
            }
        }
    }));
    let statuses = |path: &str, method: &str| {
        document["paths"][path][method]["responses"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(statuses("/health", "get"), ["200", "503"]);
    assert_eq!(document["paths"]["/health"]["get"]["security"], json!([]));
    assert!(document["paths"]["/health"]["get"].get("parameters").is_none());
    assert_eq!(
        statuses("/items/{id}", "get"),
        ["200", "400", "401", "403", "404", "429", "503"]
    );
    assert_eq!(
        statuses("/items/{id}", "post"),
        ["200", "400", "401", "403", "404", "409", "413", "415", "429", "503"]
    );
    assert_eq!(
        document["paths"]["/items/{id}"]["get"]["responses"]["404"],
        json!({ "$ref": "#/components/responses/NotFound" })
    );
    assert_eq!(
        document["components"]["responses"]["NotFound"]["content"]["application/json"]["schema"],
        json!({ "$ref": "#/components/schemas/Error" })
    );
    assert!(
        document["paths"]["/items/{id}"]["get"]
            .get("application/json; charset=utf-8")
            .is_none()
    );
}

/// Client generators name their own types `<OperationId><Suffix>` (orval's `Result`, `Params`
/// and `Body`; hey-api's `Data`, `Response`, `Error`...): a schema with such a name makes a
/// client that does not compile.
#[test]
fn no_schema_is_named_like_a_generated_client_type() {
    let document: serde_json::Value = serde_json::from_str(&crate::adapters::http::spec_json()).unwrap();
    let schemas = document["components"]["schemas"].as_object().unwrap();
    let suffixes = [
        "Result",
        "Params",
        "Body",
        "Data",
        "Response",
        "Responses",
        "Error",
        "Errors",
        "Mutation",
    ];
    let mut collisions = Vec::new();
    for item in document["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            let Some(id) = operation["operationId"].as_str() else {
                continue;
            };
            let pascal: String = id
                .split('_')
                .map(|word| word[..1].to_uppercase() + &word[1..])
                .collect();
            collisions.extend(
                suffixes
                    .iter()
                    .map(|suffix| format!("{pascal}{suffix}"))
                    .filter(|name| schemas.contains_key(name)),
            );
        }
    }
    assert!(
        collisions.is_empty(),
        "schemas named like generated types: {collisions:?}"
    );
}

#[test]
fn tags_follow_the_reading_order_and_long_summaries_move_to_the_description() {
    let long = "Claim that a canonical identifier held by another item belongs to the caller's own item. An administrator decides.";
    let document = normalized(
        json!({
            "tags": [{ "name": "Auth" }, { "name": "Extra" }, { "name": "Operations" }],
            "paths": { "/x": {
                "get": { "summary": long, "description": "More.", "responses": {} },
                "put": { "summary": "Short\nsummary", "responses": {} }
            } }
        }),
        &["Operations", "Auth"],
    );
    assert_eq!(
        document["tags"],
        json!([{ "name": "Operations" }, { "name": "Auth" }, { "name": "Extra" }])
    );
    let get = &document["paths"]["/x"]["get"];
    assert_eq!(
        get["summary"],
        "Claim that a canonical identifier held by another item belongs to the caller's…"
    );
    assert_eq!(get["description"], format!("{long}\n\nMore."));
    assert_eq!(document["paths"]["/x"]["put"]["summary"], "Short summary");
    assert_eq!(super::first_sentence("one two three four", 9), "one two…");
    assert_eq!(super::first_sentence("Read it (owner only). Then more", 20), "Read it");
}
