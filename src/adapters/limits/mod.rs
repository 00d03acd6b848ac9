//! Rate-limit counters: Redis (shared by replicas, atomic) with an in-process fallback, or
//! in-process only; and for the per-request limits, local counts sent to Redis in batches.

mod batched;
mod memory;
mod redis;

pub use batched::BatchedLimiter;
pub use memory::MemoryLimiter;
pub use redis::RedisLimiter;
