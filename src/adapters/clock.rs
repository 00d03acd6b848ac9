//! The real clock.

use crate::domain::Timestamp;
use crate::ports::Clock;

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let now = chrono::Utc::now();
        chrono::DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
    }
}
