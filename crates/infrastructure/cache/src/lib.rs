//! Cache adapters: Redis (shared by every replica) and an in-process memory cache used when
//! no Redis is configured.

mod memory;
mod redis_cache;

pub use memory::MemoryCache;
pub use redis_cache::{RedisCache, RedisProbe};
