//! The spec as clients get it: what poem-openapi generates, reshaped where generators and linters
//! trip over it.
//! - poem-openapi writes a field whose type is a named schema and that carries a description or
//!   `nullable` as `allOf: [{$ref}, {description, nullable}]`; client generators reject an `allOf`
//!   member that is only annotations. Here the annotations sit beside `allOf: [{$ref}]`.
//! - The document is OpenAPI 3.1: its only 3.0 construct, `nullable`, is rewritten (below).
//! - JSON is declared as `application/json`: generated clients key responses by the media type.
//! - The error responses are written once, under `components/responses`, and each operation
//!   lists only those its inputs can lead to.
//! - Operations open to anyone say so (`security: []`); the document names its server and licence.
//! - A schema only answered, never sent, lists every property as required: the server writes
//!   each one (`null` when it has no value), and typed clients need not test for absence.
//! - The text rules the domain enforces are declared where the spec can say them: the shape of
//!   DFIDs, usernames and event types, and which strings are email addresses.
//! - Every request body and answer carries an example, captured from a real server
//!   (`scripts/spec_examples.py` writes `examples.json`): what Swagger UI's "Try it out" sends.
//! - For readers in Swagger UI: tags in reading order, one-line summaries, the edge's response
//!   headers and the paging bounds declared.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::domain::identity::account::USERNAME_PATTERN;
use crate::domain::items::dfid::DFID_PATTERN;
use crate::domain::items::event::EVENT_TYPE_PATTERN;
use crate::domain::page::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::domain::partners::storage::adapter_types;

/// The document with the reshaping above applied.
pub fn normalized(document: Value, tag_order: &[&str]) -> Value {
    let mut document = folded(document);
    order_tags(&mut document, tag_order);
    shorten_summaries(&mut document);
    nulls_as_in_openapi_31(&mut document);
    document["openapi"] = json!("3.1.0");
    rename_json_media_type(&mut document);
    share_error_responses(&mut document);
    declare_open_operations(&mut document);
    document_response_headers(&mut document);
    declare_page_bounds(&mut document);
    require_sent_properties(&mut document);
    declare_text_rules(&mut document);
    declare_adapter_types(&mut document);
    add_examples(&mut document);
    document["servers"] = json!([{ "url": "/", "description": "The server that serves this document." }]);
    document["info"]["license"] = json!({
        "name": env!("CARGO_PKG_LICENSE"),
        "url": "https://www.apache.org/licenses/LICENSE-2.0"
    });
    document
}

/// Lists the tags in `order` (Swagger UI shows them so), any others after them.
fn order_tags(document: &mut Value, order: &[&str]) {
    if let Some(Value::Array(tags)) = document.get_mut("tags") {
        let rank = |tag: &Value| {
            order
                .iter()
                .position(|name| tag["name"] == *name)
                .unwrap_or(order.len())
        };
        tags.sort_by_key(rank);
    }
}

/// poem-openapi makes a doc comment's first paragraph the summary, however long. A summary
/// longer than a line keeps its first sentence; the whole text moves to the description.
fn shorten_summaries(document: &mut Value) {
    const LONGEST: usize = 80;
    for (_, operation) in operations(document) {
        let Some(summary) = operation["summary"].as_str().map(str::to_owned) else {
            continue;
        };
        let summary = summary.replace('\n', " ");
        if summary.chars().count() <= LONGEST {
            operation["summary"] = json!(summary);
            continue;
        }
        let description = match operation["description"].as_str() {
            Some(rest) => format!("{summary}\n\n{rest}"),
            None => summary.clone(),
        };
        operation["summary"] = json!(first_sentence(&summary, LONGEST));
        operation["description"] = json!(description);
    }
}

/// The text up to its first full stop, colon, semicolon or parenthesis, or else its first words
/// and an ellipsis, within `longest` characters.
fn first_sentence(text: &str, longest: usize) -> String {
    let ends = [". ", ": ", "; ", " ("];
    let sentence = ends
        .iter()
        .filter_map(|end| text.find(end))
        .filter(|&at| at > 0 && text[..at].chars().count() <= longest)
        .min();
    if let Some(at) = sentence {
        return text[..at].to_owned();
    }
    let words = text
        .char_indices()
        .take_while(|&(at, _)| at < longest)
        .filter(|&(_, c)| c == ' ')
        .map(|(at, _)| at)
        .last()
        .unwrap_or(text.len().min(longest));
    format!("{}…", text[..words].trim_end_matches([',', ';', ':']))
}

