//! What the product is: entities, value objects, rules and use-case services.
//! Plain Rust: no HTTP, no SQL, no Redis, no spawned tasks.

pub mod error;

pub use error::{Error, ErrorKind, Result};
