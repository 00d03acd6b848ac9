//! Rate-limit counters: Redis (shared by replicas, atomic) with an in-process fallback, or
//! in-process only.

mod memory;
mod redis;

pub use memory::MemoryLimiter;
pub use redis::RedisLimiter;
