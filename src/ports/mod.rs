//! Ports several contexts share and that need nothing from the domain: time, ids, a cache,
//! counters for rate limits, and database health for the operations endpoints. Each domain
//! context keeps the ports only it needs next to it (`domain::<context>::ports`).

pub mod cache;
pub mod clock;
pub mod health;
pub mod ids;
pub mod limits;

pub use cache::Cache;
pub use clock::Clock;
pub use health::{DatabaseHealth, PoolStats};
pub use ids::IdGenerator;
pub use limits::{Counter, RateLimiter};
