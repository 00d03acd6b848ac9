//! Items: local items (LIDs) owned by one user, and global items (DFIDs), with who may see and
//! change them.

use serde_json::{Map, Value};

use super::Error;
use super::account::Timestamp;
use super::circuit::{Member, Permission};
use super::event::{Event, Visibility};
use super::identifier::Identifier;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemStatus {
    Active,
    Deprecated,
    Merged,
    Split,
}

impl ItemStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Active => "Active",
            ItemStatus::Deprecated => "Deprecated",
            ItemStatus::Merged => "Merged",
            ItemStatus::Split => "Split",
        }
    }

    pub fn parse(text: &str) -> Result<Self, Error> {
        match text {
            "Active" => Ok(ItemStatus::Active),
            "Deprecated" => Ok(ItemStatus::Deprecated),
            "Merged" => Ok(ItemStatus::Merged),
            "Split" => Ok(ItemStatus::Split),
            _ => Err(Error::internal(format!("stored item status {text:?}"))),
        }
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

/// How one user relates to one item.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemRelation {
    pub user_id: String,
    pub is_owner: bool,
    /// The user's memberships in circuits that hold the item.
    pub memberships: Vec<Member>,
    /// The item was pulled to this user.
    pub pulled: bool,
    /// This user's local item mapped to it, if any.
    pub local_id: Option<String>,
}

impl ItemRelation {
    /// Owner, member of a circuit holding it, or pulled to: everyone else gets 404.
    pub fn can_see(&self) -> bool {
        self.is_owner || !self.memberships.is_empty() || self.pulled
    }

    /// Owner, or a member with Push in a circuit holding it.
    pub fn can_change(&self) -> bool {
        self.is_owner || self.memberships.iter().any(|m| m.can(Permission::Push))
    }

    /// 404 unless visible.
    pub fn require_visible(&self) -> Result<(), Error> {
        if self.can_see() {
            Ok(())
        } else {
            Err(Error::not_found("item"))
        }
    }

    /// 404 unless visible, 403 unless changeable.
    pub fn require_changeable(&self) -> Result<(), Error> {
        self.require_visible()?;
        if self.can_change() {
            Ok(())
        } else {
            Err(Error::forbidden(
                "insufficient_permissions",
                "you may see this item but not change it",
            ))
        }
    }

    /// The circuits holding the item that this user belongs to.
    pub fn circuit_ids(&self) -> Vec<String> {
        self.memberships.iter().map(|m| m.circuit_id.clone()).collect()
    }

    /// Whether this user may read `event` of the item.
    pub fn can_see_event(&self, event: &Event) -> bool {
        if !self.can_see() {
            return false;
        }
        if event.source == self.user_id || self.is_owner {
            return true;
        }
        match event.visibility {
            Visibility::Public => true,
            Visibility::CircuitOnly => !self.memberships.is_empty(),
            Visibility::Private => false,
        }
    }

    /// The event visibilities this user sees regardless of who wrote the event (their own events
    /// are always visible to them).
    pub fn visible_kinds(&self) -> Vec<Visibility> {
        if self.is_owner {
            vec![Visibility::Public, Visibility::CircuitOnly, Visibility::Private]
        } else if !self.memberships.is_empty() {
            vec![Visibility::Public, Visibility::CircuitOnly]
        } else if self.pulled {
            vec![Visibility::Public]
        } else {
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::circuit::MemberRole;
    use serde_json::json;

    fn event(source: &str, visibility: Visibility) -> Event {
        Event::new(
            "DFID-20261126-000001-FF10",
            "x",
            visibility,
            source,
            json!({}),
            chrono::Utc::now(),
            chrono::Utc::now(),
        )
        .unwrap()
    }

    fn member(role: MemberRole) -> Member {
        Member {
            circuit_id: "c".into(),
            user_id: "u".into(),
            username: "u".into(),
            role,
            custom_role: None,
            custom_permissions: None,
            joined_at: chrono::Utc::now(),
        }
    }

    fn relation(is_owner: bool, memberships: Vec<Member>, pulled: bool) -> ItemRelation {
        ItemRelation {
            user_id: "u".into(),
            is_owner,
            memberships,
            pulled,
            local_id: None,
        }
    }

    #[test]
    fn who_sees_and_changes() {
        let stranger = relation(false, vec![], false);
        assert!(!stranger.can_see());
        assert_eq!(stranger.require_changeable().unwrap_err().code, "not_found");
        let viewer = relation(false, vec![member(MemberRole::Viewer)], false);
        assert!(viewer.can_see() && !viewer.can_change());
        assert_eq!(
            viewer.require_changeable().unwrap_err().code,
            "insufficient_permissions"
        );
        let pusher = relation(false, vec![member(MemberRole::Member)], false);
        assert!(pusher.can_change());
        let puller = relation(false, vec![], true);
        assert!(puller.can_see() && !puller.can_change());
        assert!(relation(true, vec![], false).can_change());
    }

    #[test]
    fn event_visibility() {
        let owner = relation(true, vec![], false);
        let member_rel = relation(false, vec![member(MemberRole::Viewer)], false);
        let puller = relation(false, vec![], true);
        let stranger = relation(false, vec![], false);
        let private = event("someone", Visibility::Private);
        let circuit_only = event("someone", Visibility::CircuitOnly);
        let public = event("someone", Visibility::Public);
        assert!(owner.can_see_event(&private) && owner.can_see_event(&circuit_only));
        assert!(!member_rel.can_see_event(&private));
        assert!(member_rel.can_see_event(&circuit_only) && member_rel.can_see_event(&public));
        assert!(!puller.can_see_event(&circuit_only) && puller.can_see_event(&public));
        assert!(!stranger.can_see_event(&public));
        assert!(
            member_rel.can_see_event(&event("u", Visibility::Private)),
            "a source sees its own events"
        );
    }

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
