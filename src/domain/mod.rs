//! What the product is: entities, value objects, rules and use-case services.
//! Plain Rust: no HTTP, no SQL, no Redis, no spawned tasks.

pub mod access;
pub mod account;
pub mod admin;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod changes;
pub mod error;
pub mod guard;
pub mod page;
pub mod secrets;

pub use error::{Error, ErrorKind, Result};
