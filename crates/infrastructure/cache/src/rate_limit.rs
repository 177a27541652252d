//! Rate-limit counters: in-process memory, Redis (one Lua script per request, so every replica
//! shares one count and the check-and-count is atomic), and Redis with a memory fallback that
//! keeps serving when Redis is down and says so on `/ready` and in metrics.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::aio::ConnectionManager;
use stockpilot_application::ports::{
    CacheError, DependencyProbe, ProbeFailure, RateDecision, RateLimitStore, sliding_window,
};

/// Milliseconds since the Unix epoch, replaceable in tests.
pub type NowMs = Arc<dyn Fn() -> u64 + Send + Sync>;

fn system_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn window_ms(window: Duration) -> u64 {
    u64::try_from(window.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[derive(Debug, Clone, Copy)]
struct Counts {
    index: u64,
    current: u64,
    previous: u64,
}

/// Counters in this process only (one replica, or the fallback when Redis is down).
pub struct MemoryRateLimiter {
    counts: Mutex<HashMap<String, Counts>>,
    now_ms: NowMs,
}

impl Default for MemoryRateLimiter {
    fn default() -> Self {
        Self::with_clock(Arc::new(system_now_ms))
    }
}

impl MemoryRateLimiter {
    pub fn with_clock(now_ms: NowMs) -> Self {
        Self {
            counts: Mutex::new(HashMap::new()),
            now_ms,
        }
    }

    fn hit_now(&self, key: &str, limit: u32, window: Duration) -> RateDecision {
        let w = window_ms(window);
        let now = (self.now_ms)();
        let index = now / w;
        let elapsed = Duration::from_millis(now - index * w);
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if counts.len() > 100_000 {
            counts.retain(|_, c| c.index + 1 >= index);
        }
        let entry = counts.entry(key.to_owned()).or_insert(Counts {
            index,
            current: 0,
            previous: 0,
        });
        if entry.index != index {
            entry.previous = if entry.index + 1 == index {
                entry.current
            } else {
                0
            };
            entry.current = 0;
            entry.index = index;
        }
        let decision = sliding_window(entry.previous, entry.current, elapsed, window, limit);
        if decision.allowed {
            entry.current += 1;
        }
        decision
    }
}

#[async_trait::async_trait]
impl RateLimitStore for MemoryRateLimiter {
    fn backend(&self) -> &'static str {
        "memory"
    }

    async fn hit(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
    ) -> Result<RateDecision, CacheError> {
        Ok(self.hit_now(key, limit, window))
    }
}

/// Reads both windows' counts and, when the request fits, counts it — in one script, on
/// Redis' clock, so replicas neither race nor disagree about time.
const SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local index = math.floor(now / window)
local current_key = KEYS[1] .. ':' .. index
local previous = tonumber(redis.call('GET', KEYS[1] .. ':' .. (index - 1)) or '0')
local current = tonumber(redis.call('GET', current_key) or '0')
local elapsed = now - index * window
local allowed = 0
if previous * (1 - elapsed / window) + current + 1 <= limit then
  redis.call('INCR', current_key)
  redis.call('PEXPIRE', current_key, window * 2)
  allowed = 1
end
return {previous, current, elapsed, allowed}
";

/// Counters in Redis, shared by every replica.
#[derive(Clone)]
pub struct RedisRateLimiter {
    conn: ConnectionManager,
    script: Arc<redis::Script>,
    prefix: String,
}

impl RedisRateLimiter {
    /// Over the connection of a [`crate::RedisCache`]; keys are `stockpilot:rl:{prefix}:…`.
    pub fn new(cache: &crate::RedisCache, prefix: &str) -> Self {
        Self {
            conn: cache.connection(),
            script: Arc::new(redis::Script::new(SCRIPT)),
            prefix: prefix.to_owned(),
        }
    }
}

#[async_trait::async_trait]
impl RateLimitStore for RedisRateLimiter {
    fn backend(&self) -> &'static str {
        "redis"
    }

    async fn hit(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
    ) -> Result<RateDecision, CacheError> {
        let mut conn = self.conn.clone();
        let (previous, current, elapsed, allowed): (u64, u64, u64, u8) = self
            .script
            .key(format!("stockpilot:rl:{}:{key}", self.prefix))
            .arg(window_ms(window))
            .arg(limit)
            .invoke_async(&mut conn)
            .await
            .map_err(|e| CacheError(format!("redis {:?} error", e.kind())))?;
        let elapsed = Duration::from_millis(elapsed);
        // The script decided; the same arithmetic gives the headers' figures.
        let mut decision = sliding_window(previous, current, elapsed, window, limit);
        decision.allowed = allowed == 1;
        Ok(decision)
    }
}

/// Redis while it answers, this process' memory while it does not: requests are never
/// refused because the limiter's store is down. The switch is logged, exported as
/// `stockpilot_rate_limiter_degraded` and shown on `/ready` (not failing it).
pub struct FallbackRateLimiter {
    primary: RedisRateLimiter,
    fallback: MemoryRateLimiter,
    degraded: Arc<AtomicBool>,
}

impl FallbackRateLimiter {
    pub fn new(primary: RedisRateLimiter) -> Self {
        Self {
            primary,
            fallback: MemoryRateLimiter::default(),
            degraded: Arc::new(AtomicBool::new(false)),
        }
    }

