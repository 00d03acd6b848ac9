use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "identifier_disputes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub dispute_id: String,
    pub key: String,
    pub value: String,
    pub dfid: String,
    pub claimant_id: String,
    pub evidence: Option<String>,
    pub status: String,
    pub note: Option<String>,
    pub resolved_by: Option<String>,
    pub created_at: DateTimeUtc,
    pub resolved_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
