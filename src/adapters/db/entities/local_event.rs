use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "local_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub local_event_id: String,
    pub owner_id: String,
    pub event_type: String,
    pub visibility: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub metadata: Json,
    pub occurred_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub event_id: Option<String>,
    pub dfid: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