fn folded(document: Value) -> Value {
    match document {
        Value::Object(object) => Value::Object(fold(object)),
        Value::Array(items) => Value::Array(items.into_iter().map(folded).collect()),
        other => other,
    }
}

fn fold(mut object: Map<String, Value>) -> Map<String, Value> {
    if let Some(Value::Array(members)) = object.get_mut("allOf")
        && members.len() == 2
        && members[0].get("$ref").is_some()
        && members[1].get("$ref").is_none()
        && let Some(Value::Object(annotations)) = members.pop()
    {
        object.extend(annotations);
    }
    object.into_iter().map(|(key, value)| (key, folded(value))).collect()
}

/// OpenAPI 3.1 says "or null" in one way every generator reads: `type: [T, "null"]`, and
/// `anyOf: [{$ref}, {type: "null"}]` for a named schema. OpenAPI 3.0's `nullable` has no form that
/// all of them accept for a named schema: without a `type` beside it openapi-typescript refuses the
/// document, with one openapi-python-client drops the null, and a null-only `anyOf` member breaks
/// orval's output (each tried).
fn nulls_as_in_openapi_31(value: &mut Value) {
    match value {
        Value::Object(object) => {
            if object.remove("nullable") == Some(Value::Bool(true)) {
                if let Some(Value::String(kind)) = object.get("type") {
                    let kind = kind.clone();
                    object.insert("type".to_owned(), json!([kind, "null"]));
                    if let Some(Value::Array(values)) = object.get_mut("enum") {
                        values.push(Value::Null);
                    }
                } else if let Some(Value::Array(members)) = object.remove("allOf") {
                    object.insert("anyOf".to_owned(), Value::Array(members));
                    if let Some(Value::Array(members)) = object.get_mut("anyOf") {
                        members.push(json!({ "type": "null" }));
                    }
                }
            }
            object.values_mut().for_each(nulls_as_in_openapi_31);
        }
        Value::Array(items) => items.iter_mut().for_each(nulls_as_in_openapi_31),
        _ => {}
    }
}

const JSON_WITH_CHARSET: &str = "application/json; charset=utf-8";

fn rename_json_media_type(value: &mut Value) {
    match value {
        Value::Object(object) => {
            if let Some(Value::Object(content)) = object.get_mut("content")
                && let Some(media) = content.remove(JSON_WITH_CHARSET)
            {
                content.insert("application/json".to_owned(), media);
            }
            object.values_mut().for_each(rename_json_media_type);
        }
        Value::Array(items) => items.iter_mut().for_each(rename_json_media_type),
        _ => {}
    }
}

/// The shared error responses, by status, with the name they have under `components/responses`.
const ERROR_RESPONSES: &[(&str, &str)] = &[
    ("400", "BadRequest"),
    ("401", "Unauthorized"),
    ("403", "Forbidden"),
    ("404", "NotFound"),
    ("409", "Conflict"),
    ("413", "PayloadTooLarge"),
    ("415", "UnsupportedMediaType"),
    ("429", "TooManyRequests"),
    ("503", "ServiceUnavailable"),
];

/// What an operation takes, which decides the errors it can answer.
struct Inputs {
    reads_only: bool,
    parameters: bool,
    body: bool,
    secured: bool,
    /// A public page's `X-Access-Password`: a wrong one is a 401.
    password: bool,
    /// Logging in answers wrong credentials (401) and suspended accounts (403) without a session.
    login: bool,
    /// Operations probes are never rate limited.
    operations: bool,
    /// A WebSocket: a request that is not a valid upgrade is a 400.
    upgrade: bool,
}

