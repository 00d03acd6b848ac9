//! Post-action webhooks and their delivery outbox, storage records, and stored content.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::index;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261126_000003_partners"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let create = |table: TableCreateStatement| async move { manager.create_table(table).await };
        let idx = |statement: IndexCreateStatement| async move { manager.create_index(statement).await };

        create(
            Table::create()
                .table("post_action_settings")
                .col(string("circuit_id").primary_key())
                .col(boolean("enabled"))
                .col(json_binary("trigger_events"))
                .col(boolean("include_storage_details"))
                .col(timestamp_with_time_zone("updated_at"))
                .take(),
        )
        .await?;

        create(
            Table::create()
                .table("webhooks")
                .col(string("webhook_id").primary_key())
                .col(string("circuit_id"))
                .col(string("name"))
                .col(text("url"))
                .col(string("method"))
                .col(json_binary("headers"))
                .col(string("auth_type"))
                .col(text_null("auth_credentials"))
                .col(text("signing_secret"))
                .col(boolean("enabled"))
                .col(json_binary("retry_config"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .take(),
        )
        .await?;
        idx(index(
            "ix_webhooks_circuit",
            "webhooks",
            &["circuit_id", "created_at", "webhook_id"],
        ))
        .await?;

        create(
            Table::create()
                .table("webhook_deliveries")
                .col(string("delivery_id").primary_key())
                .col(string("webhook_id"))
                .col(string("circuit_id"))
                .col(string("event_type"))
                .col(text("payload"))
                .col(string("status"))
                .col(integer("attempts"))
                .col(timestamp_with_time_zone("next_attempt_at"))
                .col(timestamp_with_time_zone_null("lease_until"))
                .col(integer_null("last_status_code"))
                .col(text_null("last_error"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(timestamp_with_time_zone_null("delivered_at"))
                .take(),
        )
        .await?;
        idx(index(
            "ix_deliveries_due",
            "webhook_deliveries",
            &["status", "next_attempt_at"],
        ))
        .await?;
        idx(index(
            "ix_deliveries_circuit",
            "webhook_deliveries",
            &["circuit_id", "created_at", "delivery_id"],
        ))
        .await?;

        create(
            Table::create()
                .table("webhook_attempts")
                .col(string("id").primary_key())
                .col(string("delivery_id"))
                .col(integer("attempt"))
                .col(integer_null("status_code"))
                .col(text_null("error"))
                .col(big_integer("duration_ms"))
                .col(timestamp_with_time_zone("at"))
                .take(),
        )
        .await?;
        idx(index(
            "ix_attempts_delivery",
            "webhook_attempts",
            &["delivery_id", "attempt"],
        ))
        .await?;

        create(
            Table::create()
                .table("storage_records")
                .col(string("record_id").primary_key())
                .col(string("dfid"))
                .col(string("circuit_id"))
                .col(string("adapter_type"))
                .col(string("cid"))
                .col(string("status"))
                .col(text("location"))
                .col(string("triggered_by"))
                .col(string("triggered_by_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("stored_at"))
                .col(json_binary("metadata"))
                .col(text("document"))
                .col(integer("attempts"))
                .col(timestamp_with_time_zone("next_attempt_at"))
                .col(timestamp_with_time_zone_null("lease_until"))
                .col(text_null("last_error"))
                .take(),
        )
        .await?;
        idx(index(
            "ix_storage_item",
            "storage_records",
            &["dfid", "created_at", "record_id"],
        ))
        .await?;
        idx(index(
            "ix_storage_due",
            "storage_records",
            &["status", "next_attempt_at"],
        ))
        .await?;
        idx(index("ix_storage_cid", "storage_records", &["cid"])).await?;

        create(
            Table::create()
                .table("content_blobs")
                .col(string("cid").primary_key())
                .col(blob("bytes"))
                .col(big_integer("size"))
                .col(timestamp_with_time_zone("created_at"))
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "content_blobs",
            "storage_records",
            "webhook_attempts",
            "webhook_deliveries",
            "webhooks",
            "post_action_settings",
        ] {
            manager.drop_table(Table::drop().table(table).take()).await?;
        }
        Ok(())
    }
}
