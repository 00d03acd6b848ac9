use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "epcis_captures")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub capture_id: String,
    pub circuit_id: String,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    pub running: bool,
    pub success: bool,
    #[sea_orm(column_type = "Text")]
    pub errors: String,
    pub events_captured: i64,
    pub events_duplicated: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
