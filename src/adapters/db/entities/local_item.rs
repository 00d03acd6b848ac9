use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "local_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub local_id: String,
    pub owner_id: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub identifiers: Json,
    #[sea_orm(column_type = "JsonBinary")]
    pub enriched_data: Json,
    pub dfid: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
