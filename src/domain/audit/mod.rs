//! What happened: the append-only audit log, and the activity feed.

mod activity;
mod entry;
pub mod ports;

pub use activity::Activity;
pub use entry::{AuditEntry, AuditFilter};
