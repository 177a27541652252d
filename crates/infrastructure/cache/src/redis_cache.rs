//! The Redis cache, with this instance's memory as the fallback while Redis is unavailable.

use std::sync::Arc;
use std::time::Duration;

use redis::AsyncCommands;
use stockpilot_application::ports::{Cache, CacheError};

use crate::MemoryCache;
use crate::redis_link::RedisLink;

/// Keys are namespaced so one Redis can serve several deployments.
const KEY_PREFIX: &str = "stockpilot:";

/// Redis while its breaker is closed; this instance's memory while it is open or a command
/// fails. The memory is emptied when the breaker closes, so entries written during an outage
/// (which a sync on another instance could not invalidate) are not served at the next one.
#[derive(Clone)]
pub struct RedisCache {
    link: RedisLink,
    memory: Arc<MemoryCache>,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedisCache")
    }
}

impl RedisCache {
    pub fn new(link: RedisLink) -> Self {
        let memory = Arc::new(MemoryCache::default());
        let on_close = Arc::downgrade(&memory);
        link.on_change(move |open| {
            if !open && let Some(memory) = on_close.upgrade() {
                memory.clear();
            }
        });
        Self { link, memory }
    }

    /// Connects with the declared default command timeout (`cache.command_timeout_ms`; for
    /// tests and tools).
    ///
    /// # Errors
    /// An invalid URL or a server that does not answer in time.
    pub async fn connect(url: &str, timeout: Duration) -> anyhow::Result<Self> {
        let command = Duration::from_millis(crate::CacheConfig::default().command_timeout_ms);
        Ok(Self::new(RedisLink::connect(url, timeout, command).await?))
    }

    pub fn link(&self) -> &RedisLink {
        &self.link
    }
}

#[async_trait::async_trait]
impl Cache for RedisCache {
    fn backend(&self) -> &'static str {
        if self.link.is_open() {
            "memory (redis unavailable)"
        } else {
            "redis"
        }
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let full = format!("{KEY_PREFIX}{key}");
        match self
            .link
            .call(|mut conn| async move { conn.get(full).await })
            .await
        {
            Ok(value) => Ok(value),
            Err(_) => self.memory.get(key).await,
        }
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        let full = format!("{KEY_PREFIX}{key}");
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        match self
            .link
            .call(|mut conn| async move { conn.pset_ex::<_, _, ()>(full, value, millis).await })
            .await
        {
            Ok(()) => Ok(()),
            Err(_) => self.memory.set(key, value, ttl).await,
        }
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        self.memory.delete(key).await?;
        let full = format!("{KEY_PREFIX}{key}");
        self.link
            .call(|mut conn| async move { conn.del::<_, ()>(full).await })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs only when `TEST_REDIS_URL` points at a real Redis (`make test-all` sets it).
    #[tokio::test]
    async fn stores_and_expires_values_in_a_real_redis() {
        let Ok(url) = std::env::var("TEST_REDIS_URL") else {
            eprintln!("TEST_REDIS_URL not set; skipping the Redis round trip");
            return;
        };
        let cache = RedisCache::connect(&url, Duration::from_secs(2))
            .await
            .unwrap();
        let key = format!("test:{}", std::process::id());
        cache
            .set(&key, b"hello", Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!(
            cache.get(&key).await.unwrap().as_deref(),
            Some(&b"hello"[..])
        );
        cache
            .set(&key, b"short", Duration::from_millis(1))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(cache.get(&key).await.unwrap(), None, "PX expiry honoured");
        assert!(!cache.link().is_open());
    }

    #[tokio::test]
    async fn connect_errors_do_not_reveal_the_password() {
        let err = RedisCache::connect("redis://:s3cretpw@127.0.0.1:1/", Duration::from_millis(300))
            .await
            .unwrap_err();
        let text = format!("{err:#}");
        assert!(!text.contains("s3cretpw"), "{text}");
        assert!(text.contains("cannot connect to Redis"), "{text}");
    }
}
