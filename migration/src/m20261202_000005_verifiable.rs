//! The transparency log (entries, the tree's stored hashes, every signed checkpoint), item
//! versions, and receipts.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::index;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000005_verifiable"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let create = |table: TableCreateStatement| async move { manager.create_table(table).await };
        let idx = |statement: IndexCreateStatement| async move { manager.create_index(statement).await };
        let sql = |statement: &'static str| async move {
            manager.get_connection().execute_unprepared(statement).await.map(|_| ())
        };

        // One row per fact, written with the fact; `leaf_index` is set when the sequencer
        // integrates it. `seq` only orders the pending ones.
        create(
            Table::create()
                .table("log_entries")
                .col(big_pk_auto("seq"))
                .col(small_integer("kind"))
                .col(string("fact_id"))
                .col(binary("salt"))
                .col(binary("commitment"))
                .col(big_integer("logged_at_ms"))
                .col(big_integer_null("leaf_index"))
                .take(),
        )
        .await?;
        idx(index("ux_log_entries_fact", "log_entries", &["kind", "fact_id"])
            .unique()
            .take())
        .await?;
        // No index is given twice, whatever two sequencers do.
        idx(index("ux_log_entries_leaf", "log_entries", &["leaf_index"])
            .unique()
            .take())
        .await?;
        sql("CREATE INDEX ix_log_entries_pending ON log_entries (seq) WHERE leaf_index IS NULL").await?;

        // The hash of every complete subtree: (level, index) covers leaves
        // index * 2^level .. (index + 1) * 2^level.
        create(
            Table::create()
                .table("log_nodes")
                .col(small_integer("level"))
                .col(big_integer("idx"))
                .col(binary("hash"))
                .primary_key(Index::create().name("pk_log_nodes").col("level").col("idx"))
                .take(),
        )
        .await?;

        // Every signed checkpoint; the key makes a second root for one size impossible.
        create(
            Table::create()
                .table("log_checkpoints")
                .col(big_integer("tree_size").primary_key())
                .col(binary("root_hash"))
                .col(text("note"))
                .col(timestamp_with_time_zone("signed_at"))
                .take(),
        )
        .await?;

        manager
            .alter_table(
                Table::alter()
                    .table("items")
                    .add_column(big_integer("current_version").default(0))
                    .take(),
            )
            .await?;
        create(
            Table::create()
                .table("item_versions")
                .col(string("dfid"))
                .col(big_integer("version"))
                // RFC 8785 canonical JSON, exactly the bytes that were hashed.
                .col(text("document"))
                .col(string("document_sha256"))
                .col(string("cid"))
                .col(string("change_kind"))
                .col(string_null("event_id"))
                .col(string("changed_by"))
                .col(timestamp_with_time_zone("changed_at"))
                .primary_key(Index::create().name("pk_item_versions").col("dfid").col("version"))
                .take(),
        )
        .await?;

        create(
            Table::create()
                .table("receipts")
                .col(string("receipt_id").primary_key())
                .col(string("owner_id"))
                .col(string("sha256"))
                .col(big_integer_null("size_bytes"))
                .col(string_null("content_type"))
                .col(string_null("dfid"))
                .col(string_null("label"))
                .col(timestamp_with_time_zone("created_at"))
                .take(),
        )
        .await?;
        idx(index(
            "ix_receipts_owner",
            "receipts",
            &["owner_id", "created_at", "receipt_id"],
        ))
        .await?;
        idx(index(
            "ix_receipts_dfid",
            "receipts",
            &["dfid", "created_at", "receipt_id"],
        ))
        .await?;
        idx(index("ix_receipts_sha256", "receipts", &["sha256"])).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "receipts",
            "item_versions",
            "log_checkpoints",
            "log_nodes",
            "log_entries",
        ] {
            manager.drop_table(Table::drop().table(table).take()).await?;
        }
        manager
            .alter_table(Table::alter().table("items").drop_column("current_version").take())
            .await?;
        Ok(())
    }
}
