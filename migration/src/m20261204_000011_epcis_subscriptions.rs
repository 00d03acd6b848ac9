//! The `epcis_event` webhook trigger: the EPCIS query choosing which events a circuit's webhooks
//! receive, kept with its other post-action settings.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000011_epcis_subscriptions"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("post_action_settings")
                    .add_column(text_null("epcis_query"))
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("post_action_settings")
                    .drop_column("epcis_query")
                    .take(),
            )
            .await
    }
}