impl Inputs {
    fn of(method: &str, operation: &Value) -> Self {
        let parameters = operation["parameters"].as_array().cloned().unwrap_or_default();
        Self {
            reads_only: method == "get",
            parameters: !parameters.is_empty(),
            body: operation.get("requestBody").is_some(),
            secured: operation["security"].as_array().is_some_and(|s| !s.is_empty()),
            password: parameters
                .iter()
                .any(|p| p["in"] == "header" && p["name"] == "X-Access-Password"),
            login: operation["operationId"] == "login",
            operations: operation["tags"][0] == "Operations",
            upgrade: operation["responses"].get("101").is_some(),
        }
    }

    fn can_answer(&self, status: &str) -> bool {
        match status {
            "400" => self.parameters || self.body || self.upgrade,
            "401" => self.secured || self.password || self.login,
            "403" => self.secured || self.login,
            "404" => self.parameters || self.body,
            "409" => !self.reads_only,
            "413" | "415" => self.body,
            "429" => !self.operations,
            _ => true,
        }
    }
}

fn share_error_responses(document: &mut Value) {
    let mut shared = Map::new();
    for (method, operation) in operations(document) {
        let inputs = Inputs::of(&method, operation);
        let Some(responses) = operation.get_mut("responses").and_then(Value::as_object_mut) else {
            continue;
        };
        for &(status, name) in ERROR_RESPONSES {
            let Some(inline) = responses.remove(status) else {
                continue;
            };
            if inputs.can_answer(status) {
                shared.entry(name).or_insert(inline);
                responses.insert(
                    status.to_owned(),
                    json!({ "$ref": format!("#/components/responses/{name}") }),
                );
            }
        }
    }
    document["components"]["responses"] = Value::Object(shared);
}

/// The headers the edge puts on responses, declared once under `components/headers`.
const RESPONSE_HEADERS: &[(&str, &str, &str)] = &[
    (
        "X-Request-Id",
        "string",
        "This request's id, as in the error body's `request_id`; send your own (1 to 128 of `A-Za-z0-9._:-`) to correlate; anything else is replaced.",
    ),
    ("X-Commit", "string", "The commit of the build that answered."),
    (
        "RateLimit-Limit",
        "integer",
        "Requests allowed in the current window, when a rate limit applied to this request.",
    ),
    ("RateLimit-Remaining", "integer", "Requests left in the current window."),
    ("RateLimit-Reset", "integer", "Seconds until the current window ends."),
];

/// Adds the edge's headers to every response: the request id and commit always, the rate-limit
/// numbers wherever a limit may apply (everything but the operations probes).
fn document_response_headers(document: &mut Value) {
    let mut declared = Map::new();
    for &(name, kind, description) in RESPONSE_HEADERS {
        declared.insert(
            name.to_owned(),
            json!({ "description": description, "required": name == "X-Request-Id", "schema": { "type": kind } }),
        );
    }
    document["components"]["headers"] = Value::Object(declared);
    let headers_for = |limited: bool| -> Vec<&str> {
        RESPONSE_HEADERS
            .iter()
            .map(|&(name, _, _)| name)
            .filter(|name| limited || !name.starts_with("RateLimit-"))
            .collect()
    };
    let add = |response: &mut Value, names: &[&str]| {
        if response.get("$ref").is_some() {
            return;
        }
        for name in names {
            response["headers"][*name] = json!({ "$ref": format!("#/components/headers/{name}") });
        }
    };
    for (_, operation) in operations(document) {
        let names = headers_for(operation["tags"][0] != "Operations");
        if let Some(responses) = operation.get_mut("responses").and_then(Value::as_object_mut) {
            responses.values_mut().for_each(|response| add(response, &names));
        }
    }
    let every = headers_for(true);
    if let Some(shared) = document["components"]["responses"].as_object_mut() {
        shared.values_mut().for_each(|response| add(response, &every));
    }
}

/// Every `limit` query parameter pages through `PageRequest`: the spec says its bounds and default.
fn declare_page_bounds(document: &mut Value) {
    for (_, operation) in operations(document) {
        let parameters = operation.get_mut("parameters").and_then(Value::as_array_mut);
        for parameter in parameters.into_iter().flatten() {
            if parameter["in"] == "query" && parameter["name"] == "limit" {
                parameter["schema"]["minimum"] = json!(1);
                parameter["schema"]["maximum"] = json!(MAX_LIMIT);
                parameter["schema"]["default"] = json!(DEFAULT_LIMIT);
                parameter["description"] =
                    json!(format!("Items per page, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})."));
            }
        }
    }
}

