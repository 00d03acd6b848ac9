use ipnet::IpNet;
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use super::{SqlStore, paged};
use crate::adapters::db::entities::api_key;
use crate::domain::Result;
use crate::domain::identity::access::{ApiKey, KeyPermissions};
use crate::domain::identity::ports::{ApiKeyRepo, KeyUsage};
use crate::domain::page::{Cursor, Page, PageRequest};

pub(super) fn ips_json(ips: &[IpNet]) -> serde_json::Value {
    serde_json::json!(ips.iter().map(ToString::to_string).collect::<Vec<_>>())
}

fn strings_of(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

pub(super) fn api_key_active_model(key: &ApiKey) -> api_key::ActiveModel {
    api_key::ActiveModel {
        id: Set(key.id.clone()),
        user_id: Set(key.user_id.clone()),
        name: Set(key.name.clone()),
        key_hash: Set(key.key_hash.clone()),
        key_prefix: Set(key.key_prefix.clone()),
        can_read: Set(key.permissions.read),
        can_write: Set(key.permissions.write),
        can_admin: Set(key.permissions.admin),
        is_active: Set(key.is_active),
        created_at: Set(key.created_at),
        expires_at: Set(key.expires_at),
        last_used_at: Set(key.last_used_at),
        usage_count: Set(key.usage_count),
        allowed_ips: Set(ips_json(&key.allowed_ips)),
        allowed_endpoints: Set(serde_json::json!(key.allowed_endpoints)),
        rate_limit_per_hour: Set(key.rate_limit_per_hour.map(|r| r as i64)),
        organization_type: Set(key.organization_type.clone()),
        notes: Set(key.notes.clone()),
        revoked_at: Set(key.revoked_at),
    }
}

fn api_key_of(model: api_key::Model) -> ApiKey {
    ApiKey {
        permissions: KeyPermissions {
            read: model.can_read,
            write: model.can_write,
            admin: model.can_admin,
        },
        allowed_ips: strings_of(&model.allowed_ips)
            .iter()
            .filter_map(|ip| ip.parse().ok())
            .collect(),
        allowed_endpoints: strings_of(&model.allowed_endpoints),
        rate_limit_per_hour: model.rate_limit_per_hour.and_then(|r| u64::try_from(r).ok()),
        id: model.id,
        user_id: model.user_id,
        name: model.name,
        key_hash: model.key_hash,
        key_prefix: model.key_prefix,
        is_active: model.is_active,
        created_at: model.created_at,
        expires_at: model.expires_at,
        last_used_at: model.last_used_at,
        usage_count: model.usage_count,
        organization_type: model.organization_type,
        notes: model.notes,
        revoked_at: model.revoked_at,
    }
}

#[async_trait::async_trait]
impl ApiKeyRepo for SqlStore {
    async fn api_key(&self, key_id: &str) -> Result<Option<ApiKey>> {
        let found = self
            .db
            .read("api_key", |c| {
                Box::pin(async move { Ok(api_key::Entity::find_by_id(key_id).one(c).await?) })
            })
            .await?;
        Ok(found.map(api_key_of))
    }

    async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>> {
        let found = self
            .db
            .read("api_key_by_hash", |c| {
                Box::pin(async move {
                    Ok(api_key::Entity::find()
                        .filter(api_key::Column::KeyHash.eq(key_hash))
                        .one(c)
                        .await?)
                })
            })
            .await?;
        Ok(found.map(api_key_of))
    }

    async fn api_keys(&self, user_id: &str, page: &PageRequest) -> Result<Page<ApiKey>> {
        let select = api_key::Entity::find()
            .filter(api_key::Column::UserId.eq(user_id))
            .filter(api_key::Column::RevokedAt.is_null());
        let select = paged(select, api_key::Column::CreatedAt, api_key::Column::Id, page);
        let rows = self
            .db
            .read("api_keys", |c| Box::pin(async move { Ok(select.all(c).await?) }))
            .await?;
        Ok(Page::from_rows(rows.into_iter().map(api_key_of).collect(), page, |k| {
            Cursor {
                at: k.created_at,
                id: k.id.clone(),
            }
        }))
    }

    async fn active_key_hashes(&self, user_id: &str) -> Result<Vec<String>> {
        let select = api_key::Entity::find()
            .select_only()
            .column(api_key::Column::KeyHash)
            .filter(api_key::Column::UserId.eq(user_id))
            .filter(api_key::Column::RevokedAt.is_null())
            .into_tuple::<String>();
        self.db
            .read("active_key_hashes", |c| {
                Box::pin(async move { Ok(select.all(c).await?) })
            })
            .await
    }

    async fn add_key_usage(&self, usage: Vec<KeyUsage>) -> Result<()> {
        self.db
            .write("add_key_usage", move |txn| {
                Box::pin(async move {
                    for item in usage {
                        api_key::Entity::update_many()
                            .col_expr(
                                api_key::Column::UsageCount,
                                Expr::col(api_key::Column::UsageCount).add(item.count),
                            )
                            .filter(api_key::Column::Id.eq(item.key_id.clone()))
                            .exec(txn)
                            .await?;
                        // Replicas flush independently; last_used_at only moves forward.
                        api_key::Entity::update_many()
                            .col_expr(api_key::Column::LastUsedAt, Expr::value(item.last_used_at))
                            .filter(api_key::Column::Id.eq(item.key_id))
                            .filter(
                                sea_orm::sea_query::Condition::any()
                                    .add(api_key::Column::LastUsedAt.is_null())
                                    .add(api_key::Column::LastUsedAt.lt(item.last_used_at)),
                            )
                            .exec(txn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .await
    }
}
