//! What the product is: entities, value objects, rules and use-case services.
//! Plain Rust: no HTTP, no SQL, no Redis, no spawned tasks.

pub mod access;
pub mod account;
pub mod admin;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod changes;
pub mod circuit;
pub mod circuits;
pub mod dfid;
pub mod error;
pub mod event;
pub mod events;
pub mod feed;
pub mod guard;
pub mod identifier;
pub mod item;
pub mod items;
pub mod notifications;
pub mod operation;
pub mod page;
pub mod push;
pub mod secrets;
pub mod storage;
pub mod storage_service;
pub mod webhook;
pub mod webhooks;

pub use error::{CONCURRENT_WRITE, Error, ErrorKind, Result};
