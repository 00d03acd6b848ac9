use sea_orm::sea_query::{Condition, LikeExpr};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, EntityTrait, QueryFilter,
};

use super::{SqlStore, paged};
use crate::adapters::db::entities::{reset_token, session, user};
use crate::domain::identity::access::Session;
use crate::domain::identity::account::Account;
use crate::domain::identity::ports::{AccountFilter, AccountRepo, ResetToken};
use crate::domain::page::{Cursor, Page, PageRequest};
use crate::domain::{Error, Result};

pub(super) fn user_active_model(account: &Account) -> user::ActiveModel {
    user::ActiveModel {
        id: Set(account.id.clone()),
        username: Set(account.username.clone()),
        username_key: Set(account.username.to_lowercase()),
        email: Set(account.email.clone()),
        email_key: Set(account.email.to_lowercase()),
        password_hash: Set(account.password_hash.clone()),
        tier: Set(account.tier.as_str().to_owned()),
        status: Set(account.status.as_str().to_owned()),
        status_reason: Set(None),
        is_admin: Set(account.is_admin),
        workspace_id: Set(account.workspace_id.clone()),
        session_epoch: Set(account.session_epoch),
        created_at: Set(account.created_at),
        updated_at: Set(account.updated_at),
        last_login_at: Set(account.last_login_at),
        // Only its own route changes it.
        notify_by_email: NotSet,
    }
}

fn account_of(model: user::Model) -> Result<Account> {
    Ok(Account {
        tier: model
            .tier
            .parse()
            .map_err(|_| Error::internal(format!("stored tier {:?}", model.tier)))?,
        status: model
            .status
            .parse()
            .map_err(|_| Error::internal(format!("stored status {:?}", model.status)))?,
        id: model.id,
        username: model.username,
        email: model.email,
        password_hash: model.password_hash,
        is_admin: model.is_admin,
        workspace_id: model.workspace_id,
        session_epoch: model.session_epoch,
        created_at: model.created_at,
        updated_at: model.updated_at,
        last_login_at: model.last_login_at,
    })
}

#[async_trait::async_trait]
impl AccountRepo for SqlStore {
    async fn account(&self, user_id: &str) -> Result<Option<Account>> {
        let found = self
            .db
            .read("account", |c| {
                Box::pin(async move { Ok(user::Entity::find_by_id(user_id).one(c).await?) })
            })
            .await?;
        found.map(account_of).transpose()
    }

    async fn account_by_login(&self, login: &str) -> Result<Option<Account>> {
        let found = self
            .db
            .read("account_by_login", |c| {
                Box::pin(async move {
                    // Two indexed lookups rather than one OR, so each uses its unique index.
                    if let Some(found) = user::Entity::find()
                        .filter(user::Column::UsernameKey.eq(login))
                        .one(c)
                        .await?
                    {
                        return Ok(Some(found));
                    }
                    Ok(user::Entity::find()
                        .filter(user::Column::EmailKey.eq(login))
                        .one(c)
                        .await?)
                })
            })
            .await?;
        found.map(account_of).transpose()
    }

    async fn accounts(&self, filter: &AccountFilter, page: &PageRequest) -> Result<Page<Account>> {
        let mut select = user::Entity::find();
        if let Some(tier) = filter.tier {
            select = select.filter(user::Column::Tier.eq(tier.as_str()));
        }
        if let Some(status) = filter.status {
            select = select.filter(user::Column::Status.eq(status.as_str()));
        }
        if let Some(query) = filter.query.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            // `_` and `%` are searched for as themselves (usernames hold underscores).
            let escaped: String = query
                .to_lowercase()
                .chars()
                .flat_map(|c| match c {
                    '\\' | '%' | '_' => vec!['\\', c],
                    c => vec![c],
                })
                .collect();
            let pattern = || LikeExpr::new(format!("%{escaped}%")).escape('\\');
            select = select.filter(
                Condition::any()
                    .add(user::Column::UsernameKey.like(pattern()))
                    .add(user::Column::EmailKey.like(pattern())),
            );
        }
        let select = paged(select, user::Column::CreatedAt, user::Column::Id, page);
        let rows = self
            .db
            .read("accounts", |c| Box::pin(async move { Ok(select.all(c).await?) }))
            .await?;
        let accounts = rows.into_iter().map(account_of).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(accounts, page, |a| Cursor {
            at: a.created_at,
            id: a.id.clone(),
        }))
    }

    async fn session(&self, session_id: &str) -> Result<Option<Session>> {
        let found = self
            .db
            .read("session", |c| {
                Box::pin(async move { Ok(session::Entity::find_by_id(session_id).one(c).await?) })
            })
            .await?;
        Ok(found.map(|s| Session {
            id: s.id,
            user_id: s.user_id,
            epoch: s.epoch,
            created_at: s.created_at,
            expires_at: s.expires_at,
            max_expires_at: s.max_expires_at,
            revoked_at: s.revoked_at,
            ip: s.ip,
            user_agent: s.user_agent,
        }))
    }

    async fn reset_token(&self, token_hash: &str) -> Result<Option<ResetToken>> {
        let found = self
            .db
            .read("reset_token", |c| {
                Box::pin(async move { Ok(reset_token::Entity::find_by_id(token_hash).one(c).await?) })
            })
            .await?;
        Ok(found.map(|t| ResetToken {
            token_hash: t.token_hash,
            user_id: t.user_id,
            expires_at: t.expires_at,
            used_at: t.used_at,
        }))
    }
}
