//! A shared TTL key-value cache (Redis across replicas, or in-process memory).

use std::time::Duration;

/// A cache operation failed; callers treat the cache as optional and carry on without it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cache unavailable: {0}")]
pub struct CacheError(pub String);

#[async_trait::async_trait]
pub trait Cache: Send + Sync {
    /// Which adapter this is (`memory`, `redis`), for metrics and `/ready`.
    fn backend(&self) -> &'static str;

    /// The value under `key`, if present and not expired.
    ///
    /// # Errors
    /// [`CacheError`] when the backend cannot be reached.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError>;

    /// Stores `value` under `key` for `ttl`.
    ///
    /// # Errors
    /// [`CacheError`] when the backend cannot be reached.
    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError>;

    /// Removes `key`.
    ///
    /// # Errors
    /// [`CacheError`] when the backend cannot be reached.
    async fn delete(&self, key: &str) -> Result<(), CacheError>;
}
