//! What the dashboards count by circuit and no index served yet: storage records.

use sea_orm_migration::prelude::*;

use crate::index;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000006_dashboards"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(index(
                "ix_storage_circuit",
                "storage_records",
                &["circuit_id", "status"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_storage_circuit")
                    .table("storage_records")
                    .to_owned(),
            )
            .await
    }
}
