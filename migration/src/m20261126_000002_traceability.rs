//! Items, identifiers, events, circuits, members, roles, operations, public pages, and what use
//! cases announce (activities, notifications, triggers).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::{belongs_to, index};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261126_000002_traceability"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let create = |table: TableCreateStatement| async move { manager.create_table(table).await };
        let idx = |statement: IndexCreateStatement| async move { manager.create_index(statement).await };

        create(
            Table::create()
                .table("dfid_counters")
                .col(string("day").primary_key())
                .col(big_integer("value"))
                .take(),
        )
        .await?;

        create(
            Table::create()
                .table("local_items")
                .col(string("local_id").primary_key())
                .col(string("owner_id"))
                .col(json_binary("identifiers"))
                .col(json_binary("enriched_data"))
                .col(string_null("dfid"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut belongs_to("local_items", "owner_id", "users", "id"))
                .take(),
        )
        .await?;
        idx(index(
            "ix_local_items_owner",
            "local_items",
            &["owner_id", "created_at", "local_id"],
        ))
        .await?;
        idx(index("ix_local_items_dfid", "local_items", &["dfid"])).await?;

        create(
            Table::create()
                .table("items")
                .col(string("dfid").primary_key())
                .col(string("created_by"))
                .col(string("status"))
                // The item's identifiers as read with it; `item_identifiers` indexes them for search.
                .col(json_binary("identifiers"))
                .col(json_binary("enriched_data"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(string_null("latest_cid"))
                .take(),
        )
        .await?;
        idx(index("ix_items_owner", "items", &["created_by", "created_at", "dfid"])).await?;
        idx(index("ix_items_created", "items", &["created_at", "dfid"])).await?;

        create(
            Table::create()
                .table("item_identifiers")
                .col(string("id").primary_key())
                .col(string("dfid"))
                .col(string("namespace"))
                .col(string("key"))
                .col(string("value"))
                .col(string("id_type"))
                .col(string_null("scope"))
                .col(boolean("verified"))
                .col(string("added_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut belongs_to("item_identifiers", "dfid", "items", "dfid"))
                .take(),
        )
        .await?;
        idx(index("ix_item_identifiers_dfid", "item_identifiers", &["dfid"])).await?;
        idx(index(
            "ix_item_identifiers_lookup",
            "item_identifiers",
            &["key", "value"],
        ))
        .await?;

        // One canonical (key, value) names at most one DFID in the whole system.
        create(
            Table::create()
                .table("canonical_names")
                .col(string("key"))
                .col(string("value"))
                .col(string("dfid"))
                .primary_key(Index::create().name("pk_canonical_names").col("key").col("value"))
                .take(),
        )
        .await?;

        create(
            Table::create()
                .table("events")
                .col(string("event_id").primary_key())
                .col(string("dfid"))
                .col(string("event_type"))
                .col(string("visibility"))
                .col(string("source"))
                .col(json_binary("metadata"))
                .col(timestamp_with_time_zone("occurred_at"))
                .col(timestamp_with_time_zone("recorded_at"))
                .col(string("content_hash"))
                .take(),
        )
        .await?;
        idx(index("ux_events_content_hash", "events", &["content_hash"])
            .unique()
            .take())
        .await?;
        idx(index("ix_events_dfid", "events", &["dfid", "occurred_at", "event_id"])).await?;
        idx(index("ix_events_occurred", "events", &["occurred_at", "event_id"])).await?;

        create(
            Table::create()
                .table("local_events")
                .col(string("local_event_id").primary_key())
                .col(string("owner_id"))
                .col(string("event_type"))
                .col(string("visibility"))
                .col(json_binary("metadata"))
                .col(timestamp_with_time_zone("occurred_at"))
                .col(timestamp_with_time_zone("created_at"))
                .col(string_null("event_id"))
                .col(string_null("dfid"))
                .take(),
        )
        .await?;
        idx(index(
            "ix_local_events_owner",
            "local_events",
            &["owner_id", "created_at", "local_event_id"],
        ))
        .await?;

        create(
            Table::create()
                .table("circuits")
                .col(string("circuit_id").primary_key())
                .col(string("name"))
                .col(text_null("description"))
                .col(string("owner_id"))
                .col(string("status"))
                .col(boolean("require_approval_for_push"))
                .col(boolean("require_approval_for_pull"))
                .col(boolean("allow_public_visibility"))
                .col(json_binary("alias_config"))
                .col(string("adapter_type"))
                .col(json_binary_null("public_settings"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .take(),
        )
        .await?;
        idx(index("ix_circuits_owner", "circuits", &["owner_id"])).await?;

        create(
            Table::create()
                .table("circuit_members")
                .col(string("circuit_id"))
                .col(string("user_id"))
                .col(string("username"))
                .col(string("role"))
                .col(string_null("custom_role"))
                .col(timestamp_with_time_zone("joined_at"))
                .primary_key(
                    Index::create()
                        .name("pk_circuit_members")
                        .col("circuit_id")
                        .col("user_id"),
                )
                .foreign_key(&mut belongs_to(
                    "circuit_members",
                    "circuit_id",
                    "circuits",
                    "circuit_id",
                ))
                .take(),
        )
        .await?;
        idx(index(
            "ix_circuit_members_user",
            "circuit_members",
            &["user_id", "circuit_id"],
        ))
        .await?;
        idx(index(
            "ix_circuit_members_joined",
            "circuit_members",
            &["circuit_id", "joined_at", "user_id"],
        ))
        .await?;

        create(
            Table::create()
                .table("circuit_roles")
                .col(string("role_id").primary_key())
                .col(string("circuit_id"))
                .col(string("role_name"))
                .col(json_binary("permissions"))
                .col(text_null("description"))
                .col(string_null("color"))
                .col(timestamp_with_time_zone("created_at"))
                .take(),
        )
        .await?;
        idx(
            index("ux_circuit_roles_name", "circuit_roles", &["circuit_id", "role_name"])
                .unique()
                .take(),
        )
        .await?;

        create(
            Table::create()
                .table("join_requests")
                .col(string("circuit_id"))
                .col(string("user_id"))
                .col(string("username"))
                .col(text_null("message"))
                .col(string("status"))
                .col(timestamp_with_time_zone("created_at"))
                .col(string_null("decided_by"))
                .col(timestamp_with_time_zone_null("decided_at"))
                .col(text_null("reason"))
                .primary_key(
                    Index::create()
                        .name("pk_join_requests")
                        .col("circuit_id")
                        .col("user_id"),
                )
                .take(),
        )
        .await?;
        idx(index(
            "ix_join_requests_status",
            "join_requests",
            &["circuit_id", "status", "created_at"],
        ))
        .await?;

        create(
            Table::create()
                .table("operations")
                .col(string("operation_id").primary_key())
                .col(string("circuit_id"))
                .col(string("dfid"))
                .col(string("operation_type"))
                .col(string("requester_id"))
                .col(string("status"))
                .col(timestamp_with_time_zone("created_at"))
                .col(string_null("decided_by"))
                .col(timestamp_with_time_zone_null("decided_at"))
                .col(text_null("reason"))
                .col(boolean("minted"))
                .col(string_null("local_id"))
                .take(),
        )
        .await?;
        idx(index(
            "ix_operations_circuit",
            "operations",
            &["circuit_id", "created_at", "operation_id"],
        ))
        .await?;
        idx(index(
            "ix_operations_item",
            "operations",
            &["circuit_id", "dfid", "operation_type"],
        ))
        .await?;

        create(
            Table::create()
                .table("circuit_items")
                .col(string("circuit_id"))
                .col(string("dfid"))
                .col(string("pushed_by"))
                .col(timestamp_with_time_zone("pushed_at"))
                .primary_key(Index::create().name("pk_circuit_items").col("circuit_id").col("dfid"))
                .take(),
        )
        .await?;
        idx(index("ix_circuit_items_dfid", "circuit_items", &["dfid", "circuit_id"])).await?;
        idx(index(
            "ix_circuit_items_pushed",
            "circuit_items",
            &["circuit_id", "pushed_at", "dfid"],
        ))
        .await?;

        create(
            Table::create()
                .table("item_access")
                .col(string("dfid"))
                .col(string("user_id"))
                .col(timestamp_with_time_zone("granted_at"))
                .primary_key(Index::create().name("pk_item_access").col("dfid").col("user_id"))
                .take(),
        )
        .await?;
        idx(index("ix_item_access_user", "item_access", &["user_id", "dfid"])).await?;

        create(
            Table::create()
                .table("published_items")
                .col(string("circuit_id"))
                .col(string("dfid"))
                .col(timestamp_with_time_zone("published_at"))
                .primary_key(Index::create().name("pk_published_items").col("circuit_id").col("dfid"))
                .take(),
        )
        .await?;

        create(
            Table::create()
                .table("activities")
                .col(string("id").primary_key())
                .col(string("activity_type"))
                .col(string("actor_id"))
                .col(string_null("circuit_id"))
                .col(string_null("dfid"))
                .col(string_null("operation_id"))
                .col(text("summary"))
                .col(timestamp_with_time_zone("at"))
                .take(),
        )
        .await?;
        idx(index("ix_activities_actor", "activities", &["actor_id", "at", "id"])).await?;
        idx(index(
            "ix_activities_circuit",
            "activities",
            &["circuit_id", "at", "id"],
        ))
        .await?;

        create(
            Table::create()
                .table("notifications")
                .col(string("id").primary_key())
                .col(string("user_id"))
                .col(string("notification_type"))
                .col(string("title"))
                .col(text("message"))
                .col(boolean("read"))
                .col(timestamp_with_time_zone("created_at"))
                .col(json_binary("data"))
                .take(),
        )
        .await?;
        idx(index(
            "ix_notifications_user",
            "notifications",
            &["user_id", "created_at", "id"],
        ))
        .await?;

        // Triggers for partners, written with the change that caused them (the outbox's source).
        create(
            Table::create()
                .table("triggers")
                .col(string("id").primary_key())
                .col(string("kind"))
                .col(string("circuit_id"))
                .col(string("dfid"))
                .col(string("actor_id"))
                .col(string_null("operation_id"))
                .col(string_null("operation_status"))
                .col(json_binary_null("event"))
                .col(timestamp_with_time_zone("occurred_at"))
                .take(),
        )
        .await?;
        idx(index("ix_triggers_circuit", "triggers", &["circuit_id", "occurred_at"])).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "triggers",
            "notifications",
            "activities",
            "published_items",
            "item_access",
            "circuit_items",
            "operations",
            "join_requests",
            "circuit_roles",
            "circuit_members",
            "circuits",
            "local_events",
            "events",
            "canonical_names",
            "item_identifiers",
            "items",
            "local_items",
            "dfid_counters",
        ] {
            manager.drop_table(Table::drop().table(table).take()).await?;
        }
        Ok(())
    }
}