/// Patterns and formats for the strings the domain checks (the domain stays the judge: the spec
/// declares its rule, the server's answer does not change).
fn declare_text_rules(document: &mut Value) {
    let dfid = || json!(DFID_PATTERN);
    for (_, operation) in operations(document) {
        let parameters = operation.get_mut("parameters").and_then(Value::as_array_mut);
        for parameter in parameters.into_iter().flatten() {
            if parameter["name"] == "dfid" {
                parameter["schema"]["pattern"] = dfid();
            }
        }
    }
    let schemas = document["components"]["schemas"].as_object_mut().into_iter().flatten();
    for (schema, definition) in schemas {
        let properties = definition.get_mut("properties").and_then(Value::as_object_mut);
        for (property, rule) in properties.into_iter().flatten() {
            match (schema.as_str(), property.as_str()) {
                (_, "dfid" | "holder_dfid") => rule["pattern"] = dfid(),
                ("PublicSettingsBody", "published_items") => rule["items"]["pattern"] = dfid(),
                ("RegisterRequest", "username") => rule["pattern"] = json!(USERNAME_PATTERN),
                ("NewEvent" | "NewLocalEvent", "event_type") => rule["pattern"] = json!(EVENT_TYPE_PATTERN),
                (_, "email") => rule["format"] = json!("email"),
                _ => {}
            }
        }
    }
}

/// Every `adapter_type` names one of the storage adapters: one named schema lists them (the
/// server's answer to another name does not change: 400 `validation_error`).
fn declare_adapter_types(document: &mut Value) {
    const NAME: &str = "AdapterTypeName";
    let reference = json!({ "$ref": format!("#/components/schemas/{NAME}") });
    let schemas = document["components"]["schemas"].as_object_mut().into_iter().flatten();
    for (_, definition) in schemas {
        let property = definition.get_mut("properties").and_then(|p| p.get_mut("adapter_type"));
        let Some(Value::Object(property)) = property else {
            continue;
        };
        let nullable = property.get("type") == Some(&json!(["string", "null"]));
        property.remove("type");
        if nullable {
            property.insert("anyOf".to_owned(), json!([reference, { "type": "null" }]));
        } else {
            property.extend(
                reference
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), v.clone())),
            );
        }
    }
    let names: Vec<&str> = adapter_types().collect();
    document["components"]["schemas"][NAME] = json!({
        "type": "string",
        "enum": names,
        "description": "A storage adapter: where a circuit keeps copies of its items' documents. \
            `GET /api/adapters` says which this server reaches and which tiers may use each."
    });
}

/// Marks required every property of the schemas that only responses carry (poem-openapi makes an
/// `Option` field optional, but no response skips one: the server sends `null`).
fn require_sent_properties(document: &mut Value) {
    let mut sent = BTreeSet::new();
    let mut answered = BTreeSet::new();
    for (_, operation) in operations(document) {
        schema_names(&operation["requestBody"], &mut sent);
        let responses = operation["responses"].as_object().into_iter().flatten();
        for (_, response) in responses.filter(|(status, _)| status.starts_with('2')) {
            schema_names(response, &mut answered);
        }
    }
    let schemas = &mut document["components"]["schemas"];
    let sent = with_nested(schemas, sent);
    let answered = with_nested(schemas, answered);
    for name in answered.difference(&sent) {
        let Some(schema) = schemas.get_mut(name.as_str()) else {
            continue;
        };
        let Some(properties) = schema["properties"].as_object() else {
            continue;
        };
        let every: Vec<Value> = properties.keys().map(|key| json!(key)).collect();
        schema["required"] = Value::Array(every);
    }
}

/// Real requests and answers: `schemas` by schema name, `operations` (bodies without a named
/// schema) by operation id.
const EXAMPLES: &str = include_str!("examples.json");

