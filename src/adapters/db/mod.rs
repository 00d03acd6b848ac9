//! The database adapter: SeaORM entities and the repositories built on them, over one pool
//! (PostgreSQL or SQLite).

mod error;
mod pool;

pub use error::UNIQUE_VIOLATION;
pub use pool::{BoxFuture, Database, DbSettings};
