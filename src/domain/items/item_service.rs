//! Local items and global items: create, read, enrich, deprecate.

use crate::domain::identity::access::RequestMeta;
use crate::domain::items::conflicts::ConflictLimit;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use serde_json::{Map, Value, json};

use crate::domain::Timestamp;
use crate::domain::audit::Activity;
use crate::domain::changes::{Change, UnitOfWork};
use crate::domain::circuits::ports::MemberRepo;
use crate::domain::error::retry_on_race;
use crate::domain::identity::access::{Principal, TierPolicy};
use crate::domain::items::event::EventTimes;
use crate::domain::items::event::{Event, Visibility};
use crate::domain::items::identifier::identifier_conflict;
use crate::domain::items::identifier::{
    Identifier, IdentifierInput, MAX_IDENTIFIERS, Namespace, merge_identifier, parse_identifiers,
};
use crate::domain::items::item::{Item, ItemStatus, LocalItem, data_object, merge_data};
use crate::domain::items::local_batch::NewLocalItem;
use crate::domain::items::ports::{EventRepo, ItemFilter, ItemRepo};
use crate::domain::items::relation::{ItemRelation, visible_item};
use crate::domain::page::{Page, PageRequest};
use crate::domain::{Error, Result};
use crate::ports::{Clock, IdGenerator};

combined_port!(
    /// What item use cases need from storage.
    pub trait ItemStore: UnitOfWork, ItemRepo, EventRepo, MemberRepo
);

pub struct ItemService {
    pub(crate) store: Arc<dyn ItemStore>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: Arc<dyn IdGenerator>,
    pub(crate) policy: TierPolicy,
    pub(crate) conflicts: ConflictLimit,
}

/// An item as one caller sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemView {
    pub item: Item,
    /// Circuits holding the item that the caller belongs to.
    pub circuits: Vec<String>,
    /// The caller's local item for it, when the caller owns it.
    pub local_id: Option<String>,
}

/// `(local_id, dfid)` mapping of a local item.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    pub local_id: String,
    pub dfid: Option<String>,
}

impl ItemView {
    /// The item as `relation`'s user sees it.
    pub(crate) fn of(item: Item, relation: &ItemRelation) -> Self {
        let item = item.as_seen_by(&relation.user_id);
        Self {
            circuits: relation.circuit_ids(),
            local_id: relation.local_id.clone().filter(|_| relation.is_owner),
            item,
        }
    }
}

pub(crate) fn month_start(now: Timestamp) -> Timestamp {
    NaiveDate::from_ymd_opt(now.year(), now.month(), 1)
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map_or(now, |start| Utc.from_utc_datetime(&start))
}

impl ItemService {
    /// Creates a local item owned by the caller; counts toward the tier's monthly item limit.
    pub async fn create_local(
        &self,
        principal: &Principal,
        identifiers: Vec<IdentifierInput>,
        enriched_data: Option<Value>,
    ) -> Result<LocalItem> {
        let new = NewLocalItem {
            identifiers,
            enriched_data,
            namespace: None,
        };
        let checked = self.check_local(principal, new)?;
        let mut created = self.create_checked(principal, vec![checked]).await?;
        created
            .pop()
            .ok_or_else(|| Error::internal("a created item went missing"))
    }

    pub async fn local_items(&self, principal: &Principal, page: &PageRequest) -> Result<Page<LocalItem>> {
        self.store.local_items(&principal.user_id, page).await
    }

    /// The caller's own local item; anyone else's is 404.
    pub async fn local_item(&self, principal: &Principal, local_id: &str) -> Result<LocalItem> {
        self.store
            .local_item(local_id)
            .await?
            .filter(|item| item.owner_id == principal.user_id)
            .ok_or_else(|| Error::not_found("local item"))
    }

    pub async fn mapping(&self, principal: &Principal, local_id: &str) -> Result<Mapping> {
        let item = self.local_item(principal, local_id).await?;
        Ok(Mapping {
            local_id: item.local_id,
            dfid: item.dfid,
        })
    }

    pub async fn get(&self, principal: &Principal, dfid: &str) -> Result<ItemView> {
        let (item, relation) = visible_item(self.store.as_ref(), dfid, &principal.user_id).await?;
        Ok(ItemView::of(item, &relation))
    }

    /// Items the caller can see; with `circuit_id`, only that circuit's (404 for non-members).
    pub async fn list(&self, principal: &Principal, filter: &ItemFilter, page: &PageRequest) -> Result<Page<Item>> {
        if let Some(circuit_id) = &filter.circuit_id {
            self.store
                .member(circuit_id, &principal.user_id)
                .await?
                .ok_or_else(|| Error::not_found("circuit"))?;
        }
        if filter.value.is_some() && filter.key.is_none() {
            return Err(Error::field("value", "filter by value together with key"));
        }
        let mut page = self.store.visible_items(&principal.user_id, filter, page).await?;
        page.data = page
            .data
            .into_iter()
            .map(|item| item.as_seen_by(&principal.user_id))
            .collect();
        Ok(page)
    }

    /// Adds identifiers and merges data keys; records an `Enriched` event.
    pub async fn enrich(
        &self,
        principal: &Principal,
        dfid: &str,
        identifiers: Vec<IdentifierInput>,
        enriched_data: Option<Value>,
        meta: &RequestMeta,
    ) -> Result<ItemView> {
        let identifiers = parse_identifiers(identifiers, Namespace::Generic)?;
        let patch = data_object(enriched_data)?;
        let result = retry_on_race(|| self.try_enrich(principal, dfid, identifiers.clone(), patch.clone())).await;
        self.conflicts.screen(result, principal, meta).await
    }

