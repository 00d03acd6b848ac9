use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhooks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub webhook_id: String,
    pub circuit_id: String,
    pub name: String,
    #[sea_orm(column_type = "Text")]
    pub url: String,
    pub method: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub headers: Json,
    pub auth_type: String,
    pub auth_credentials: Option<String>,
    pub signing_secret: String,
    pub enabled: bool,
    #[sea_orm(column_type = "JsonBinary")]
    pub retry_config: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
