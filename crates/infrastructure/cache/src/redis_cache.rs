//! Redis cache through a reconnecting connection manager, and the Redis readiness probe.

use std::time::Duration;

use anyhow::Context;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use stockpilot_application::ports::{Cache, CacheError, DependencyProbe, ProbeFailure};

/// Keys are namespaced so one Redis can serve several deployments.
const KEY_PREFIX: &str = "stockpilot:";

#[derive(Clone)]
pub struct RedisCache {
    conn: ConnectionManager,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedisCache")
    }
}

/// Redis errors can echo the URL they failed on; keep only the kind so no password leaks.
fn describe(e: &redis::RedisError) -> String {
    format!("redis {:?} error", e.kind())
}

impl RedisCache {
    /// Connects to `url`, waiting at most `timeout` for the first connection; later drops are
    /// reconnected in the background by the connection manager.
    ///
    /// # Errors
    /// An invalid URL or a server that does not answer in time.
    pub async fn connect(url: &str, timeout: Duration) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)
            .map_err(|e| anyhow::anyhow!(describe(&e)))
            .context("invalid Redis URL (cache.redis_url)")?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1);
        let conn =
            tokio::time::timeout(timeout, ConnectionManager::new_with_config(client, config))
                .await
                .map_err(|_| anyhow::anyhow!("no answer within {} ms", timeout.as_millis()))
                .and_then(|r| r.map_err(|e| anyhow::anyhow!(describe(&e))))
                .context("cannot connect to Redis (cache.redis_url)")?;
        Ok(Self { conn })
    }

    /// The shared connection manager (for the rate limiter).
    pub fn connection(&self) -> ConnectionManager {
        self.conn.clone()
    }

    pub fn probe(&self) -> RedisProbe {
        RedisProbe {
            conn: self.conn.clone(),
        }
    }
}

#[async_trait::async_trait]
impl Cache for RedisCache {
    fn backend(&self) -> &'static str {
        "redis"
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let mut conn = self.conn.clone();
        conn.get(format!("{KEY_PREFIX}{key}"))
            .await
            .map_err(|e| CacheError(describe(&e)))
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        let mut conn = self.conn.clone();
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        conn.pset_ex::<_, _, ()>(format!("{KEY_PREFIX}{key}"), value, millis)
            .await
            .map_err(|e| CacheError(describe(&e)))
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        let mut conn = self.conn.clone();
        conn.del::<_, ()>(format!("{KEY_PREFIX}{key}"))
            .await
            .map_err(|e| CacheError(describe(&e)))
    }
}

/// `PING` for `/ready`.
#[derive(Clone)]
pub struct RedisProbe {
    conn: ConnectionManager,
}

#[async_trait::async_trait]
impl DependencyProbe for RedisProbe {
    fn name(&self) -> &'static str {
        "redis"
    }

    async fn probe(&self) -> Result<(), ProbeFailure> {
        let mut conn = self.conn.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map(|_| ())
            .map_err(|e| ProbeFailure(describe(&e)))
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
        assert!(cache.probe().probe().await.is_ok());
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
