//! Cache adapters: Redis (shared by every replica) and an in-process memory cache used when
//! no Redis is configured.

mod memory;
mod rate_limit;
mod redis_cache;
mod redis_link;

pub use memory::MemoryCache;
pub use rate_limit::{FallbackRateLimiter, MemoryRateLimiter, NowMs, RedisRateLimiter};
pub use redis_cache::RedisCache;
pub use redis_link::{CacheConfig, CircuitProbe, OPEN_AFTER, PROBE_EVERY, RedisLink};
