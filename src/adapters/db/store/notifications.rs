use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};

use super::{SqlStore, paged};
use crate::adapters::db::entities::{mail_outbox, notification, user};
use crate::domain::Result;
use crate::domain::identity::account::AccountStatus;
use crate::domain::identity::mail_outbox::MailStatus;
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

/// Writes the notification and, when its user asked for notifications by email and is active,
/// queues its mail in the same statement's transaction (`INSERT ... SELECT` from the user: no
/// read, and a user who opts out never gets one queued after).
pub(super) async fn notify<C: ConnectionTrait>(txn: &C, n: Notification) -> Result<()> {
    use mail_outbox::Column as M;
    let mail = Query::select()
        .expr(Expr::val(format!("mail-{}", n.id)))
        .column(user::Column::Email)
        .expr(Expr::val(n.title.clone()))
        .expr(Expr::val(""))
        .expr(Expr::val(MailStatus::Pending.as_str()))
        .expr(Expr::val(0))
        .expr(Expr::val(n.created_at))
        .expr(Expr::val(n.created_at))
        .expr(Expr::val(n.id.clone()))
        .from(user::Entity)
        .and_where(user::Column::Id.eq(n.user_id.as_str()))
        .and_where(user::Column::NotifyByEmail.eq(true))
        .and_where(user::Column::Status.eq(AccountStatus::Active.as_str()))
        .to_owned();
    let queue = Query::insert()
        .into_table(mail_outbox::Entity)
        .columns([
            M::MailId,
            M::Recipient,
            M::Subject,
            M::SealedBody,
            M::Status,
            M::Attempts,
            M::NextAttemptAt,
            M::CreatedAt,
            M::NotificationId,
        ])
        .select_from(mail)
        .map_err(|err| crate::domain::Error::internal(format!("notification mail: {err}")))?
        .to_owned();
    notification::Entity::insert(notification::ActiveModel {
        id: Set(n.id),
        user_id: Set(n.user_id),
        notification_type: Set(n.notification_type.as_str().to_owned()),
        title: Set(n.title),
        message: Set(n.message),
        read: Set(n.read),
        created_at: Set(n.created_at),
        data: Set(n.data),
    })
    .exec_without_returning(txn)
    .await?;
    txn.execute(&queue).await?;
    Ok(())
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

    async fn notify_by_email(&self, user_id: &str) -> Result<bool> {
        let row = self
            .db
            .read("notify_by_email", |c| {
                Box::pin(async move { Ok(user::Entity::find_by_id(user_id).one(c).await?) })
            })
            .await?;
        Ok(row.is_some_and(|user| user.notify_by_email))
    }

    async fn set_notify_by_email(&self, user_id: &str, enabled: bool) -> Result<()> {
        self.db
            .read("set_notify_by_email", |c| {
                Box::pin(async move {
                    user::Entity::update_many()
                        .col_expr(user::Column::NotifyByEmail, Expr::value(enabled))
                        .filter(user::Column::Id.eq(user_id))
                        .exec(c)
                        .await?;
                    Ok(())
                })
            })
            .await
    }
}
