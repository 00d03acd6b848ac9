//! The item resolver (`GET /id/{dfid}`) looks up which circuits publish an item: by DFID, not by
//! circuit as the primary key orders them.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000010_item_resolver"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_published_items_dfid")
                    .table("published_items")
                    .col("dfid")
                    .col("published_at")
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_published_items_dfid")
                    .table("published_items")
                    .to_owned(),
            )
            .await
    }
}
