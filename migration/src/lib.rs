//! Schema migrations. Every change is a new migration that runs on PostgreSQL and SQLite.

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_identity;
mod m20261126_000002_traceability;
mod m20261126_000003_partners;
mod m20261202_000004_trust;
mod m20261202_000005_verifiable;
mod m20261203_000006_dashboards;
mod m20261203_000007_mail_outbox;
mod m20261203_000008_email_notifications;
mod m20261203_000009_epcis;
mod m20261204_000010_item_resolver;
mod m20261204_000011_epcis_subscriptions;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_identity::Migration),
            Box::new(m20261126_000002_traceability::Migration),
            Box::new(m20261126_000003_partners::Migration),
            Box::new(m20261202_000004_trust::Migration),
            Box::new(m20261202_000005_verifiable::Migration),
            Box::new(m20261203_000006_dashboards::Migration),
            Box::new(m20261203_000007_mail_outbox::Migration),
            Box::new(m20261203_000008_email_notifications::Migration),
            Box::new(m20261203_000009_epcis::Migration),
            Box::new(m20261204_000010_item_resolver::Migration),
            Box::new(m20261204_000011_epcis_subscriptions::Migration),
        ]
    }
}

/// An index named `name` on `table(columns)`.
pub(crate) fn index(name: &str, table: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(*column);
    }
    index.take()
}

/// A foreign key from `table.column` to `target.target_column`, deleting with its target.
pub(crate) fn belongs_to(
    table: &'static str,
    column: &'static str,
    target: &'static str,
    target_column: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to(target, target_column)
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}
