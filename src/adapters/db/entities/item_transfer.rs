use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "item_transfers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub transfer_id: String,
    pub dfid: String,
    pub from_user_id: String,
    pub to_user_id: Option<String>,
    pub recipient: String,
    pub message: Option<String>,
    pub status: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub decided_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
