use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "circuit_members")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub circuit_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: String,
    pub username: String,
    pub role: String,
    pub custom_role: Option<String>,
    pub joined_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::circuit::Entity",
        from = "Column::CircuitId",
        to = "super::circuit::Column::CircuitId"
    )]
    Circuit,
}

impl Related<super::circuit::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Circuit.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
