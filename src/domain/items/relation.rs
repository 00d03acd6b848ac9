//! Who may see and change an item, and the loaders that answer it for one caller.

use crate::domain::circuits::roles::{Member, Permission};
use crate::domain::items::dfid::Dfid;
use crate::domain::items::event::{Event, Visibility};
use crate::domain::items::item::Item;
use crate::domain::items::ports::{ItemRepo, ViewerFacts};
use crate::domain::{Error, Result};

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

    /// 404 unless visible, 403 `owner_required` unless this user owns the item.
    pub fn require_owner(&self, action: &str) -> Result<(), Error> {
        self.require_visible()?;
        if self.is_owner {
            Ok(())
        } else {
            Err(Error::forbidden(
                "owner_required",
                format!("only the item's owner {action}"),
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

/// The item and the caller's relation to it, or `None` when it does not exist.
pub(crate) async fn item_and_relation<S: ItemRepo + ?Sized>(
    store: &S,
    dfid: &str,
    user_id: &str,
) -> Result<Option<(Item, ItemRelation)>> {
    let Some((item, facts)) = store.item_for(dfid, user_id).await? else {
        return Ok(None);
    };
    let relation = ItemRelation::of(&item, facts, user_id);
    Ok(Some((item, relation)))
}

impl ItemRelation {
    /// `user_id`'s relation to `item`, from what the store found about them.
    pub(crate) fn of(item: &Item, facts: ViewerFacts, user_id: &str) -> Self {
        Self {
            user_id: user_id.to_owned(),
            is_owner: item.created_by == user_id,
            memberships: facts.memberships,
            pulled: facts.pulled,
            local_id: facts.local_id,
        }
    }
}

/// The item and the caller's relation to it; 400 for a malformed DFID, 404 when invisible.
pub(crate) async fn visible_item<S: ItemRepo + ?Sized>(
    store: &S,
    dfid: &str,
    user_id: &str,
) -> Result<(Item, ItemRelation)> {
    let dfid = Dfid::parse(dfid)?;
    let (item, relation) = item_and_relation(store, dfid.as_str(), user_id)
        .await?
        .ok_or_else(|| Error::not_found("item"))?;
    relation.require_visible()?;
    Ok((item, relation))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::circuits::roles::MemberRole;
    use crate::domain::items::event::EventTimes;
    use serde_json::json;

    fn event(source: &str, visibility: Visibility) -> Event {
        Event::new(
            "event-1".into(),
            "DFID-20261126-000001-FF10",
            "x",
            visibility,
            source,
            json!({}),
            EventTimes::now(chrono::Utc::now()),
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
}
