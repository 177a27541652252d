//! One provider's circuit breaker: `breaker_failures` consecutive failed calls open it; after
//! the cool-down one trial call is let through (half-open); its success closes the circuit,
//! its failure reopens it for another cool-down.
//!
//! A "failed call" is one call to the provider after its retries (see `CallError::trips_breaker`);
//! requests the provider rejected as malformed (400/422) say nothing about its health and
//! count neither way.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use stockpilot_application::ports::CircuitState;

use super::telemetry;

#[derive(Debug, Clone, Copy)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { trial_running: bool },
}

pub(crate) struct Breaker {
    provider: String,
    threshold: u32,
    cooldown: Duration,
    enabled: AtomicBool,
    state: Mutex<State>,
}

/// Why a call may not go to the provider now.
pub(crate) enum Refusal {
    Open { retry_in: Duration },
    TrialRunning,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Open { retry_in } => write!(
                f,
                "circuit open after repeated failures; next trial in {}s",
                retry_in.as_secs().max(1)
            ),
            Self::TrialRunning => f.write_str("circuit half-open; a trial call is in progress"),
        }
    }
}

/// Leave to call the provider. Must be settled with `succeeded`, `failed` or `neutral`;
/// dropped unsettled (the caller gave up mid-call), a trial is released for the next caller.
pub(crate) struct Admission {
    breaker: Arc<Breaker>,
    settled: bool,
}

impl Breaker {
    pub(crate) fn new(provider: &str, threshold: u32, cooldown: Duration, enabled: bool) -> Self {
        let breaker = Self {
            provider: provider.to_owned(),
            threshold: threshold.max(1),
            cooldown,
            enabled: AtomicBool::new(enabled),
            state: Mutex::new(State::Closed { failures: 0 }),
        };
        breaker.publish();
        breaker
    }

    pub(crate) fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::Relaxed);
        self.publish();
    }

    pub(crate) fn admit(self: &Arc<Self>) -> Result<Admission, Refusal> {
        let mut state = self.lock();
        match *state {
            State::Closed { .. } => {}
            State::Open { until } => {
                let now = Instant::now();
                if now < until {
                    return Err(Refusal::Open {
                        retry_in: until - now,
                    });
                }
                *state = State::HalfOpen {
                    trial_running: true,
                };
                drop(state);
                self.publish();
            }
            State::HalfOpen {
                trial_running: true,
            } => return Err(Refusal::TrialRunning),
            State::HalfOpen {
                trial_running: false,
            } => {
                *state = State::HalfOpen {
                    trial_running: true,
                }
            }
        }
        Ok(Admission {
            breaker: Arc::clone(self),
            settled: false,
        })
    }

    /// The state as a caller would meet it now (an expired open circuit reads half-open).
    pub(crate) fn state(&self) -> CircuitState {
        match *self.lock() {
            State::Closed { .. } => CircuitState::Closed,
            State::Open { until } if Instant::now() < until => CircuitState::Open,
            State::Open { .. } | State::HalfOpen { .. } => CircuitState::HalfOpen,
        }
    }

    fn transition(&self, next: impl FnOnce(State) -> State) {
        let mut state = self.lock();
        *state = next(*state);
        drop(state);
        self.publish();
    }

    fn publish(&self) {
        let circuit = self.state();
        let enabled = self.enabled.load(Ordering::Relaxed);
        telemetry::provider_state(&self.provider, enabled, circuit);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is a plain value; a panic elsewhere cannot leave it half-written.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Admission {
    pub(crate) fn succeeded(mut self) {
        self.settled = true;
        self.breaker.transition(|_| State::Closed { failures: 0 });
    }

    pub(crate) fn failed(mut self) {
        self.settled = true;
        let (threshold, cooldown) = (self.breaker.threshold, self.breaker.cooldown);
        self.breaker.transition(|state| match state {
            State::Closed { failures } if failures + 1 < threshold => State::Closed {
                failures: failures + 1,
            },
            // Another caller's failure may have opened it meanwhile: keep the later deadline.
            State::Open { until } => State::Open { until },
            _ => State::Open {
                until: Instant::now() + cooldown,
            },
        });
        tracing::debug!(provider = %self.breaker.provider, "provider call failed; breaker updated");
    }

    pub(crate) fn neutral(mut self) {
        self.settled = true;
        self.breaker.release_trial();
    }
}

impl Breaker {
    fn release_trial(&self) {
        self.transition(|state| match state {
            State::HalfOpen { .. } => State::HalfOpen {
                trial_running: false,
            },
            other => other,
        });
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        if !self.settled {
            self.breaker.release_trial();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker(cooldown_ms: u64) -> Arc<Breaker> {
        Arc::new(Breaker::new(
            "p",
            2,
            Duration::from_millis(cooldown_ms),
            true,
        ))
    }

    #[test]
    fn opens_after_consecutive_failures_and_a_success_resets_the_count() {
        let b = breaker(60_000);
        b.admit().ok().unwrap().failed();
        b.admit().ok().unwrap().succeeded();
        b.admit().ok().unwrap().failed();
        assert_eq!(b.state(), CircuitState::Closed);
        b.admit().ok().unwrap().failed();
        assert_eq!(b.state(), CircuitState::Open);
        assert!(matches!(b.admit(), Err(Refusal::Open { .. })));
    }

    #[test]
    fn half_open_lets_one_trial_through_and_its_failure_reopens() {
        let b = breaker(0);
        b.admit().ok().unwrap().failed();
        b.admit().ok().unwrap().failed();
        assert_eq!(b.state(), CircuitState::HalfOpen);
        let trial = b.admit().ok().unwrap();
        assert!(matches!(b.admit(), Err(Refusal::TrialRunning)));
        trial.failed();
        // Cool-down 0: immediately half-open again, and a success closes it.
        b.admit().ok().unwrap().succeeded();
        assert_eq!(b.state(), CircuitState::Closed);
    }

    #[test]
    fn an_abandoned_trial_frees_the_half_open_slot() {
        let b = breaker(0);
        b.admit().ok().unwrap().failed();
        b.admit().ok().unwrap().failed();
        drop(b.admit().ok().unwrap());
        assert!(b.admit().is_ok());
    }
}
