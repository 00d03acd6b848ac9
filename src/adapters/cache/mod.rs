//! The caches: Redis (shared by replicas), in-process (single instance), and a replica's near
//! copy of the shared one kept true by deletions published through Redis.

mod memory;
mod near;
mod redis;

pub use memory::MemoryCache;
pub use near::NearCache;
pub use redis::RedisCache;

fn record(backend: &'static str, hit: bool) {
    if hit {
        metrics::counter!("defarm_cache_hits_total", "backend" => backend).increment(1);
    } else {
        metrics::counter!("defarm_cache_misses_total", "backend" => backend).increment(1);
    }
}
