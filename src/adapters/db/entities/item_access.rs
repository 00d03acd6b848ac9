use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "item_access")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub dfid: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: String,
    pub granted_at: DateTimeUtc,
    /// The circuit the pull came through (null on rows from before it was recorded).
    pub circuit_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
