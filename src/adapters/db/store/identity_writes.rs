//! The unit of work's statements for accounts, sessions, reset tokens, API keys and the audit log.

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::accounts::user_active_model;
use super::api_keys::{api_key_active_model, ips_json};
use crate::adapters::db::entities::{api_key, audit, reset_token, session, user, workspace};
use crate::domain::audit::AuditEntry;
use crate::domain::identity::access::{ApiKey, Session};
use crate::domain::identity::account::{Account, AccountStatus, Tier};
use crate::domain::{Error, Result, Timestamp};

pub(super) async fn insert_workspace<C: ConnectionTrait>(
    txn: &C,
    id: String,
    name: String,
    owner_id: String,
    created_at: Timestamp,
) -> Result<()> {
    workspace::Entity::insert(workspace::ActiveModel {
        id: Set(id),
        name: Set(name),
        owner_id: Set(owner_id),
        created_at: Set(created_at),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

pub(super) async fn insert_account<C: ConnectionTrait>(txn: &C, account: Account) -> Result<()> {
    user::Entity::insert(user_active_model(&account))
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

pub(super) async fn record_login<C: ConnectionTrait>(
    txn: &C,
    user_id: String,
    at: Timestamp,
    new_password_hash: Option<String>,
) -> Result<()> {
    let mut update = user::Entity::update_many()
        .col_expr(user::Column::LastLoginAt, Expr::value(at))
        .filter(user::Column::Id.eq(user_id));
    if let Some(hash) = new_password_hash {
        update = update
            .col_expr(user::Column::PasswordHash, Expr::value(hash))
            .col_expr(user::Column::UpdatedAt, Expr::value(at));
    }
    update.exec(txn).await?;
    Ok(())
}

pub(super) async fn set_password_hash<C: ConnectionTrait>(
    txn: &C,
    user_id: String,
    password_hash: String,
    at: Timestamp,
) -> Result<()> {
    update_account(
        txn,
        user_id,
        at,
        vec![(user::Column::PasswordHash, password_hash.into())],
    )
    .await
}

pub(super) async fn set_tier<C: ConnectionTrait>(txn: &C, user_id: String, tier: Tier, at: Timestamp) -> Result<()> {
    update_account(txn, user_id, at, vec![(user::Column::Tier, tier.as_str().into())]).await
}

pub(super) async fn set_admin<C: ConnectionTrait>(
    txn: &C,
    user_id: String,
    is_admin: bool,
    at: Timestamp,
) -> Result<()> {
    update_account(txn, user_id, at, vec![(user::Column::IsAdmin, is_admin.into())]).await
}

pub(super) async fn set_login<C: ConnectionTrait>(
    txn: &C,
    user_id: String,
    username: Option<String>,
    email: Option<String>,
    at: Timestamp,
) -> Result<()> {
    // The keys are what logins and the unique indexes compare (ignoring case).
    let mut columns = Vec::new();
    if let Some(username) = username {
        columns.push((user::Column::UsernameKey, username.to_lowercase().into()));
        columns.push((user::Column::Username, username.into()));
    }
    if let Some(email) = email {
        columns.push((user::Column::EmailKey, email.to_lowercase().into()));
        columns.push((user::Column::Email, email.into()));
    }
    update_account(txn, user_id, at, columns).await
}

pub(super) async fn set_status<C: ConnectionTrait>(
    txn: &C,
    user_id: String,
    status: AccountStatus,
    reason: Option<String>,
    at: Timestamp,
) -> Result<()> {
    let columns = vec![
        (user::Column::Status, status.as_str().into()),
        (user::Column::StatusReason, reason.into()),
    ];
    update_account(txn, user_id, at, columns).await
}

/// Sets `columns`, and `updated_at` to `at`, on one account.
async fn update_account<C: ConnectionTrait>(
    txn: &C,
    user_id: String,
    at: Timestamp,
    columns: Vec<(user::Column, sea_orm::Value)>,
) -> Result<()> {
    let update = columns.into_iter().fold(
        user::Entity::update_many().col_expr(user::Column::UpdatedAt, Expr::value(at)),
        |update, (column, value)| update.col_expr(column, Expr::value(value)),
    );
    update.filter(user::Column::Id.eq(user_id)).exec(txn).await?;
    Ok(())
}

pub(super) async fn insert_session<C: ConnectionTrait>(txn: &C, s: Session) -> Result<()> {
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
    Ok(())
}

pub(super) async fn extend_session<C: ConnectionTrait>(
    txn: &C,
    session_id: String,
    expires_at: Timestamp,
) -> Result<()> {
    session::Entity::update_many()
        .col_expr(session::Column::ExpiresAt, Expr::value(expires_at))
        .filter(session::Column::Id.eq(session_id))
        .exec(txn)
        .await?;
    Ok(())
}

pub(super) async fn revoke_session<C: ConnectionTrait>(txn: &C, session_id: String, at: Timestamp) -> Result<()> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(at))
        .filter(session::Column::Id.eq(session_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(txn)
        .await?;
    Ok(())
}

pub(super) async fn revoke_sessions<C: ConnectionTrait>(
    txn: &C,
    user_id: String,
    keep: Option<String>,
    new_epoch: i64,
    at: Timestamp,
) -> Result<()> {
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
    Ok(())
}

pub(super) async fn insert_reset_token<C: ConnectionTrait>(
    txn: &C,
    token_hash: String,
    user_id: String,
    created_at: Timestamp,
    expires_at: Timestamp,
) -> Result<()> {
    reset_token::Entity::insert(reset_token::ActiveModel {
        token_hash: Set(token_hash),
        user_id: Set(user_id),
        created_at: Set(created_at),
        expires_at: Set(expires_at),
        used_at: Set(None),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

pub(super) async fn consume_reset_token<C: ConnectionTrait>(txn: &C, token_hash: String, at: Timestamp) -> Result<()> {
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
    Ok(())
}

pub(super) async fn insert_api_key<C: ConnectionTrait>(txn: &C, key: ApiKey) -> Result<()> {
    api_key::Entity::insert(api_key_active_model(&key))
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

pub(super) async fn update_api_key<C: ConnectionTrait>(txn: &C, key: ApiKey) -> Result<()> {
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
    Ok(())
}

pub(super) async fn revoke_api_key<C: ConnectionTrait>(txn: &C, key_id: String, at: Timestamp) -> Result<()> {
    api_key::Entity::update_many()
        .col_expr(api_key::Column::RevokedAt, Expr::value(at))
        .col_expr(api_key::Column::IsActive, Expr::value(false))
        .filter(api_key::Column::Id.eq(key_id))
        .exec(txn)
        .await?;
    Ok(())
}

pub(super) async fn revoke_api_keys_of<C: ConnectionTrait>(txn: &C, user_id: String, at: Timestamp) -> Result<()> {
    api_key::Entity::update_many()
        .col_expr(api_key::Column::RevokedAt, Expr::value(at))
        .col_expr(api_key::Column::IsActive, Expr::value(false))
        .filter(api_key::Column::UserId.eq(user_id))
        .filter(api_key::Column::RevokedAt.is_null())
        .exec(txn)
        .await?;
    Ok(())
}

pub(super) async fn audit<C: ConnectionTrait>(txn: &C, entry: AuditEntry) -> Result<()> {
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
    Ok(())
}
