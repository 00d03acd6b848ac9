use sea_orm::sea_query::{Condition, Query};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::items::{items_in_users_circuits, items_owned_by, items_pulled_by};
use super::{SqlStore, paged};
use crate::adapters::db::entities::{circuit_item, event, local_event};
use crate::domain::Result;
use crate::domain::items::event::{Event, LocalEvent, Visibility};
use crate::domain::items::ports::{EventFilter, EventRepo};
use crate::domain::page::{Cursor, Page, PageRequest};

pub(super) fn event_of(row: event::Model) -> Result<Event> {
    Ok(Event {
        visibility: row.visibility.parse()?,
        event_id: row.event_id,
        dfid: row.dfid,
        event_type: row.event_type,
        source: row.source,
        metadata: row.metadata,
        occurred_at: row.occurred_at,
        recorded_at: row.recorded_at,
        content_hash: row.content_hash,
    })
}

fn local_event_of(row: local_event::Model) -> Result<LocalEvent> {
    Ok(LocalEvent {
        visibility: row.visibility.parse()?,
        local_event_id: row.local_event_id,
        owner_id: row.owner_id,
        event_type: row.event_type,
        metadata: row.metadata,
        occurred_at: row.occurred_at,
        created_at: row.created_at,
        event_id: row.event_id,
        dfid: row.dfid,
    })
}

fn events_page(rows: Vec<event::Model>, page: &PageRequest) -> Result<Page<Event>> {
    let events = rows.into_iter().map(event_of).collect::<Result<Vec<_>>>()?;
    Ok(Page::from_rows(events, page, |e| Cursor {
        at: e.occurred_at,
        id: e.event_id.clone(),
    }))
}

#[async_trait::async_trait]
impl EventRepo for SqlStore {
    async fn event(&self, event_id: &str) -> Result<Option<Event>> {
        let row = self
            .db
            .read("event", |c| {
                Box::pin(async move { Ok(event::Entity::find_by_id(event_id).one(c).await?) })
            })
            .await?;
        row.map(event_of).transpose()
    }

    async fn event_by_hash(&self, content_hash: &str) -> Result<Option<Event>> {
        let row = self
            .db
            .read("event_by_hash", |c| {
                Box::pin(async move {
                    Ok(event::Entity::find()
                        .filter(event::Column::ContentHash.eq(content_hash))
                        .one(c)
                        .await?)
                })
            })
            .await?;
        row.map(event_of).transpose()
    }

    async fn item_events(
        &self,
        dfid: &str,
        viewer: &str,
        kinds: &[Visibility],
        page: &PageRequest,
    ) -> Result<Page<Event>> {
        let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        let select = event::Entity::find().filter(event::Column::Dfid.eq(dfid)).filter(
            Condition::any()
                .add(event::Column::Visibility.is_in(kinds))
                .add(event::Column::Source.eq(viewer)),
        );
        let select = paged(select, event::Column::OccurredAt, event::Column::EventId, page);
        let rows = self
            .db
            .read("item_events", |c| Box::pin(async move { Ok(select.all(c).await?) }))
            .await?;
        events_page(rows, page)
    }

    async fn visible_events(&self, viewer: &str, filter: &EventFilter, page: &PageRequest) -> Result<Page<Event>> {
        let own_or = |kinds: &[&str]| {
            Condition::any()
                .add(event::Column::Visibility.is_in(kinds.to_vec()))
                .add(event::Column::Source.eq(viewer))
        };
        // The rules of ItemRelation::can_see_event, as SQL: owners see everything on their
        // items; members of a circuit holding the item see Public and CircuitOnly; those it was
        // pulled to see Public; everyone sees their own events on items they can see.
        let visible = Condition::any()
            .add(event::Column::Dfid.in_subquery(items_owned_by(viewer)))
            .add(
                Condition::all()
                    .add(event::Column::Dfid.in_subquery(items_in_users_circuits(viewer)))
                    .add(own_or(&["Public", "CircuitOnly"])),
            )
            .add(
                Condition::all()
                    .add(event::Column::Dfid.in_subquery(items_pulled_by(viewer)))
                    .add(own_or(&["Public"])),
            );
        let mut select = event::Entity::find().filter(visible);
        if let Some(circuit_id) = &filter.circuit_id {
            let held = Query::select()
                .column(circuit_item::Column::Dfid)
                .from(circuit_item::Entity)
                .and_where(circuit_item::Column::CircuitId.eq(circuit_id.as_str()))
                .to_owned();
            select = select.filter(event::Column::Dfid.in_subquery(held));
        }
        if let Some(dfid) = &filter.dfid {
            select = select.filter(event::Column::Dfid.eq(dfid.as_str()));
        }
        if let Some(event_type) = &filter.event_type {
            select = select.filter(event::Column::EventType.eq(event_type.as_str()));
        }
        if let Some(visibility) = filter.visibility {
            select = select.filter(event::Column::Visibility.eq(visibility.as_str()));
        }
        if let Some(from) = filter.from {
            select = select.filter(event::Column::OccurredAt.gte(from));
        }
        if let Some(to) = filter.to {
            select = select.filter(event::Column::OccurredAt.lte(to));
        }
        let select = paged(select, event::Column::OccurredAt, event::Column::EventId, page);
        let rows = self
            .db
            .read("visible_events", |c| Box::pin(async move { Ok(select.all(c).await?) }))
            .await?;
        events_page(rows, page)
    }

    async fn public_events(&self, dfid: &str, limit: u32) -> Result<Vec<Event>> {
        let rows = self
            .db
            .read("public_events", |c| {
                Box::pin(async move {
                    Ok(event::Entity::find()
                        .filter(event::Column::Dfid.eq(dfid))
                        .filter(event::Column::Visibility.eq(Visibility::Public.as_str()))
                        .order_by_desc(event::Column::OccurredAt)
                        .order_by_desc(event::Column::EventId)
                        .limit(u64::from(limit))
                        .all(c)
                        .await?)
                })
            })
            .await?;
        rows.into_iter().map(event_of).collect()
    }

    async fn local_event(&self, local_event_id: &str) -> Result<Option<LocalEvent>> {
        let row = self
            .db
            .read("local_event", |c| {
                Box::pin(async move { Ok(local_event::Entity::find_by_id(local_event_id).one(c).await?) })
            })
            .await?;
        row.map(local_event_of).transpose()
    }

    async fn local_events(&self, owner_id: &str, page: &PageRequest) -> Result<Page<LocalEvent>> {
        let select = local_event::Entity::find()
            .filter(local_event::Column::OwnerId.eq(owner_id))
            .filter(local_event::Column::EventId.is_null());
        let select = paged(
            select,
            local_event::Column::CreatedAt,
            local_event::Column::LocalEventId,
            page,
        );
        let rows = self
            .db
            .read("local_events", |c| Box::pin(async move { Ok(select.all(c).await?) }))
            .await?;
        let events = rows.into_iter().map(local_event_of).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(events, page, |e| Cursor {
            at: e.created_at,
            id: e.local_event_id.clone(),
        }))
    }
}
