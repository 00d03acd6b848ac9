//! The database adapter: SeaORM entities and the repositories built on them, over one pool
//! (PostgreSQL or SQLite).

pub(crate) mod entities;
mod error;
mod pool;
mod store;

pub use error::UNIQUE_VIOLATION;
pub use pool::{BoxFuture, Database, DbSettings, WriteBound};
pub use store::{CommitHooks, OutboxWake, SqlStore};
