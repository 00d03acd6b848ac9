use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "log_entries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub kind: i16,
    pub fact_id: String,
    pub salt: Vec<u8>,
    pub commitment: Vec<u8>,
    pub logged_at_ms: i64,
    pub leaf_index: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
