use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "epcis_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub circuit_id: String,
    pub event_id: String,
    pub event_hash: String,
    pub event_type: String,
    pub event_time: DateTimeUtc,
    pub record_time: DateTimeUtc,
    pub action: Option<String>,
    pub biz_step: Option<String>,
    pub disposition: Option<String>,
    pub read_point: Option<String>,
    pub biz_location: Option<String>,
    pub transformation_id: Option<String>,
    pub capture_id: Option<String>,
    pub captured_by: String,
    pub visibility: String,
    #[sea_orm(column_type = "Text")]
    pub document: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
