//! The time, so rules about expiry can be tested with a fixed clock.

pub trait Clock: Send + Sync {
    /// Now, in UTC, truncated to microseconds (what the databases keep).
    fn now(&self) -> chrono::DateTime<chrono::Utc>;
}
