use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub key_hash: String,
    pub key_prefix: String,
    pub can_read: bool,
    pub can_write: bool,
    pub can_admin: bool,
    pub is_active: bool,
    pub created_at: DateTimeUtc,
    pub expires_at: Option<DateTimeUtc>,
    pub last_used_at: Option<DateTimeUtc>,
    pub usage_count: i64,
    #[sea_orm(column_type = "JsonBinary")]
    pub allowed_ips: Json,
    #[sea_orm(column_type = "JsonBinary")]
    pub allowed_endpoints: Json,
    pub rate_limit_per_hour: Option<i64>,
    pub organization_type: Option<String>,
    pub notes: Option<String>,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
