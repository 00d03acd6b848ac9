use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub dfid: String,
    pub created_by: String,
    pub status: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub identifiers: Json,
    #[sea_orm(column_type = "JsonBinary")]
    pub enriched_data: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub latest_cid: Option<String>,
    pub current_version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
