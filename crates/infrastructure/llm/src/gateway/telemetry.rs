//! What the gateway reports about itself: Prometheus metrics through the `metrics` facade
//! and one `UsageRecord` per call attempt.
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `stockpilot_llm_calls_total` | counter | `provider`, `model`, `outcome` (`ok`, `error`, `cached`) |
//! | `stockpilot_llm_tokens_total` | counter | `provider`, `model`, `kind` (`prompt`, `completion`) |
//! | `stockpilot_llm_request_duration_seconds` | histogram | `provider`, `model` |
//! | `stockpilot_llm_provider_available` | gauge | `provider` (1 enabled and not open, else 0) |
//! | `stockpilot_llm_circuit_state` | gauge | `provider` (0 closed, 1 half-open, 2 open) |
//! | `stockpilot_llm_cost_total` | gauge, only ever increased (US dollars; the `metrics` counters are integers) | `provider`, `model` |

use std::time::Duration;

use stockpilot_application::ports::{
    CallOutcome, CircuitState, LlmUsageStore, TokenUsage, UsageRecord,
};

pub(crate) fn provider_state(provider: &str, enabled: bool, circuit: CircuitState) {
    let available = enabled && circuit != CircuitState::Open;
    let code = match circuit {
        CircuitState::Closed => 0.0,
        CircuitState::HalfOpen => 1.0,
        CircuitState::Open => 2.0,
    };
    let provider = provider.to_owned();
    metrics::gauge!("stockpilot_llm_provider_available", "provider" => provider.clone())
        .set(if available { 1.0 } else { 0.0 });
    metrics::gauge!("stockpilot_llm_circuit_state", "provider" => provider).set(code);
}

/// Registers a provider's call, token and latency series at zero (for every outcome and
/// token kind), so `rate()` and `increase()` work from the first scrape.
pub(crate) fn register(provider: &str, model: &str) {
    let (provider, model) = (provider.to_owned(), model.to_owned());
    for outcome in CallOutcome::ALL {
        metrics::counter!("stockpilot_llm_calls_total",
            "provider" => provider.clone(), "model" => model.clone(), "outcome" => outcome.as_str())
        .increment(0);
    }
    for kind in TOKEN_KINDS {
        metrics::counter!("stockpilot_llm_tokens_total",
            "provider" => provider.clone(), "model" => model.clone(), "kind" => kind)
        .increment(0);
    }
    let _ = metrics::histogram!("stockpilot_llm_request_duration_seconds",
        "provider" => provider.clone(), "model" => model.clone());
    metrics::gauge!("stockpilot_llm_cost_total", "provider" => provider, "model" => model)
        .increment(0.0);
}

/// The `kind` label values of `stockpilot_llm_tokens_total`.
const TOKEN_KINDS: [&str; 2] = ["prompt", "completion"];

/// A provider left the configuration: it is no longer available.
pub(crate) fn provider_removed(provider: &str) {
    metrics::gauge!("stockpilot_llm_provider_available", "provider" => provider.to_owned())
        .set(0.0);
}

/// One attempt (or cache hit) of one call.
pub(crate) struct Attempt<'a> {
    pub provider: &'a str,
    pub model: &'a str,
    pub purpose: &'a str,
    pub usage: TokenUsage,
    pub latency: Duration,
    pub outcome: CallOutcome,
    pub cost_usd: f64,
}

impl Attempt<'_> {
    pub(crate) fn emit_metrics(&self) {
        let (provider, model) = (self.provider.to_owned(), self.model.to_owned());
        metrics::counter!("stockpilot_llm_calls_total",
            "provider" => provider.clone(), "model" => model.clone(), "outcome" => self.outcome.as_str())
        .increment(1);
        if self.outcome == CallOutcome::Cached {
            return;
        }
        metrics::histogram!("stockpilot_llm_request_duration_seconds",
            "provider" => provider.clone(), "model" => model.clone())
        .record(self.latency.as_secs_f64());
        metrics::gauge!("stockpilot_llm_cost_total",
            "provider" => provider.clone(), "model" => model.clone())
        .increment(self.cost_usd);
        for (kind, tokens) in TOKEN_KINDS
            .into_iter()
            .zip([self.usage.prompt_tokens, self.usage.completion_tokens])
        {
            if tokens > 0 {
                metrics::counter!("stockpilot_llm_tokens_total",
                    "provider" => provider.clone(), "model" => model.clone(), "kind" => kind)
                .increment(tokens);
            }
        }
    }

    /// Records the attempt; a failing usage store is logged, never allowed to fail the call.
    pub(crate) async fn record(&self, store: &dyn LlmUsageStore) {
        self.emit_metrics();
        let row = UsageRecord {
            at: chrono::Utc::now(),
            provider: self.provider.to_owned(),
            model: self.model.to_owned(),
            purpose: self.purpose.to_owned(),
            prompt_tokens: self.usage.prompt_tokens,
            completion_tokens: self.usage.completion_tokens,
            latency_ms: u64::try_from(self.latency.as_millis()).unwrap_or(u64::MAX),
            outcome: self.outcome,
            cost_usd: self.cost_usd,
        };
        if let Err(e) = store.record(&row).await {
            tracing::warn!(provider = %self.provider, error = %e, "could not record LLM usage");
        }
    }
}
