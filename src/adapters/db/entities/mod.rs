//! SeaORM entities: one module per table, mirroring `migration/`.

pub mod activity;
pub mod api_key;
pub mod audit;
pub mod canonical_name;
pub mod circuit;
pub mod circuit_item;
pub mod circuit_member;
pub mod circuit_role;
pub mod dfid_counter;
pub mod event;
pub mod item;
pub mod item_access;
pub mod item_identifier;
pub mod join_request;
pub mod local_event;
pub mod local_item;
pub mod notification;
pub mod operation;
pub mod published_item;
pub mod reset_token;
pub mod session;
pub mod trigger;
pub mod user;
pub mod workspace;
