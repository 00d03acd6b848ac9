//! The unit of work: each `Change` becomes typed statements, all in one transaction.

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::SqlStore;
use super::accounts::user_active_model;
use super::api_keys::{api_key_active_model, ips_json};
use crate::adapters::db::UNIQUE_VIOLATION;
use crate::adapters::db::entities::{api_key, audit, reset_token, session, user, workspace};
use crate::domain::changes::{Change, UnitOfWork};
use crate::domain::{CONCURRENT_WRITE, Error, Result};

/// Unique indexes whose violation means something to the use case, and the code each one
/// becomes. PostgreSQL names the index (or `<table>_pkey`) in its message, SQLite the columns.
const UNIQUE_RULES: &[(&[&str], &str, &str)] = &[
    (
        &["ux_users_username_key", "users.username_key"],
        "username_taken",
        "this username is taken",
    ),
    (
        &["ux_users_email_key", "users.email_key"],
        "email_taken",
        "this email is already registered",
    ),
    (
        &["pk_canonical_names", "canonical_names_pkey", "canonical_names.key"],
        CONCURRENT_WRITE,
        "a canonical identifier was claimed meanwhile",
    ),
    (
        &["ux_events_content_hash", "events.content_hash"],
        CONCURRENT_WRITE,
        "the same event was recorded meanwhile",
    ),
    (
        &[
            "pk_circuit_members",
            "circuit_members_pkey",
            "circuit_members.circuit_id",
        ],
        "already_member",
        "this user is already a member",
    ),
    (
        &["ux_circuit_roles_name", "circuit_roles.circuit_id"],
        "role_name_taken",
        "this circuit has a role with that name",
    ),
];

fn name_unique_violation(err: Error) -> Error {
    if !err.is(UNIQUE_VIOLATION) {
        return err;
    }
    UNIQUE_RULES
        .iter()
        .find(|(needles, _, _)| needles.iter().any(|needle| err.message.contains(needle)))
        .map_or(err.clone(), |(_, code, message)| Error::conflict(*code, *message))
}

#[async_trait::async_trait]
impl UnitOfWork for SqlStore {
    async fn commit(&self, changes: Vec<Change>) -> Result<()> {
        let notifications = Change::notifications(&changes);
        let queues_work = changes.iter().any(|change| {
            matches!(
                change,
                Change::Trigger(_) | Change::InsertStorageRecord(_) | Change::InsertDelivery(_)
            )
        });
        self.apply_all(changes).await?;
        for notification in &notifications {
            self.hooks.notifier.publish(notification).await;
        }
        if queues_work {
            self.hooks.outbox.notify_waiters();
        }
        Ok(())
    }
}

impl SqlStore {
    async fn apply_all(&self, mut changes: Vec<Change>) -> Result<()> {
        // One statement needs no transaction around it: it is atomic on its own, and BEGIN and
        // COMMIT would triple its round trips.
        if changes.len() == 1 && changes.first().is_some_and(is_single_statement) {
            let change = changes.remove(0);
            return self
                .db
                .read("commit", |c| Box::pin(async move { apply(c, change).await }))
                .await
                .map_err(name_unique_violation);
        }
        self.db
            .write("commit", move |txn| {
                Box::pin(async move {
                    for change in changes {
                        apply(txn, change).await?;
                    }
                    Ok(())
                })
            })
            .await
            .map_err(name_unique_violation)
    }
}

/// Whether `apply` runs exactly one statement for this change.
fn is_single_statement(change: &Change) -> bool {
    !matches!(
        change,
        Change::AddIdentifiers { .. }
            | Change::RevokeSessions { .. }
            | Change::SetPublishedItems { .. }
            | Change::Trigger(_)
            | Change::RecordAttempt { .. }
            | Change::RecordStorage { .. }
    )
}

