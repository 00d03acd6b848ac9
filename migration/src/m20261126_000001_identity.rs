//! Accounts, sessions, password resets, API keys and the audit log.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::{belongs_to, index};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261126_000001_identity"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("workspaces")
                    .col(string("id").primary_key())
                    .col(string("name"))
                    .col(string("owner_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("users")
                    .col(string("id").primary_key())
                    .col(string("username"))
                    .col(string("username_key"))
                    .col(string("email"))
                    .col(string("email_key"))
                    .col(text("password_hash"))
                    .col(string("tier"))
                    .col(string("status"))
                    .col(text_null("status_reason"))
                    .col(boolean("is_admin"))
                    .col(string("workspace_id"))
                    .col(big_integer("session_epoch"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(timestamp_with_time_zone_null("last_login_at"))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                index("ux_users_username_key", "users", &["username_key"])
                    .unique()
                    .take(),
            )
            .await?;
        manager
            .create_index(index("ux_users_email_key", "users", &["email_key"]).unique().take())
            .await?;
        manager
            .create_index(index("ix_users_created", "users", &["created_at", "id"]))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("sessions")
                    .col(string("id").primary_key())
                    .col(string("user_id"))
                    .col(big_integer("epoch"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone("max_expires_at"))
                    .col(timestamp_with_time_zone_null("revoked_at"))
                    .col(string_null("ip"))
                    .col(text_null("user_agent"))
                    .foreign_key(&mut belongs_to("sessions", "user_id", "users", "id"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("ix_sessions_user", "sessions", &["user_id"]))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("password_reset_tokens")
                    .col(string("token_hash").primary_key())
                    .col(string("user_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("used_at"))
                    .foreign_key(&mut belongs_to("password_reset_tokens", "user_id", "users", "id"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("ix_reset_tokens_user", "password_reset_tokens", &["user_id"]))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("api_keys")
                    .col(string("id").primary_key())
                    .col(string("user_id"))
                    .col(string("name"))
                    .col(string("key_hash"))
                    .col(string("key_prefix"))
                    .col(boolean("can_read"))
                    .col(boolean("can_write"))
                    .col(boolean("can_admin"))
                    .col(boolean("is_active"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("expires_at"))
                    .col(timestamp_with_time_zone_null("last_used_at"))
                    .col(big_integer("usage_count"))
                    .col(json_binary("allowed_ips"))
                    .col(json_binary("allowed_endpoints"))
                    .col(big_integer_null("rate_limit_per_hour"))
                    .col(string_null("organization_type"))
                    .col(text_null("notes"))
                    .col(timestamp_with_time_zone_null("revoked_at"))
                    .foreign_key(&mut belongs_to("api_keys", "user_id", "users", "id"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("ux_api_keys_key_hash", "api_keys", &["key_hash"]).unique().take())
            .await?;
        manager
            .create_index(index("ix_api_keys_user", "api_keys", &["user_id", "created_at", "id"]))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("audit_log")
                    .col(string("id").primary_key())
                    .col(string("action"))
                    .col(string_null("actor_id"))
                    .col(string("target_type"))
                    .col(string_null("target_id"))
                    .col(string_null("ip"))
                    .col(text_null("user_agent"))
                    .col(string_null("request_id"))
                    .col(timestamp_with_time_zone("at"))
                    .col(json_binary("details"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("ix_audit_at", "audit_log", &["at", "id"]))
            .await?;
        manager
            .create_index(index("ix_audit_actor", "audit_log", &["actor_id", "at"]))
            .await?;
        manager
            .create_index(index("ix_audit_target", "audit_log", &["target_id", "at"]))
            .await?;
        manager
            .create_index(index("ix_audit_action", "audit_log", &["action", "at"]))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "audit_log",
            "api_keys",
            "password_reset_tokens",
            "sessions",
            "users",
            "workspaces",
        ] {
            manager.drop_table(Table::drop().table(table).take()).await?;
        }
        Ok(())
    }
}
