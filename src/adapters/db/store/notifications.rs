use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use super::{SqlStore, paged};
use crate::adapters::db::entities::notification;
use crate::domain::Result;
use crate::domain::page::{Cursor, Page, PageRequest};
use crate::domain::partners::notification::{Notification, NotificationType};
use crate::domain::partners::ports::NotificationRepo;

pub(super) fn notification_of(row: notification::Model) -> Notification {
    Notification {
        id: row.id,
        user_id: row.user_id,
        notification_type: NotificationType::from_text(&row.notification_type)
            .unwrap_or(NotificationType::AccountUpdated),
        title: row.title,
        message: row.message,
        read: row.read,
        created_at: row.created_at,
        data: row.data,
    }
}

#[async_trait::async_trait]
impl NotificationRepo for SqlStore {
    async fn notifications(&self, user_id: &str, unread_only: bool, page: &PageRequest) -> Result<Page<Notification>> {
        let mut select = notification::Entity::find().filter(notification::Column::UserId.eq(user_id));
        if unread_only {
            select = select.filter(notification::Column::Read.eq(false));
        }
        let select = paged(select, notification::Column::CreatedAt, notification::Column::Id, page);
        let rows = self
            .db
            .read("notifications", |c| Box::pin(async move { Ok(select.all(c).await?) }))
            .await?;
        Ok(Page::from_rows(
            rows.into_iter().map(notification_of).collect(),
            page,
            |n| Cursor {
                at: n.created_at,
                id: n.id.clone(),
            },
        ))
    }

    async fn unread_count(&self, user_id: &str) -> Result<u64> {
        self.db
            .read("unread_count", |c| {
                Box::pin(async move {
                    Ok(notification::Entity::find()
                        .filter(notification::Column::UserId.eq(user_id))
                        .filter(notification::Column::Read.eq(false))
                        .count(c)
                        .await?)
                })
            })
            .await
    }

    async fn mark_read(&self, user_id: &str, notification_id: &str) -> Result<bool> {
        let updated = self
            .db
            .read("mark_read", |c| {
                Box::pin(async move {
                    Ok(notification::Entity::update_many()
                        .col_expr(notification::Column::Read, Expr::value(true))
                        .filter(notification::Column::UserId.eq(user_id))
                        .filter(notification::Column::Id.eq(notification_id))
                        .exec(c)
                        .await?)
                })
            })
            .await?;
        Ok(updated.rows_affected == 1)
    }

    async fn mark_all_read(&self, user_id: &str) -> Result<u64> {
        let updated = self
            .db
            .read("mark_all_read", |c| {
                Box::pin(async move {
                    Ok(notification::Entity::update_many()
                        .col_expr(notification::Column::Read, Expr::value(true))
                        .filter(notification::Column::UserId.eq(user_id))
                        .filter(notification::Column::Read.eq(false))
                        .exec(c)
                        .await?)
                })
            })
            .await?;
        Ok(updated.rows_affected)
    }

    async fn delete_notification(&self, user_id: &str, notification_id: &str) -> Result<bool> {
        let deleted = self
            .db
            .read("delete_notification", |c| {
                Box::pin(async move {
                    Ok(notification::Entity::delete_many()
                        .filter(notification::Column::UserId.eq(user_id))
                        .filter(notification::Column::Id.eq(notification_id))
                        .exec(c)
                        .await?)
                })
            })
            .await?;
        Ok(deleted.rows_affected == 1)
    }
}