    async fn try_enrich(
        &self,
        principal: &Principal,
        dfid: &str,
        identifiers: Vec<Identifier>,
        patch: Map<String, Value>,
    ) -> Result<ItemView> {
        let (mut item, relation) = visible_item(self.store.as_ref(), dfid, &principal.user_id).await?;
        relation.require_changeable()?;
        if item.status != ItemStatus::Active {
            return Err(Error::conflict(
                "item_not_active",
                format!("this item is {}", item.status.as_str()),
            ));
        }
        let now = self.clock.now();
        let added = enrichment_changes(
            self.store.as_ref(),
            &mut item,
            identifiers,
            patch,
            &principal.user_id,
            now,
        )
        .await?;
        let mut changes = added;
        if !changes.is_empty() {
            let event = Event::new(
                self.ids.new_id(),
                &item.dfid,
                "Enriched",
                Visibility::CircuitOnly,
                &principal.user_id,
                json!({ "via": "patch" }),
                EventTimes::now(now),
            )?;
            changes.push(Change::InsertEvent(event));
            changes.push(Change::Activity(
                Activity::new(
                    self.ids.new_id(),
                    "item_enriched",
                    &principal.user_id,
                    format!("enriched {}", item.dfid),
                    now,
                )
                .on_item(&item.dfid),
            ));
            self.store.commit(changes).await?;
        }
        Ok(ItemView::of(item, &relation))
    }

    /// Marks the item `Deprecated` (owner only).
    pub async fn deprecate(&self, principal: &Principal, dfid: &str) -> Result<ItemView> {
        let (mut item, relation) = visible_item(self.store.as_ref(), dfid, &principal.user_id).await?;
        if !relation.is_owner {
            return Err(Error::forbidden(
                "owner_required",
                "only the item's owner deprecates it",
            ));
        }
        if item.status == ItemStatus::Deprecated {
            return Ok(ItemView::of(item, &relation));
        }
        let now = self.clock.now();
        let previous = item.status;
        let expected_updated_at = item.updated_at;
        item.status = ItemStatus::Deprecated;
        item.updated_at = now;
        let event = Event::new(
            self.ids.new_id(),
            &item.dfid,
            "StatusChanged",
            Visibility::CircuitOnly,
            &principal.user_id,
            json!({ "from": previous.as_str(), "to": "Deprecated" }),
            EventTimes::now(now),
        )?;
        self.store
            .commit(vec![
                Change::UpdateItem {
                    dfid: item.dfid.clone(),
                    expected_updated_at,
                    identifiers: item.identifiers.clone(),
                    enriched_data: item.enriched_data.clone(),
                    status: item.status,
                    updated_at: now,
                },
                Change::InsertEvent(event),
                Change::Activity(
                    Activity::new(
                        self.ids.new_id(),
                        "item_deprecated",
                        &principal.user_id,
                        format!("deprecated {}", item.dfid),
                        now,
                    )
                    .on_item(&item.dfid),
                ),
            ])
            .await?;
        Ok(ItemView::of(item, &relation))
    }

    /// The item's events that the caller may see, newest first.
    pub async fn events(&self, principal: &Principal, dfid: &str, page: &PageRequest) -> Result<Page<Event>> {
        let (item, relation) = visible_item(self.store.as_ref(), dfid, &principal.user_id).await?;
        self.store
            .item_events(&item.dfid, &principal.user_id, &relation.visible_kinds(), page)
            .await
    }
}

/// The changes that add `identifiers` and `patch` to `item` (which is updated in place): new
/// identifiers only, checked against canonical names held by other items (409). Empty when
/// nothing changes.
pub(crate) async fn enrichment_changes<S: ItemRepo + ?Sized>(
    store: &S,
    item: &mut Item,
    identifiers: Vec<Identifier>,
    patch: Map<String, Value>,
    actor_id: &str,
    now: Timestamp,
) -> Result<Vec<Change>> {
    let mut added = Vec::new();
    for identifier in identifiers {
        let identifier = identifier.added_by(actor_id);
        if merge_identifier(&mut item.identifiers, identifier.clone()) {
            added.push(identifier);
        }
    }
    if item.identifiers.len() > MAX_IDENTIFIERS {
        return Err(Error::field(
            "identifiers",
            format!("an item has at most {MAX_IDENTIFIERS}"),
        ));
    }
    let names: Vec<(String, String)> = added
        .iter()
        .filter(|i| i.is_canonical())
        .map(|i| (i.key.clone(), i.value.clone()))
        .collect();
    if !names.is_empty() {
        for (key, value, owner) in store.canonical_owners(&names).await? {
            if owner != item.dfid {
                let identifier = added.iter().find(|i| i.key == key && i.value == value);
                if let Some(identifier) = identifier {
                    return Err(identifier_conflict(identifier));
                }
            }
        }
    }
    let data_changed = merge_data(&mut item.enriched_data, patch);
    if added.is_empty() && !data_changed {
        return Ok(Vec::new());
    }
    let expected_updated_at = item.updated_at;
    item.updated_at = now;
    let mut changes = vec![Change::UpdateItem {
        dfid: item.dfid.clone(),
        expected_updated_at,
        identifiers: item.identifiers.clone(),
        enriched_data: item.enriched_data.clone(),
        status: item.status,
        updated_at: now,
    }];
    if !added.is_empty() {
        changes.push(Change::AddIdentifiers {
            dfid: item.dfid.clone(),
            identifiers: added,
            added_by: actor_id.to_owned(),
            at: now,
        });
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_start_at_midnight_utc_on_the_first() {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 15, 4, 5).unwrap();
        assert_eq!(month_start(now), Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap());
    }
}
