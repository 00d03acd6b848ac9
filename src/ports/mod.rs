//! What the domain needs from the world, as traits. Adapters implement them; the composition root
//! (`crate::app`) picks which implementation runs.

pub mod cache;
pub mod health;

pub use cache::Cache;
pub use health::{DatabaseHealth, PoolStats};
