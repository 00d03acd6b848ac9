//! Notifications by email, opt-in per user: the choice is kept on the user, and a notification
//! mailed to its user waits in the mail outbox, which names it (its text is read when it is sent).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000008_email_notifications"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per ALTER: SQLite adds one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table("users")
                    .add_column(boolean("notify_by_email").default(false))
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("mail_outbox")
                    .add_column(string_null("notification_id"))
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("mail_outbox")
                    .drop_column("notification_id")
                    .take(),
            )
            .await?;
        manager
            .alter_table(Table::alter().table("users").drop_column("notify_by_email").take())
            .await
    }
}
