use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub username: String,
    /// Lowercased username; unique.
    pub username_key: String,
    pub email: String,
    /// Lowercased email; unique.
    pub email_key: String,
    pub password_hash: String,
    pub tier: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub is_admin: bool,
    pub workspace_id: String,
    pub session_epoch: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub last_login_at: Option<DateTimeUtc>,
    pub notify_by_email: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
