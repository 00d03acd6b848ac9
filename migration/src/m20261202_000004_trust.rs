//! Ownership transfers, canonical identifier disputes, and which circuit a pull came through.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::index;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000004_trust"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let create = |table: TableCreateStatement| async move { manager.create_table(table).await };
        let idx = |statement: IndexCreateStatement| async move { manager.create_index(statement).await };

        // A pull's read access ends when the item leaves the circuit it was pulled from; rows
        // from before this migration have no circuit and stay.
        manager
            .alter_table(
                Table::alter()
                    .table("item_access")
                    .add_column(string_null("circuit_id"))
                    .take(),
            )
            .await?;

        create(
            Table::create()
                .table("item_transfers")
                .col(string("transfer_id").primary_key())
                .col(string("dfid"))
                .col(string("from_user_id"))
                // Null when `to` named no account: the offer is kept so that it answers the same.
                .col(string_null("to_user_id"))
                // What the sender typed as `to`, shown back instead of whether it named anyone.
                .col(string("recipient"))
                .col(text_null("message"))
                .col(string("status"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("decided_at"))
                .take(),
        )
        .await?;
        idx(index(
            "ix_item_transfers_from",
            "item_transfers",
            &["from_user_id", "created_at", "transfer_id"],
        ))
        .await?;
        idx(index(
            "ix_item_transfers_to",
            "item_transfers",
            &["to_user_id", "created_at", "transfer_id"],
        ))
        .await?;
        // One pending transfer per item, enforced by the database whatever races; both engines
        // support partial indexes with this syntax.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_item_transfers_pending ON item_transfers (dfid) WHERE status = 'Pending'",
            )
            .await?;

        create(
            Table::create()
                .table("identifier_disputes")
                .col(string("dispute_id").primary_key())
                .col(string("key"))
                .col(string("value"))
                .col(string("dfid"))
                .col(string("claimant_id"))
                .col(text_null("evidence"))
                .col(string("status"))
                .col(text_null("note"))
                .col(string_null("resolved_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("resolved_at"))
                .take(),
        )
        .await?;
        idx(index(
            "ix_identifier_disputes_status",
            "identifier_disputes",
            &["status", "created_at", "dispute_id"],
        ))
        .await?;
        idx(index(
            "ix_identifier_disputes_claimant",
            "identifier_disputes",
            &["claimant_id", "created_at", "dispute_id"],
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["identifier_disputes", "item_transfers"] {
            manager.drop_table(Table::drop().table(table).take()).await?;
        }
        manager
            .alter_table(Table::alter().table("item_access").drop_column("circuit_id").take())
            .await?;
        Ok(())
    }
}
