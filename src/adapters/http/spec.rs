//! The spec as clients get it. poem-openapi writes a field whose type is a named schema and that
//! carries a description or `nullable` as `allOf: [{$ref}, {description, nullable}]`; client
//! generators (openapi-python-client among them) reject an `allOf` member that is only
//! annotations. OpenAPI 3.0 spells it `allOf: [{$ref}]` with the annotations beside it.

use serde_json::{Map, Value};

/// The document with every annotation-only `allOf` member folded into its parent.
pub fn normalized(document: Value) -> Value {
    match document {
        Value::Object(object) => Value::Object(fold(object)),
        Value::Array(items) => Value::Array(items.into_iter().map(normalized).collect()),
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
    object
        .into_iter()
        .map(|(key, value)| (key, normalized(value)))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::normalized;

    #[test]
    fn annotations_move_beside_the_reference() {
        let field = json!({ "description": "d", "allOf": [{ "$ref": "#/components/schemas/Role" }, { "description": "d", "nullable": true }] });
        assert_eq!(
            normalized(json!({ "properties": { "role": field } })),
            json!({ "properties": { "role": { "description": "d", "nullable": true, "allOf": [{ "$ref": "#/components/schemas/Role" }] } } })
        );
    }

    #[test]
    fn compositions_of_two_schemas_stay() {
        let both = json!({ "allOf": [{ "$ref": "#/components/schemas/A" }, { "$ref": "#/components/schemas/B" }] });
        assert_eq!(normalized(both.clone()), both);
    }
}
