//! How hard the gateway tries: retries, backoff, circuit breaking and answer caching.

use std::time::Duration;

/// Gateway-wide policy; per-provider limits (timeout, concurrency, prices) live in each
/// `ProviderConfig`.
#[derive(Debug, Clone, PartialEq)]
pub struct GatewaySettings {
    /// Retries on the same provider after a retryable failure (so `1 + max_retries` attempts).
    pub max_retries: u32,
    /// First backoff; doubled per retry, with jitter, up to `max_backoff`.
    pub base_backoff: Duration,
    /// Longest wait between two attempts; a `Retry-After` longer than this moves on to the
    /// next provider instead of waiting.
    pub max_backoff: Duration,
    /// Consecutive failed calls that open a provider's circuit.
    pub breaker_failures: u32,
    /// How long an open circuit refuses calls before letting one trial call through.
    pub breaker_cooldown: Duration,
    /// Identical-request cache lifetime; `None` disables the cache.
    pub cache_ttl: Option<Duration>,
    /// Seed of the backoff jitter (tests pin it; by default it comes from the clock so that
    /// replicas do not retry in lockstep).
    pub jitter_seed: u64,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        Self {
            max_retries: 2,
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            breaker_failures: 5,
            breaker_cooldown: Duration::from_secs(30),
            cache_ttl: None,
            jitter_seed: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64),
        }
    }
}
