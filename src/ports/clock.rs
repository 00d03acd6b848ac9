//! The time, so rules about expiry can be tested with a fixed clock.

use crate::domain::account::Timestamp;

pub trait Clock: Send + Sync {
    /// Now, in UTC, truncated to microseconds (what the databases keep).
    fn now(&self) -> Timestamp;
}
