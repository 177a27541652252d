//! In-process TTL cache for single-instance deployments and tests.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use stockpilot_application::ports::{Cache, CacheError};

/// Entries beyond this count are evicted (expired ones first, then the soonest to expire),
/// so an unbounded key space cannot grow memory without limit.
const DEFAULT_CAPACITY: usize = 10_000;

#[derive(Debug)]
pub struct MemoryCache {
    entries: Mutex<HashMap<String, (Instant, Vec<u8>)>>,
    capacity: usize,
}

impl Default for MemoryCache {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }
}

impl MemoryCache {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// Drops every entry.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Vec<u8>)>> {
        // A panic while holding the lock cannot leave a half-written entry (inserts are
        // single calls), so a poisoned map is still consistent.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait::async_trait]
impl Cache for MemoryCache {
    fn backend(&self) -> &'static str {
        "memory"
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let mut map = self.lock();
        match map.get(key) {
            Some((expires, value)) if *expires > Instant::now() => Ok(Some(value.clone())),
            Some(_) => {
                map.remove(key);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        let now = Instant::now();
        let mut map = self.lock();
        if map.len() >= self.capacity && !map.contains_key(key) {
            map.retain(|_, (expires, _)| *expires > now);
            if map.len() >= self.capacity {
                let soonest = map
                    .iter()
                    .min_by_key(|(_, (e, _))| *e)
                    .map(|(k, _)| k.clone());
                if let Some(k) = soonest {
                    map.remove(&k);
                }
            }
        }
        map.insert(key.to_owned(), (now + ttl, value.to_vec()));
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        self.lock().remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn returns_a_value_until_it_expires() {
        let cache = MemoryCache::default();
        cache.set("k", b"v", Duration::from_secs(60)).await.unwrap();
        assert_eq!(cache.get("k").await.unwrap().as_deref(), Some(&b"v"[..]));
        cache.set("gone", b"v", Duration::ZERO).await.unwrap();
        assert_eq!(cache.get("gone").await.unwrap(), None);
        cache.delete("k").await.unwrap();
        assert_eq!(cache.get("k").await.unwrap(), None);
    }

    #[tokio::test]
    async fn evicts_instead_of_growing_past_capacity() {
        let cache = MemoryCache::with_capacity(2);
        cache.set("a", b"1", Duration::from_secs(10)).await.unwrap();
        cache.set("b", b"2", Duration::from_secs(20)).await.unwrap();
        cache.set("c", b"3", Duration::from_secs(30)).await.unwrap();
        assert_eq!(
            cache.get("a").await.unwrap(),
            None,
            "soonest-to-expire entry evicted"
        );
        assert_eq!(cache.get("c").await.unwrap().as_deref(), Some(&b"3"[..]));
        assert_eq!(cache.lock().len(), 2);
    }
}
