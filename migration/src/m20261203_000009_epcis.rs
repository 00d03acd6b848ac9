//! EPCIS 2.0: capture jobs, captured events (kept exactly as sent, with the fields queries
//! filter on beside them) and the EPCs each event names.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::index;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000009_epcis"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let create = |table: TableCreateStatement| async move { manager.create_table(table).await };
        let idx = |statement: IndexCreateStatement| async move { manager.create_index(statement).await };

        create(
            Table::create()
                .table("epcis_captures")
                .col(string("capture_id").primary_key())
                .col(string("circuit_id"))
                .col(string("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("finished_at"))
                .col(boolean("running"))
                .col(boolean("success"))
                // The per-event errors, JSON.
                .col(text("errors"))
                .col(big_integer("events_captured"))
                .col(big_integer("events_duplicated"))
                .take(),
        )
        .await?;

        create(
            Table::create()
                .table("epcis_events")
                .col(big_pk_auto("seq"))
                .col(string("circuit_id"))
                .col(string("event_id"))
                .col(string("event_hash"))
                .col(string("event_type"))
                .col(timestamp_with_time_zone("event_time"))
                .col(timestamp_with_time_zone("record_time"))
                .col(string_null("action"))
                .col(string_null("biz_step"))
                .col(string_null("disposition"))
                .col(string_null("read_point"))
                .col(string_null("biz_location"))
                .col(string_null("transformation_id"))
                .col(string_null("capture_id"))
                .col(string("captured_by"))
                .col(string("visibility"))
                // The event as sent (with its eventID), key order kept: the event hash of an
                // export must be the captured one.
                .col(text("document"))
                .take(),
        )
        .await?;
        // An event is stored once per circuit, whoever captures it again.
        idx(
            index("ux_epcis_events_hash", "epcis_events", &["circuit_id", "event_hash"])
                .unique()
                .take(),
        )
        .await?;
        idx(index(
            "ix_epcis_events_time",
            "epcis_events",
            &["circuit_id", "event_time"],
        ))
        .await?;
        idx(index("ix_epcis_events_id", "epcis_events", &["event_id"])).await?;
        idx(index(
            "ix_epcis_events_transformation",
            "epcis_events",
            &["transformation_id"],
        ))
        .await?;

        create(
            Table::create()
                .table("epcis_event_epcs")
                .col(big_integer("event_seq"))
                .col(string("role"))
                .col(string("epc"))
                .col(string_null("dfid"))
                .take(),
        )
        .await?;
        idx(index(
            "ix_epcis_event_epcs_epc",
            "epcis_event_epcs",
            &["epc", "event_seq"],
        ))
        .await?;
        idx(index("ix_epcis_event_epcs_event", "epcis_event_epcs", &["event_seq"])).await?;
        idx(index(
            "ix_epcis_event_epcs_dfid",
            "epcis_event_epcs",
            &["dfid", "event_seq"],
        ))
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["epcis_event_epcs", "epcis_events", "epcis_captures"] {
            manager.drop_table(Table::drop().table(table).take()).await?;
        }
        Ok(())
    }
}
