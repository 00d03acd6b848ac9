use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub event_id: String,
    pub dfid: String,
    pub event_type: String,
    pub visibility: String,
    pub source: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub metadata: Json,
    pub occurred_at: DateTimeUtc,
    pub recorded_at: DateTimeUtc,
    pub content_hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