async fn apply<C: ConnectionTrait>(txn: &C, change: Change) -> Result<()> {
    match change {
        Change::InsertWorkspace {
            id,
            name,
            owner_id,
            created_at,
        } => {
            workspace::Entity::insert(workspace::ActiveModel {
                id: Set(id),
                name: Set(name),
                owner_id: Set(owner_id),
                created_at: Set(created_at),
            })
            .exec_without_returning(txn)
            .await?;
        }
        Change::InsertAccount(account) => {
            user::Entity::insert(user_active_model(&account))
                .exec_without_returning(txn)
                .await?;
        }
        Change::RecordLogin {
            user_id,
            at,
            new_password_hash,
        } => {
            let mut update = user::Entity::update_many()
                .col_expr(user::Column::LastLoginAt, Expr::value(at))
                .filter(user::Column::Id.eq(user_id));
            if let Some(hash) = new_password_hash {
                update = update
                    .col_expr(user::Column::PasswordHash, Expr::value(hash))
                    .col_expr(user::Column::UpdatedAt, Expr::value(at));
            }
            update.exec(txn).await?;
        }
        Change::SetPasswordHash {
            user_id,
            password_hash,
            at,
        } => {
            user::Entity::update_many()
                .col_expr(user::Column::PasswordHash, Expr::value(password_hash))
                .col_expr(user::Column::UpdatedAt, Expr::value(at))
                .filter(user::Column::Id.eq(user_id))
                .exec(txn)
                .await?;
        }
        Change::SetTier { user_id, tier, at } => {
            user::Entity::update_many()
                .col_expr(user::Column::Tier, Expr::value(tier.as_str()))
                .col_expr(user::Column::UpdatedAt, Expr::value(at))
                .filter(user::Column::Id.eq(user_id))
                .exec(txn)
                .await?;
        }
        Change::SetStatus {
            user_id,
            status,
            reason,
            at,
        } => {
            user::Entity::update_many()
                .col_expr(user::Column::Status, Expr::value(status.as_str()))
                .col_expr(user::Column::StatusReason, Expr::value(reason))
                .col_expr(user::Column::UpdatedAt, Expr::value(at))
                .filter(user::Column::Id.eq(user_id))
                .exec(txn)
                .await?;
        }
        Change::InsertSession(s) => {
            session::Entity::insert(session::ActiveModel {
                id: Set(s.id),
                user_id: Set(s.user_id),
                epoch: Set(s.epoch),
                created_at: Set(s.created_at),
                expires_at: Set(s.expires_at),
                max_expires_at: Set(s.max_expires_at),
                revoked_at: Set(s.revoked_at),
                ip: Set(s.ip),
                user_agent: Set(s.user_agent),
            })
            .exec_without_returning(txn)
            .await?;
        }
        Change::ExtendSession { session_id, expires_at } => {
            session::Entity::update_many()
                .col_expr(session::Column::ExpiresAt, Expr::value(expires_at))
                .filter(session::Column::Id.eq(session_id))
                .exec(txn)
                .await?;
        }
        Change::RevokeSession { session_id, at } => {
            session::Entity::update_many()
                .col_expr(session::Column::RevokedAt, Expr::value(at))
                .filter(session::Column::Id.eq(session_id))
                .filter(session::Column::RevokedAt.is_null())
                .exec(txn)
                .await?;
        }
        Change::RevokeSessions {
            user_id,
            keep,
            new_epoch,
            at,
        } => {
            let mut revoke = session::Entity::update_many()
                .col_expr(session::Column::RevokedAt, Expr::value(at))
                .filter(session::Column::UserId.eq(user_id.clone()))
                .filter(session::Column::RevokedAt.is_null());
            if let Some(keep) = &keep {
                revoke = revoke.filter(session::Column::Id.ne(keep.clone()));
            }
            revoke.exec(txn).await?;
            user::Entity::update_many()
                .col_expr(user::Column::SessionEpoch, Expr::value(new_epoch))
                .filter(user::Column::Id.eq(user_id))
                .exec(txn)
                .await?;
            if let Some(keep) = keep {
                session::Entity::update_many()
                    .col_expr(session::Column::Epoch, Expr::value(new_epoch))
                    .filter(session::Column::Id.eq(keep))
                    .exec(txn)
                    .await?;
            }
        }
        Change::InsertResetToken {
            token_hash,
            user_id,
            created_at,
            expires_at,
        } => {
            reset_token::Entity::insert(reset_token::ActiveModel {
                token_hash: Set(token_hash),
                user_id: Set(user_id),
                created_at: Set(created_at),
                expires_at: Set(expires_at),
                used_at: Set(None),
            })
            .exec_without_returning(txn)
            .await?;
        }
        Change::ConsumeResetToken { token_hash, at } => {
            // One conditional update decides: of concurrent uses, only one sees the token unused.
            let consumed = reset_token::Entity::update_many()
                .col_expr(reset_token::Column::UsedAt, Expr::value(at))
                .filter(reset_token::Column::TokenHash.eq(token_hash))
                .filter(reset_token::Column::UsedAt.is_null())
                .filter(reset_token::Column::ExpiresAt.gt(at))
                .exec(txn)
                .await?;
            if consumed.rows_affected != 1 {
                return Err(Error::invalid(
                    "invalid_token",
                    "this reset token is invalid, used or expired",
                ));
            }
        }
        Change::InsertApiKey(key) => {
            api_key::Entity::insert(api_key_active_model(&key))
                .exec_without_returning(txn)
                .await?;
        }
        Change::UpdateApiKey(key) => {
            api_key::Entity::update_many()
                .col_expr(api_key::Column::Name, Expr::value(key.name))
                .col_expr(api_key::Column::IsActive, Expr::value(key.is_active))
                .col_expr(api_key::Column::Notes, Expr::value(key.notes))
                .col_expr(api_key::Column::AllowedIps, Expr::value(ips_json(&key.allowed_ips)))
                .col_expr(
                    api_key::Column::RateLimitPerHour,
                    Expr::value(key.rate_limit_per_hour.map(|r| r as i64)),
                )
                .filter(api_key::Column::Id.eq(key.id))
                .exec(txn)
                .await?;
        }
        Change::RevokeApiKey { key_id, at } => {
            api_key::Entity::update_many()
                .col_expr(api_key::Column::RevokedAt, Expr::value(at))
                .col_expr(api_key::Column::IsActive, Expr::value(false))
                .filter(api_key::Column::Id.eq(key_id))
                .exec(txn)
                .await?;
        }
        Change::Audit(entry) => {
            audit::Entity::insert(audit::ActiveModel {
                id: Set(entry.id),
                action: Set(entry.action),
                actor_id: Set(entry.actor_id),
                target_type: Set(entry.target_type),
                target_id: Set(entry.target_id),
                ip: Set(entry.ip),
                user_agent: Set(entry.user_agent),
                request_id: Set(entry.request_id),
                at: Set(entry.at),
                details: Set(entry.details),
            })
            .exec_without_returning(txn)
            .await?;
        }
        traceability => super::traceability_writes::apply(txn, traceability).await?,
    }
    Ok(())
}