    /// A `/ready` check that reports whether the limits are shared (Redis) or local.
    pub fn probe(&self) -> RateLimiterProbe {
        RateLimiterProbe {
            degraded: self.degraded.clone(),
        }
    }

    fn set_degraded(&self, degraded: bool, reason: &str) {
        if self.degraded.swap(degraded, Ordering::SeqCst) != degraded {
            if degraded {
                tracing::warn!(
                    reason,
                    "rate limiter: Redis unavailable; limits are counted per instance until it returns"
                );
            } else {
                tracing::info!("rate limiter: Redis is back; limits are shared again");
            }
        }
        metrics::gauge!("stockpilot_rate_limiter_degraded").set(if degraded { 1.0 } else { 0.0 });
    }
}

#[async_trait::async_trait]
impl RateLimitStore for FallbackRateLimiter {
    fn backend(&self) -> &'static str {
        if self.degraded.load(Ordering::SeqCst) {
            "memory (redis unavailable)"
        } else {
            "redis"
        }
    }

    async fn hit(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
    ) -> Result<RateDecision, CacheError> {
        match self.primary.hit(key, limit, window).await {
            Ok(decision) => {
                self.set_degraded(false, "");
                Ok(decision)
            }
            Err(e) => {
                self.set_degraded(true, &e.0);
                self.fallback.hit(key, limit, window).await
            }
        }
    }
}

/// `/ready` check `rate_limiter`: fails (without making the instance unready) while limits
/// fall back to per-instance memory.
#[derive(Clone)]
pub struct RateLimiterProbe {
    degraded: Arc<AtomicBool>,
}

#[async_trait::async_trait]
impl DependencyProbe for RateLimiterProbe {
    fn name(&self) -> &'static str {
        "rate_limiter"
    }

    fn required(&self) -> bool {
        false
    }

    async fn probe(&self) -> Result<(), ProbeFailure> {
        if self.degraded.load(Ordering::SeqCst) {
            Err(ProbeFailure(
                "Redis unavailable: rate limits are counted per instance".into(),
            ))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU64;

    use super::*;

    #[tokio::test]
    async fn memory_limits_exhaust_and_reset_with_the_window() {
        let now = Arc::new(AtomicU64::new(60_000 * 1000));
        let clock = now.clone();
        let limiter = MemoryRateLimiter::with_clock(Arc::new(move || clock.load(Ordering::SeqCst)));
        let w = Duration::from_secs(60);
        for i in 0..5 {
            let d = limiter.hit("reads:1.2.3.4", 5, w).await.unwrap();
            assert!(d.allowed);
            assert_eq!(d.remaining, 4 - i);
        }
        let denied = limiter.hit("reads:1.2.3.4", 5, w).await.unwrap();
        assert!(!denied.allowed);
        assert_eq!(
            denied.reset_after, w,
            "at the window's start the reset is a window away"
        );
        // Another client is not affected.
        assert!(limiter.hit("reads:5.6.7.8", 5, w).await.unwrap().allowed);
        // Half-way into the next window, half of the previous 5 still count: 2 more fit.
        now.fetch_add(90_000, Ordering::SeqCst);
        assert!(limiter.hit("reads:1.2.3.4", 5, w).await.unwrap().allowed);
        assert!(limiter.hit("reads:1.2.3.4", 5, w).await.unwrap().allowed);
        assert!(!limiter.hit("reads:1.2.3.4", 5, w).await.unwrap().allowed);
        // Two windows later everything has expired.
        now.fetch_add(120_000, Ordering::SeqCst);
        assert_eq!(
            limiter.hit("reads:1.2.3.4", 5, w).await.unwrap().remaining,
            4
        );
    }

    /// Runs only when `TEST_REDIS_URL` points at a real Redis (`make test-all` sets it).
    #[tokio::test]
    async fn two_limiters_on_one_redis_enforce_one_combined_limit_and_it_resets() {
        let Ok(url) = std::env::var("TEST_REDIS_URL") else {
            eprintln!("TEST_REDIS_URL not set; skipping");
            return;
        };
        let prefix = format!("test-{}-{}", std::process::id(), system_now_ms());
        let a = RedisRateLimiter::new(
            &crate::RedisCache::connect(&url, Duration::from_secs(2))
                .await
                .unwrap(),
            &prefix,
        );
        let b = RedisRateLimiter::new(
            &crate::RedisCache::connect(&url, Duration::from_secs(2))
                .await
                .unwrap(),
            &prefix,
        );
        let w = Duration::from_millis(800);
        // Start at the beginning of a window so the test's hits share one.
        let t = system_now_ms();
        tokio::time::sleep(Duration::from_millis(window_ms(w) - t % window_ms(w) + 5)).await;
        let mut allowed = 0;
        for i in 0..8 {
            let limiter = if i % 2 == 0 { &a } else { &b };
            if limiter.hit("chat:9.9.9.9", 4, w).await.unwrap().allowed {
                allowed += 1;
            }
        }
        assert_eq!(allowed, 4, "4 per window across both instances");
        let denied = a.hit("chat:9.9.9.9", 4, w).await.unwrap();
        assert!(!denied.allowed);
        // Two windows later the count has expired.
        tokio::time::sleep(w * 2).await;
        assert!(b.hit("chat:9.9.9.9", 4, w).await.unwrap().allowed);
    }
}
