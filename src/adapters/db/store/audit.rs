use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{SqlStore, paged};
use crate::adapters::db::entities::audit;
use crate::domain::Result;
use crate::domain::audit::ports::AuditRepo;
use crate::domain::audit::{AuditEntry, AuditFilter};
use crate::domain::page::{Cursor, Page, PageRequest};

#[async_trait::async_trait]
impl AuditRepo for SqlStore {
    async fn audit(&self, filter: &AuditFilter, page: &PageRequest) -> Result<Page<AuditEntry>> {
        let mut select = audit::Entity::find();
        if let Some(user_id) = &filter.user_id {
            select = select.filter(
                Condition::any()
                    .add(audit::Column::ActorId.eq(user_id.as_str()))
                    .add(audit::Column::TargetId.eq(user_id.as_str())),
            );
        }
        if let Some(action) = &filter.action {
            select = select.filter(audit::Column::Action.eq(action.as_str()));
        }
        if let Some(from) = filter.from {
            select = select.filter(audit::Column::At.gte(from));
        }
        if let Some(to) = filter.to {
            select = select.filter(audit::Column::At.lte(to));
        }
        let select = paged(select, audit::Column::At, audit::Column::Id, page);
        let rows = self
            .db
            .read("audit", |c| Box::pin(async move { Ok(select.all(c).await?) }))
            .await?;
        let entries = rows
            .into_iter()
            .map(|row| AuditEntry {
                id: row.id,
                action: row.action,
                actor_id: row.actor_id,
                target_type: row.target_type,
                target_id: row.target_id,
                ip: row.ip,
                user_agent: row.user_agent,
                request_id: row.request_id,
                at: row.at,
                details: row.details,
            })
            .collect();
        Ok(Page::from_rows(entries, page, |e| Cursor {
            at: e.at,
            id: e.id.clone(),
        }))
    }
}
