//! Outgoing mail waits here until a worker sends it: a message commits with what it tells about
//! (a reset token), and a mail server that is down delays no request and loses no message.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::index;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000007_mail_outbox"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("mail_outbox")
                    .col(string("mail_id").primary_key())
                    .col(string("recipient"))
                    .col(string("subject"))
                    // Sealed with SECRETS_KEY (it may hold a reset token); emptied once sent.
                    .col(text("sealed_body"))
                    .col(string("status"))
                    .col(integer("attempts"))
                    .col(timestamp_with_time_zone("next_attempt_at"))
                    .col(timestamp_with_time_zone_null("lease_until"))
                    .col(text_null("last_error"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("sent_at"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("ix_mail_due", "mail_outbox", &["status", "next_attempt_at"]))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("mail_outbox").take()).await
    }
}
