//! How background workers wait after their store fails: the poll interval doubles with each
//! failure in a row, up to [`MAX_BACKOFF`], so an unavailable database is asked every half
//! minute at most instead of every poll; the first success resets it. The first failure of an
//! outage is logged as a warning, the repeats at debug, and the recovery at info.

use std::time::Duration;

/// The longest a worker waits between attempts while its store keeps failing.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub struct Backoff {
    base: Duration,
    failures: u32,
}

impl Backoff {
    pub fn new(base: Duration) -> Self {
        Self { base, failures: 0 }
    }

    /// Records a failure of `what` and returns how long to wait before the next attempt.
    pub fn failed(&mut self, what: &str, error: &dyn std::fmt::Display) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let wait = self
            .base
            .saturating_mul(1 << (self.failures - 1).min(16))
            .min(MAX_BACKOFF)
            .max(self.base);
        if self.failures == 1 {
            tracing::warn!(error = %error, retry_in_ms = wait.as_millis() as u64, "{what} failed; backing off");
        } else {
            tracing::debug!(error = %error, failures = self.failures, retry_in_ms = wait.as_millis() as u64, "{what} failed again");
        }
        wait
    }

    /// Records a success; logs the recovery when it ends a run of failures.
    pub fn succeeded(&mut self, what: &str) {
        if self.failures > 0 {
            tracing::info!(failures = self.failures, "{what} works again");
        }
        self.failures = 0;
    }

    /// How long to wait before the next attempt after `outcome` of `what`: the base interval
    /// after a success, the growing one after a failure.
    pub fn after<T, E: std::fmt::Display>(
        &mut self,
        what: &str,
        outcome: &Result<T, E>,
    ) -> Duration {
        match outcome {
            Ok(_) => {
                self.succeeded(what);
                self.base
            }
            Err(e) => self.failed(what, e),
        }
    }

    /// Failures in a row so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_the_poll_interval_up_to_the_cap_and_resets_on_success() {
        let mut b = Backoff::new(Duration::from_secs(1));
        let waits: Vec<u64> = (0..8)
            .map(|_| b.failed("claim", &"down").as_secs())
            .collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(b.failures(), 8);
        assert_eq!(
            b.after("claim", &Ok::<(), &str>(())),
            Duration::from_secs(1)
        );
        assert_eq!(b.failures(), 0);
        assert_eq!(b.failed("claim", &"down"), Duration::from_secs(1));
    }

    #[test]
    fn a_poll_interval_above_the_cap_is_kept() {
        let mut b = Backoff::new(Duration::from_secs(60));
        assert_eq!(b.failed("claim", &"down"), Duration::from_secs(60));
        assert_eq!(b.failed("claim", &"down"), Duration::from_secs(60));
    }
}
