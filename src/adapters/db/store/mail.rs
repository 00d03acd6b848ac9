//! The mail outbox: queued messages, their attempts, and the worker's claim.

use std::time::Duration;

use sea_orm::sea_query::{Expr, LockBehavior, LockType, Query};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter};

use super::SqlStore;
use super::notifications::notification_of;
use super::partners::{due, lease_end};
use crate::adapters::db::entities::{mail_outbox, notification};
use crate::domain::identity::mail_outbox::{MailOutboxRepo, MailOutcome, MailStatus, QueuedMail};
use crate::domain::partners::notification::Notification;
use crate::domain::{Result, Timestamp};

pub(super) async fn queue_mail<C: ConnectionTrait>(txn: &C, mail: QueuedMail) -> Result<()> {
    mail_outbox::Entity::insert(mail_outbox::ActiveModel {
        mail_id: Set(mail.mail_id),
        recipient: Set(mail.to),
        subject: Set(mail.subject),
        sealed_body: Set(mail.sealed_body),
        status: Set(MailStatus::Pending.as_str().to_owned()),
        attempts: Set(i32::try_from(mail.attempts).unwrap_or(i32::MAX)),
        next_attempt_at: Set(mail.created_at),
        lease_until: Set(None),
        last_error: Set(None),
        created_at: Set(mail.created_at),
        sent_at: Set(None),
        notification_id: Set(mail.notification_id),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

pub(super) async fn record_mail<C: ConnectionTrait>(txn: &C, outcome: MailOutcome) -> Result<()> {
    use mail_outbox::Column as M;
    let sent = outcome.status == MailStatus::Sent;
    let mut update = mail_outbox::Entity::update_many()
        .col_expr(M::Status, Expr::value(outcome.status.as_str()))
        .col_expr(
            M::Attempts,
            Expr::value(i32::try_from(outcome.attempts).unwrap_or(i32::MAX)),
        )
        .col_expr(M::NextAttemptAt, Expr::value(outcome.next_attempt_at))
        .col_expr(M::LeaseUntil, Expr::value(Option::<Timestamp>::None))
        .col_expr(M::LastError, Expr::value(outcome.error));
    if sent {
        // Nothing a sent message said (a reset token) stays behind.
        update = update
            .col_expr(M::SealedBody, Expr::value(""))
            .col_expr(M::SentAt, Expr::value(outcome.at));
    }
    update.filter(M::MailId.eq(outcome.mail_id)).exec(txn).await?;
    Ok(())
}

fn queued(row: mail_outbox::Model) -> QueuedMail {
    QueuedMail {
        mail_id: row.mail_id,
        to: row.recipient,
        subject: row.subject,
        sealed_body: row.sealed_body,
        attempts: u32::try_from(row.attempts).unwrap_or(0),
        created_at: row.created_at,
        notification_id: row.notification_id,
    }
}

#[async_trait::async_trait]
impl MailOutboxRepo for SqlStore {
    async fn mailed_notification(&self, notification_id: &str) -> Result<Option<Notification>> {
        let row = self
            .db
            .read("mailed_notification", |c| {
                Box::pin(async move { Ok(notification::Entity::find_by_id(notification_id).one(c).await?) })
            })
            .await?;
        Ok(row.map(notification_of))
    }

    async fn claim_mail(&self, now: Timestamp, limit: u64, lease: Duration) -> Result<Vec<QueuedMail>> {
        let backend = self.db.backend();
        let rows = self
            .db
            .write("claim_mail", move |txn| {
                Box::pin(async move {
                    use mail_outbox::Column as M;
                    let mut candidates = Query::select()
                        .column(M::MailId)
                        .from(mail_outbox::Entity)
                        .cond_where(due(M::Status, M::NextAttemptAt, M::LeaseUntil, &["Pending"], now))
                        .order_by(M::NextAttemptAt, sea_orm::sea_query::Order::Asc)
                        .limit(limit)
                        .to_owned();
                    // Replicas claim different rows; SQLite serves one instance.
                    if backend == DbBackend::Postgres {
                        candidates.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
                    }
                    Ok(mail_outbox::Entity::update_many()
                        .col_expr(M::Status, Expr::value(MailStatus::InProgress.as_str()))
                        .col_expr(M::LeaseUntil, Expr::value(lease_end(now, lease)))
                        .filter(M::MailId.in_subquery(candidates))
                        .exec_with_returning(txn)
                        .await?)
                })
            })
            .await?;
        Ok(rows.into_iter().map(queued).collect())
    }
}
