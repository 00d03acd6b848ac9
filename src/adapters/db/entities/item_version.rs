use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "item_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub dfid: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub version: i64,
    pub document: String,
    pub document_sha256: String,
    pub cid: String,
    pub change_kind: String,
    pub event_id: Option<String>,
    pub changed_by: String,
    pub changed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
