use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "circuit_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub circuit_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub dfid: String,
    pub pushed_by: String,
    pub pushed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
