//! Items: local items (LIDs) owned by one user, and global items (DFIDs), with who may see and
//! change them.

use serde_json::{Map, Value};

use crate::domain::items::identifier::Identifier;
use crate::domain::{Error, Timestamp};

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum ItemStatus {
        Active = "Active",
        Deprecated = "Deprecated",
        Merged = "Merged",
        Split = "Split",
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LocalItem {
    pub local_id: String,
    pub owner_id: String,
    pub identifiers: Vec<Identifier>,
    pub enriched_data: Map<String, Value>,
    pub dfid: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub dfid: String,
    pub identifiers: Vec<Identifier>,
    pub enriched_data: Map<String, Value>,
    pub status: ItemStatus,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub latest_cid: Option<String>,
}

impl Item {
    /// The item's `epc` identifier, when everyone who sees the item sees it.
    pub fn shared_epc(&self) -> Option<&str> {
        self.identifiers
            .iter()
            .find(|identifier| identifier.key == "epc" && identifier.is_shared())
            .map(|identifier| identifier.value.as_str())
    }

    /// The item without the `user`-scoped identifiers others added: what `viewer` is shown.
    pub fn as_seen_by(mut self, viewer: &str) -> Self {
        let owner = self.created_by.clone();
        self.identifiers
            .retain(|identifier| identifier.visible_to(viewer, &owner));
        self
    }
}

/// Merges `patch` into `base` by top-level key: the patch wins, and null never deletes.
/// Returns whether anything changed.
pub fn merge_data(base: &mut Map<String, Value>, patch: Map<String, Value>) -> bool {
    let mut changed = false;
    for (key, value) in patch {
        if value.is_null() || base.get(&key) == Some(&value) {
            continue;
        }
        base.insert(key, value);
        changed = true;
    }
    changed
}

/// Enriched data must be a JSON object of at most this many top-level keys.
pub const MAX_DATA_KEYS: usize = 500;

pub fn data_object(value: Option<Value>) -> Result<Map<String, Value>, Error> {
    match value {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(map)) if map.len() <= MAX_DATA_KEYS => Ok(map),
        Some(Value::Object(_)) => Err(Error::field("enriched_data", format!("at most {MAX_DATA_KEYS} keys"))),
        Some(_) => Err(Error::field("enriched_data", "must be a JSON object")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn data_merges_by_key_and_null_never_deletes() {
        let mut base = json!({ "a": 1, "b": 2 }).as_object().unwrap().clone();
        let patch = json!({ "b": 3, "a": null, "c": 4 }).as_object().unwrap().clone();
        assert!(merge_data(&mut base, patch));
        assert_eq!(Value::Object(base.clone()), json!({ "a": 1, "b": 3, "c": 4 }));
        assert!(!merge_data(&mut base, json!({ "a": 1 }).as_object().unwrap().clone()));
        assert!(data_object(Some(json!([1]))).is_err());
    }
}
