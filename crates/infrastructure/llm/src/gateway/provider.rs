//! One configured provider at run time: its configuration, breaker, concurrency slots and
//! in-flight count, and one HTTP exchange with its server.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::Value;
use stockpilot_application::ports::{CompletionRequest, ProviderConfig, TokenUsage};
use tokio::sync::Semaphore;

use super::breaker::Breaker;
use super::call_error::CallError;
use super::wire::{self, Answer};
use crate::redact::scrub;

/// Used when a configuration carries a zero timeout (which would fail every call).
const FALLBACK_TIMEOUT: Duration = Duration::from_secs(60);

pub(crate) struct Provider {
    pub config: ProviderConfig,
    pub breaker: Arc<Breaker>,
    pub slots: Arc<Semaphore>,
    pub in_flight: Arc<AtomicU32>,
    http: reqwest::Client,
    endpoint: String,
}

/// Counts a call as in flight for as long as it lives.
struct InFlight<'a>(&'a AtomicU32);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Provider {
    pub(crate) fn new(
        config: ProviderConfig,
        breaker: Arc<Breaker>,
        slots: Arc<Semaphore>,
        in_flight: Arc<AtomicU32>,
        http: reqwest::Client,
    ) -> Self {
        let endpoint = format!("{}/chat/completions", config.base_url.trim_end_matches('/'));
        Self {
            config,
            breaker,
            slots,
            in_flight,
            http,
            endpoint,
        }
    }

    /// Concurrency slots for a configuration (0 is read as 1: a provider cannot be unlimited).
    pub(crate) fn slot_count(config: &ProviderConfig) -> usize {
        usize::try_from(config.max_concurrent.max(1)).unwrap_or(1)
    }

    pub(crate) fn name(&self) -> &str {
        &self.config.name
    }

    pub(crate) fn model_for(&self, request: &CompletionRequest) -> String {
        request
            .model
            .clone()
            .filter(|m| !m.trim().is_empty())
            .unwrap_or_else(|| self.config.model.clone())
    }

    pub(crate) fn cost(&self, usage: TokenUsage) -> f64 {
        usage.prompt_tokens as f64 / 1000.0 * self.config.price_input_per_1k
            + usage.completion_tokens as f64 / 1000.0 * self.config.price_output_per_1k
    }

    fn timeout(&self) -> Duration {
        if self.config.timeout.is_zero() {
            FALLBACK_TIMEOUT
        } else {
            self.config.timeout
        }
    }

    fn key(&self) -> Option<&str> {
        self.config
            .api_key
            .as_deref()
            .filter(|k| !k.trim().is_empty())
    }

    /// One attempt: wait for a slot (at most the timeout), then one request within the timeout.
    /// An empty answer is an error here; the caller decides whether to retry.
    pub(crate) async fn send(&self, body: &Value) -> Result<Answer, CallError> {
        let timeout = self.timeout();
        let busy = CallError::Busy {
            max_concurrent: self.config.max_concurrent.max(1),
        };
        let _permit =
            match tokio::time::timeout(timeout, Arc::clone(&self.slots).acquire_owned()).await {
                Ok(Ok(permit)) => permit,
                Ok(Err(_)) | Err(_) => return Err(busy),
            };
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        let _in_flight = InFlight(&self.in_flight);
        let answer = tokio::time::timeout(timeout, self.exchange(body))
            .await
            .map_err(|_| CallError::Timeout(timeout))??;
        if answer.content.trim().is_empty() {
            return Err(CallError::Empty {
                finish_reason: answer.finish_reason,
                usage: answer.usage,
            });
        }
        Ok(answer)
    }

    async fn exchange(&self, body: &Value) -> Result<Answer, CallError> {
        let mut request = self.http.post(&self.endpoint).json(body);
        if let Some(key) = self.key() {
            request = request.bearer_auth(key);
        }
        if let Some(org) = self
            .config
            .organization
            .as_deref()
            .filter(|o| !o.is_empty())
        {
            request = request.header("OpenAI-Organization", org);
        }
        let response = request.send().await.map_err(|e| self.transport(&e))?;
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let bytes = response.bytes().await.map_err(|e| self.transport(&e))?;
        if !status.is_success() {
            let mut message = scrub(&wire::error_message(&bytes), self.key());
            if message.is_empty() {
                message = status.canonical_reason().unwrap_or("no details").to_owned();
            }
            return Err(CallError::from_status(
                status.as_u16(),
                message,
                retry_after,
            ));
        }
        wire::parse_answer(&bytes).map_err(|m| CallError::Malformed(scrub(&m, self.key())))
    }

    fn transport(&self, error: &reqwest::Error) -> CallError {
        if error.is_timeout() {
            return CallError::Timeout(self.timeout());
        }
        let mut text = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        CallError::Connect(scrub(&text, self.key()))
    }
}

/// `retry-after-ms` (OpenAI) or `Retry-After` in seconds; HTTP dates are ignored.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let read = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v >= 0.0)
    };
    read("retry-after-ms")
        .and_then(|ms| Duration::try_from_secs_f64(ms / 1000.0).ok())
        .or_else(|| read("retry-after").and_then(|s| Duration::try_from_secs_f64(s).ok()))
}