/// Puts an example beside each body: Swagger UI fills "Try it out" with it and shows it as the
/// answer, and linters check it against the schema. A named schema's example is written once,
/// under `components/examples`, and referred to from every body of that schema.
fn add_examples(document: &mut Value) {
    let Ok(mut examples) = serde_json::from_str::<Value>(EXAMPLES) else {
        return;
    };
    let by_schema = examples["schemas"].take();
    let by_operation = examples["operations"].take();
    let mut used = BTreeSet::new();
    for (_, operation) in operations(document) {
        let operation_id = operation["operationId"].as_str().unwrap_or_default().to_owned();
        let own = by_operation[&operation_id].clone();
        // An operation whose request and answer both lack a named schema keeps the request's
        // example apart.
        let own_request = by_operation.get(format!("{operation_id}.request")).cloned();
        let Some(parts) = operation.as_object_mut() else {
            continue;
        };
        let bodies = parts.iter_mut().flat_map(|(part, value)| match part.as_str() {
            "requestBody" => vec![(true, value)],
            "responses" => value
                .as_object_mut()
                .into_iter()
                .flatten()
                .filter(|(status, _)| status.starts_with('2'))
                .map(|(_, answer)| (false, answer))
                .collect(),
            _ => Vec::new(),
        });
        for (is_request, body) in bodies {
            let own = match (&own_request, is_request) {
                (Some(request), true) => request,
                _ => &own,
            };
            let media = body
                .get_mut("content")
                .and_then(Value::as_object_mut)
                .into_iter()
                .flatten();
            for (media_type, media) in media.filter(|(kind, _)| !kind.starts_with("application/octet-stream")) {
                let schema = &media["schema"];
                let named = |reference: &Value| {
                    let name = reference.as_str()?.strip_prefix("#/components/schemas/")?;
                    by_schema.get(name).map(|_| name.to_owned())
                };
                let is_json = matches!(media_type.as_str(), "application/json" | "application/ld+json");
                if let Some(name) = named(&schema["$ref"]) {
                    media["examples"] = json!({ &name: { "$ref": format!("#/components/examples/{name}") } });
                    used.insert(name);
                } else if let Some(name) = named(&schema["items"]["$ref"]) {
                    media["example"] = json!([by_schema[&name]]);
                } else if !own.is_null() && (is_json || own.is_string()) {
                    media["example"] = own.clone();
                }
            }
        }
    }
    let shared: Map<String, Value> = used
        .into_iter()
        .map(|name| {
            let value = by_schema[&name].clone();
            (name, json!({ "value": value }))
        })
        .collect();
    document["components"]["examples"] = Value::Object(shared);
}

/// The names of the component schemas `value` refers to.
fn schema_names(value: &Value, names: &mut BTreeSet<String>) {
    match value {
        Value::Object(object) => {
            for (key, value) in object {
                let schema = value
                    .as_str()
                    .and_then(|target| target.strip_prefix("#/components/schemas/"));
                match (key.as_str(), schema) {
                    ("$ref", Some(name)) => {
                        names.insert(name.to_owned());
                    }
                    _ => schema_names(value, names),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| schema_names(item, names)),
        _ => {}
    }
}

/// `names` and every schema they refer to, transitively.
fn with_nested(schemas: &Value, names: BTreeSet<String>) -> BTreeSet<String> {
    let mut reached = BTreeSet::new();
    let mut waiting: Vec<String> = names.into_iter().collect();
    while let Some(name) = waiting.pop() {
        if reached.insert(name.clone()) {
            let mut nested = BTreeSet::new();
            schema_names(&schemas[name.as_str()], &mut nested);
            waiting.extend(nested);
        }
    }
    reached
}

fn declare_open_operations(document: &mut Value) {
    for (_, operation) in operations(document) {
        if let Some(operation) = operation.as_object_mut() {
            operation.entry("security").or_insert_with(|| json!([]));
        }
    }
}

/// Every operation with its lower-case method.
fn operations(document: &mut Value) -> impl Iterator<Item = (String, &mut Value)> {
    document["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.iter_mut())
        .filter(|(method, _)| matches!(method.as_str(), "get" | "put" | "post" | "patch" | "delete"))
        .map(|(method, operation)| (method.clone(), operation))
}

#[cfg(test)]
#[path = "spec_tests.rs"]
mod tests;
