//! Windowed request counters for rate limits: Redis across replicas (one atomic script per
//! request), or in-process memory.

use std::time::Duration;

use super::cache::CacheError;

/// The outcome of counting one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    /// Whether the request is within the limit (it was counted only then).
    pub allowed: bool,
    pub limit: u32,
    /// Requests still allowed in the current window after this one.
    pub remaining: u32,
    /// When the window has room again (for `Retry-After` / `RateLimit-Reset`).
    pub reset_after: Duration,
}

/// Sliding-window counters: the count of a key is the current fixed window's plus the previous
/// window's weighted by how much of it still overlaps the sliding window, so a burst at a
/// window boundary cannot double the limit.
#[async_trait::async_trait]
pub trait RateLimitStore: Send + Sync {
    /// Which adapter answers (`memory`, `redis`, or `memory (redis unavailable)`).
    fn backend(&self) -> &'static str;

    /// Counts one request of `key` against `limit` per `window`.
    ///
    /// # Errors
    /// [`CacheError`] when the backend cannot be reached.
    async fn hit(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
    ) -> Result<RateDecision, CacheError>;
}

/// The sliding-window arithmetic shared by the adapters: `previous` and `current` counts,
/// `elapsed` of `window` into the current fixed window. Returns the decision and whether to
/// count the request.
pub fn sliding_window(
    previous: u64,
    current: u64,
    elapsed: Duration,
    window: Duration,
    limit: u32,
) -> RateDecision {
    let w = window.as_secs_f64().max(1e-3);
    let overlap = 1.0 - (elapsed.as_secs_f64() / w).clamp(0.0, 1.0);
    #[allow(clippy::cast_precision_loss)]
    let estimate = previous as f64 * overlap + current as f64;
    let allowed = estimate + 1.0 <= f64::from(limit);
    let used = if allowed { estimate + 1.0 } else { estimate };
    let remaining = (f64::from(limit) - used).floor().max(0.0);
    // Room for one more comes back when the previous window's share has decayed enough, or
    // at the latest when the current window ends.
    let reset_after = if allowed {
        window.saturating_sub(elapsed)
    } else if previous > 0 && current < u64::from(limit) {
        #[allow(clippy::cast_precision_loss)]
        let needed = (estimate + 1.0 - f64::from(limit)) / previous as f64;
        Duration::from_secs_f64((needed * w).clamp(0.001, w))
    } else {
        window.saturating_sub(elapsed)
    };
    RateDecision {
        allowed,
        limit,
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        remaining: remaining as u32,
        reset_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_previous_window_counts_by_its_overlap() {
        let w = Duration::from_secs(60);
        // 10 in the previous window, 15 s into the current one: 7.5 still count.
        let d = sliding_window(10, 2, Duration::from_secs(15), w, 10);
        assert!(!d.allowed, "7.5 + 2 + 1 > 10");
        let d = sliding_window(10, 1, Duration::from_secs(15), w, 10);
        assert!(d.allowed, "7.5 + 1 + 1 ≤ 10");
        assert_eq!(d.remaining, 0);
        let d = sliding_window(0, 4, Duration::from_secs(30), w, 10);
        assert_eq!(
            (d.allowed, d.remaining, d.reset_after),
            (true, 5, Duration::from_secs(30))
        );
    }
}
