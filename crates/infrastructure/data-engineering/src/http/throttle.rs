//! Client-side call limits of one provider account: a minimum spacing between calls and a
//! sliding one-minute window, shared by every task that uses the same adapter instance.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::{Instant, sleep_until};

use crate::settings::ThrottleSettings;

const WINDOW: Duration = Duration::from_secs(60);

/// Grants permission to call a provider. Cloning shares the limits.
///
/// Waiters queue on a fair async mutex and sleep on the tokio timer (no busy loop), so calls
/// start in arrival order and tests can drive it with `tokio::time::pause`.
#[derive(Clone, Debug)]
pub struct Throttle {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    min_interval: Duration,
    calls_per_minute: Option<usize>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    last: Option<Instant>,
    recent: VecDeque<Instant>,
}

impl Throttle {
    /// A throttle with the given limits; `calls_per_minute: Some(0)` is treated as 1.
    pub fn new(settings: &ThrottleSettings) -> Throttle {
        let calls_per_minute = settings
            .calls_per_minute
            .map(|n| usize::try_from(n.max(1)).unwrap_or(usize::MAX));
        Throttle {
            inner: Arc::new(Inner {
                min_interval: settings.min_interval,
                calls_per_minute,
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// A throttle that never waits.
    pub fn unlimited() -> Throttle {
        Throttle::new(&ThrottleSettings::unlimited())
    }

    /// Waits until one more call is allowed and records it as started.
    pub async fn acquire(&self) {
        let mut state = self.inner.state.lock().await;
        let now = Instant::now();
        let mut ready_at = now;
        if let Some(last) = state.last {
            ready_at = ready_at.max(last + self.inner.min_interval);
        }
        if let Some(limit) = self.inner.calls_per_minute {
            while state.recent.front().is_some_and(|t| *t + WINDOW <= now) {
                state.recent.pop_front();
            }
            // The call `limit` places back must have left the window before this one starts.
            if let Some(oldest) = state
                .recent
                .len()
                .checked_sub(limit)
                .and_then(|i| state.recent.get(i))
            {
                ready_at = ready_at.max(*oldest + WINDOW);
            }
        }
        if ready_at > now {
            tracing::debug!(wait_ms = (ready_at - now).as_millis(), "throttled");
            sleep_until(ready_at).await;
        }
        let started = Instant::now();
        state.last = Some(started);
        if let Some(limit) = self.inner.calls_per_minute {
            state.recent.push_back(started);
            while state.recent.len() > limit {
                state.recent.pop_front();
            }
        }
    }
}
