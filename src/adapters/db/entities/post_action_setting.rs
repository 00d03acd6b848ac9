use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "post_action_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub circuit_id: String,
    pub enabled: bool,
    #[sea_orm(column_type = "JsonBinary")]
    pub trigger_events: Json,
    pub include_storage_details: bool,
    pub epcis_query: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
