//! Integration tests: each starts the real app on port 0 with a fresh database and talks HTTP.
//! SQLite always; PostgreSQL when `TEST_DATABASE_URL` is set and Redis when `TEST_REDIS_URL` is.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)] // Not every test file uses every helper.
mod helpers;

mod admin;
mod api_keys;
mod auth;
mod authorization;
mod binary;
mod bulk;
mod circuits;
mod dashboards;
mod disputes;
mod epcis;
mod events;
mod items;
mod log;
mod log_replicas;
mod mail;
mod notifications;
mod ownership;
mod platform;
mod public_pages;
mod replicas;
mod rfc_verifier;
mod security;
mod spec;
mod storage;
mod tenancy;
mod web_pages;
mod webhooks;
