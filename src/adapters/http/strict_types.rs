//! poem-openapi reads a JSON number or boolean where the spec says string as that value's text
//! (`{"username": 12345}` registered a user "12345"). The contract says any type mismatch is
//! 400 and nothing is coerced, so each JSON body is checked against the string fields its
//! operation declares, before a handler parses it.

use std::collections::HashMap;

use poem::http::Method;
use serde_json::{Map, Value};

/// The request body schema of every operation, from the generated spec.
pub struct BodyTypes {
    /// By method and number of path segments, so a request compares a handful of templates.
    operations: HashMap<(Method, usize), Vec<Operation>>,
    schemas: Map<String, Value>,
}

struct Operation {
    /// Path segments; `None` for a `{parameter}`.
    segments: Vec<Option<String>>,
    schema: Value,
}

impl BodyTypes {
    pub fn from_spec(spec: &Value) -> Self {
        let mut operations: HashMap<(Method, usize), Vec<Operation>> = HashMap::new();
        for (path, item) in spec["paths"].as_object().into_iter().flatten() {
            for (method, operation) in item.as_object().into_iter().flatten() {
                let Ok(method) = method.to_uppercase().parse::<Method>() else {
                    continue;
                };
                let content = &operation["requestBody"]["content"];
                let Some(schema) = content.as_object().and_then(|c| {
                    c.iter()
                        .find(|(media, _)| media.starts_with("application/json"))
                        .map(|(_, m)| m["schema"].clone())
                }) else {
                    continue;
                };
                let segments: Vec<Option<String>> = path
                    .split('/')
                    .map(|s| (!s.starts_with('{')).then(|| s.to_owned()))
                    .collect();
                operations
                    .entry((method, segments.len()))
                    .or_default()
                    .push(Operation { segments, schema });
            }
        }
        let schemas = spec["components"]["schemas"].as_object().cloned().unwrap_or_default();
        Self { operations, schemas }
    }

    /// The first field of `body` holding a number or boolean where the operation's schema says
    /// string, as a path such as `identifiers[0].value`.
    pub fn mismatch(&self, method: &Method, path: &str, body: &Value) -> Option<String> {
        let segments: Vec<&str> = path.split('/').collect();
        let operation = self
            .operations
            .get(&(method.clone(), segments.len()))?
            .iter()
            .find(|op| {
                op.segments
                    .iter()
                    .zip(&segments)
                    .all(|(expected, actual)| expected.as_deref().is_none_or(|e| e == *actual))
            })?;
        self.walk(&operation.schema, body, String::new(), 0)
    }

    fn walk(&self, schema: &Value, value: &Value, at: String, depth: usize) -> Option<String> {
        // Schemas nest only as deep as the API's types; the bound keeps a cycle harmless.
        if depth > 32 {
            return None;
        }
        if let Some(name) = schema["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
        {
            return self.walk(self.schemas.get(name)?, value, at, depth + 1);
        }
        // `allOf: [{$ref}]`, and `anyOf: [{$ref}, {type: "null"}]` for a nullable one.
        if let Some(parts) = schema["allOf"].as_array().or_else(|| schema["anyOf"].as_array()) {
            return parts
                .iter()
                .find_map(|part| self.walk(part, value, at.clone(), depth + 1));
        }
        // `type` is a name, or a list of names for a nullable field (`["string", "null"]`).
        let says_string = match &schema["type"] {
            Value::String(kind) => kind == "string",
            Value::Array(kinds) => kinds.iter().any(|kind| kind == "string"),
            _ => false,
        };
        match (says_string, value) {
            (true, Value::Number(_) | Value::Bool(_)) => Some(if at.is_empty() { "body".into() } else { at }),
            (_, Value::Object(fields)) => fields.iter().find_map(|(name, field)| {
                let declared = schema["properties"]
                    .get(name)
                    .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()))?;
                let at = if at.is_empty() {
                    name.clone()
                } else {
                    format!("{at}.{name}")
                };
                self.walk(declared, field, at, depth + 1)
            }),
            (_, Value::Array(items)) => items
                .iter()
                .enumerate()
                .find_map(|(index, item)| self.walk(&schema["items"], item, format!("{at}[{index}]"), depth + 1)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn types() -> BodyTypes {
        BodyTypes::from_spec(&json!({
            "paths": { "/api/things/{id}": { "post": { "requestBody": { "content": { "application/json; charset=utf-8": {
                "schema": { "$ref": "#/components/schemas/Thing" } } } } } } },
            "components": { "schemas": {
                "Thing": { "type": "object", "properties": {
                    "name": { "type": "string" },
                    "count": { "type": "integer" },
                    "tags": { "type": "array", "items": { "$ref": "#/components/schemas/Tag" } },
                    "headers": { "type": "object", "additionalProperties": { "type": "string" } },
                    "data": { "type": "object" },
                    "nickname": { "type": ["string", "null"] },
                    "main_tag": { "anyOf": [{ "$ref": "#/components/schemas/Tag" }, { "type": "null" }] } } },
                "Tag": { "type": "object", "properties": { "value": { "type": "string" } } } } }
        }))
    }

    #[test]
    fn numbers_and_booleans_where_strings_are_declared_are_found() {
        let types = types();
        let post = Method::POST;
        let at = |body: Value| types.mismatch(&post, "/api/things/42", &body);
        assert_eq!(at(json!({ "name": 12345 })).as_deref(), Some("name"));
        assert_eq!(
            at(json!({ "tags": [{ "value": "a" }, { "value": true }] })).as_deref(),
            Some("tags[1].value")
        );
        assert_eq!(at(json!({ "headers": { "X-A": 1 } })).as_deref(), Some("headers.X-A"));
        assert_eq!(at(json!({ "nickname": 7 })).as_deref(), Some("nickname"));
        assert_eq!(
            at(json!({ "main_tag": { "value": false } })).as_deref(),
            Some("main_tag.value")
        );
        assert_eq!(at(json!({ "nickname": null, "main_tag": null })), None);
        assert_eq!(
            at(json!({ "name": "ok", "count": 3, "data": { "n": 1 }, "extra": 5 })),
            None
        );
        assert_eq!(
            types.mismatch(&Method::PUT, "/api/things/42", &json!({ "name": 1 })),
            None
        );
        assert_eq!(types.mismatch(&post, "/api/things", &json!({ "name": 1 })), None);
    }
}
