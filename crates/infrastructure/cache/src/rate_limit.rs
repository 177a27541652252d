//! Rate-limit counters: in-process memory, Redis (one Lua script per request, so every replica
//! shares one count and the check-and-count is atomic), and both together: this instance's
//! memory admits a request first and Redis then checks it against every replica's count, so
//! while Redis is unavailable the per-instance count already holds every request this instance
//! admitted and the limit is never exceeded, also at the switch and under concurrency.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::redis_link::{CircuitProbe, RedisLink};
use stockpilot_application::ports::{CacheError, RateDecision, RateLimitStore, sliding_window};

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

    /// Takes back one request of `key` counted in the current window (one the shared count
    /// refused after this instance admitted it).
    fn uncount(&self, key: &str, window: Duration) {
        let index = (self.now_ms)() / window_ms(window);
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(entry) = counts.get_mut(key)
            && entry.index == index
        {
            entry.current = entry.current.saturating_sub(1);
        }
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
    link: RedisLink,
    script: Arc<redis::Script>,
    prefix: String,
}

impl RedisRateLimiter {
    /// Over a shared Redis link; keys are `stockpilot:rl:{prefix}:…`.
    pub fn new(link: &RedisLink, prefix: &str) -> Self {
        Self {
            link: link.clone(),
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
        let mut invocation = self
            .script
            .key(format!("stockpilot:rl:{}:{key}", self.prefix));
        invocation.arg(window_ms(window)).arg(limit);
        let (previous, current, elapsed, allowed): (u64, u64, u64, u8) = self
            .link
            .call(|mut conn| async move { invocation.invoke_async(&mut conn).await })
            .await?;
        let elapsed = Duration::from_millis(elapsed);
        // The script decided; the same arithmetic gives the headers' figures.
        let mut decision = sliding_window(previous, current, elapsed, window, limit);
        decision.allowed = allowed == 1;
        Ok(decision)
    }
}

/// This instance's memory and Redis together: memory admits first (so this instance alone
/// never passes the limit), then Redis decides for all replicas and a refusal is taken back
/// from memory. While Redis's breaker is open, or a command fails, the memory's decision
/// stands: limits are per instance (the degraded mode), requests are never refused because
/// Redis is down, and `stockpilot_rate_limiter_degraded` and `/ready` say so.
pub struct FallbackRateLimiter {
    primary: RedisRateLimiter,
    local: MemoryRateLimiter,
}

impl FallbackRateLimiter {
    pub fn new(primary: RedisRateLimiter) -> Self {
        primary.link.on_change(|open| {
            metrics::gauge!("stockpilot_rate_limiter_degraded").set(if open { 1.0 } else { 0.0 });
        });
        Self {
            primary,
            local: MemoryRateLimiter::default(),
        }
    }

    /// A `/ready` check that reports whether the limits are shared (Redis) or local.
    pub fn probe(&self) -> CircuitProbe {
        self.primary.link.probe_named(
            "rate_limiter",
            "Redis unavailable: rate limits are counted per instance",
        )
    }
}

#[async_trait::async_trait]
impl RateLimitStore for FallbackRateLimiter {
    fn backend(&self) -> &'static str {
        if self.primary.link.is_open() {
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
        let local = self.local.hit_now(key, limit, window);
        if !local.allowed || self.primary.link.is_open() {
            return Ok(local);
        }
        match self.primary.hit(key, limit, window).await {
            Ok(shared) => {
                if !shared.allowed {
                    self.local.uncount(key, window);
                }
                Ok(shared)
            }
            Err(_) => Ok(local),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

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

    #[test]
    fn a_request_taken_back_frees_its_place_in_the_current_window_only() {
        let now = Arc::new(AtomicU64::new(60_000 * 1000));
        let clock = now.clone();
        let limiter = MemoryRateLimiter::with_clock(Arc::new(move || clock.load(Ordering::SeqCst)));
        let w = Duration::from_secs(60);
        assert!(limiter.hit_now("k", 2, w).allowed);
        assert!(limiter.hit_now("k", 2, w).allowed);
        assert!(!limiter.hit_now("k", 2, w).allowed);
        limiter.uncount("k", w);
        assert!(limiter.hit_now("k", 2, w).allowed);
        assert!(!limiter.hit_now("k", 2, w).allowed);
        // In the next window the previous one's count is history: nothing to take back.
        now.fetch_add(60_000, Ordering::SeqCst);
        limiter.uncount("k", w);
        limiter.uncount("unknown", w);
        assert_eq!(limiter.hit_now("k", 2, w).remaining, 0);
    }

    /// Runs only when `TEST_REDIS_URL` points at a real Redis (`make test-all` sets it).
    #[tokio::test]
    async fn two_limiters_on_one_redis_enforce_one_combined_limit_and_it_resets() {
        let Ok(url) = std::env::var("TEST_REDIS_URL") else {
            eprintln!("TEST_REDIS_URL not set; skipping");
            return;
        };
        let prefix = format!("test-{}-{}", std::process::id(), system_now_ms());
        let link = || RedisLink::connect(&url, Duration::from_secs(2), Duration::from_secs(1));
        let a = RedisRateLimiter::new(&link().await.unwrap(), &prefix);
        let b = RedisRateLimiter::new(&link().await.unwrap(), &prefix);
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
