//! Retrying one provider call: only `Transient` and `RateLimited` failures are tried again,
//! after exponential backoff with seeded jitter or the wait the provider asked for, and every
//! attempt passes the adapter's throttle first.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use stockpilot_application::ports::SourceError;

use super::throttle::Throttle;
use crate::settings::RetrySettings;

/// One failed attempt: the error to report if no retry is left, and the wait the provider
/// asked for (per-minute limit, `Retry-After`) instead of the computed backoff.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) error: SourceError,
    pub(crate) wait: Option<Duration>,
}

impl Failure {
    /// The same failure with `secret` removed from its message; applied by the adapters to
    /// every attempt, before the retry loop logs it.
    pub(crate) fn scrubbed(self, secret: &str) -> Failure {
        Failure {
            error: super::scrub(self.error, secret),
            wait: self.wait,
        }
    }
}

impl From<SourceError> for Failure {
    fn from(error: SourceError) -> Failure {
        Failure { error, wait: None }
    }
}

/// Backoff policy of one adapter instance; the jitter state is shared by its tasks.
#[derive(Debug)]
pub(crate) struct Retrier {
    settings: RetrySettings,
    jitter: AtomicU64,
    /// Provider name for `stockpilot_upstream_requests_total`.
    provider: &'static str,
}

impl Retrier {
    pub(crate) fn new(settings: RetrySettings) -> Retrier {
        // xorshift has one fixed point, zero; any other seed cycles through all of u64.
        let seed = if settings.jitter_seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            settings.jitter_seed
        };
        Retrier {
            settings,
            jitter: AtomicU64::new(seed),
            provider: "unknown",
        }
    }

    /// Labels this retrier's metrics with `provider` and registers them at zero.
    pub(crate) fn named(mut self, provider: &'static str) -> Retrier {
        self.provider = provider;
        super::register_metrics(provider);
        self
    }

    pub(crate) fn max_backoff(&self) -> Duration {
        self.settings.max_backoff
    }

    /// Runs `attempt` until it succeeds, fails for good, or `max_retries` retries are spent.
    pub(crate) async fn run<T, F, Fut>(
        &self,
        throttle: &Throttle,
        what: &str,
        mut attempt: F,
    ) -> Result<T, SourceError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        let mut retries = 0;
        loop {
            throttle.acquire().await;
            let failure = match attempt().await {
                Ok(value) => {
                    metrics::counter!("stockpilot_upstream_requests_total", "provider" => self.provider, "outcome" => "ok").increment(1);
                    return Ok(value);
                }
                Err(failure) => failure,
            };
            metrics::counter!("stockpilot_upstream_requests_total", "provider" => self.provider, "outcome" => failure.error.kind()).increment(1);
            debug_assert!(SourceError::KINDS.contains(&failure.error.kind()));
            let retryable = matches!(
                failure.error,
                SourceError::Transient { .. } | SourceError::RateLimited { .. }
            );
            if !retryable || retries >= self.settings.max_retries {
                return Err(failure.error);
            }
            let wait = failure.wait.unwrap_or_else(|| self.backoff(retries));
            retries += 1;
            tracing::warn!(
                call = what,
                kind = failure.error.kind(),
                error = %failure.error,
                retry = retries,
                wait_ms = wait.as_millis(),
                "provider call failed; retrying"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// Wait before retry number `retry + 1`: `base × 2^retry` capped at `max_backoff`, then
    /// "equal jitter" (half fixed, half random) so that a retry never comes sooner than half
    /// the nominal backoff and concurrent tasks spread out.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let nominal = self
            .settings
            .base_backoff
            .saturating_mul(2u32.saturating_pow(retry))
            .min(self.settings.max_backoff);
        let half = nominal / 2;
        let spread = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        let random = self.next_random() % spread.saturating_add(1);
        half + Duration::from_nanos(random)
    }

    fn next_random(&self) -> u64 {
        let step = |mut x: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        // fetch_update only fails when the closure returns None, which this one never does;
        // both arms carry the previous state.
        let previous = self
            .jitter
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |x| Some(step(x)))
            .unwrap_or_else(|x| x);
        step(previous)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    fn settings(max_retries: u32) -> RetrySettings {
        RetrySettings {
            max_retries,
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
            jitter_seed: 7,
        }
    }

    fn transient() -> SourceError {
        SourceError::Transient {
            provider: "test",
            message: "boom".into(),
        }
    }

    #[test]
    fn backoff_doubles_within_jitter_and_stops_at_the_cap() {
        let retrier = Retrier::new(settings(5));
        for (retry, nominal) in [(0, 100), (1, 200), (2, 350), (3, 350), (30, 350)] {
            let wait = retrier.backoff(retry);
            let nominal = Duration::from_millis(nominal);
            assert!(wait >= nominal / 2 && wait <= nominal, "{retry}: {wait:?}");
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_waits() {
        let a = Retrier::new(settings(5));
        let b = Retrier::new(settings(5));
        let waits = |r: &Retrier| (0..4).map(|i| r.backoff(i)).collect::<Vec<_>>();
        assert_eq!(waits(&a), waits(&b));
    }

    #[tokio::test(start_paused = true)]
    async fn retries_transient_failures_up_to_the_limit() {
        let retrier = Retrier::new(settings(2));
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = retrier
            .run(&Throttle::unlimited(), "test", || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(Failure::from(transient()))
            })
            .await;
        assert_eq!(result, Err(transient()));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn never_retries_auth_or_quota_failures() {
        let retrier = Retrier::new(settings(5));
        for error in [
            SourceError::Auth {
                provider: "test",
                message: "bad".into(),
            },
            SourceError::QuotaExhausted {
                provider: "test",
                message: "tomorrow".into(),
            },
            SourceError::Malformed {
                provider: "test",
                message: "junk".into(),
            },
        ] {
            let calls = AtomicU32::new(0);
            let result: Result<(), _> = retrier
                .run(&Throttle::unlimited(), "test", || {
                    calls.fetch_add(1, Ordering::SeqCst);
                    let error = error.clone();
                    async move { Err(Failure::from(error)) }
                })
                .await;
            assert_eq!(result, Err(error));
            assert_eq!(calls.load(Ordering::SeqCst), 1);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn waits_what_the_provider_asked_for() {
        let retrier = Retrier::new(settings(1));
        let calls = AtomicU32::new(0);
        let start = tokio::time::Instant::now();
        let result = retrier
            .run(&Throttle::unlimited(), "test", || async {
                if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                    Err(Failure {
                        error: transient(),
                        wait: Some(Duration::from_secs(60)),
                    })
                } else {
                    Ok(42)
                }
            })
            .await;
        assert_eq!(result, Ok(42));
        assert_eq!(start.elapsed(), Duration::from_secs(60));
    }
}
