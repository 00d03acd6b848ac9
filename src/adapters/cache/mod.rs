//! The two caches: Redis (shared by replicas) and in-process (single instance).

mod memory;
mod redis;

pub use memory::MemoryCache;
pub use redis::RedisCache;

fn record(backend: &'static str, hit: bool) {
    if hit {
        metrics::counter!("defarm_cache_hits_total", "backend" => backend).increment(1);
    } else {
        metrics::counter!("defarm_cache_misses_total", "backend" => backend).increment(1);
    }
}
