//! How hard the gateway tries: retries, backoff, circuit breaking and answer caching; and the
//! `llm` section that sets it (with the default provider, which the server builds from it).

use std::time::Duration;

stockpilot_application::settings! {
    /// `llm`: the default LLM provider (more are added through the API).
    pub struct LlmConfig {
        /// Name of the default provider.
        name: String = "default".to_owned(),
        /// `openai`, `deepseek`, `qwen`, `ollama`, `vllm`, `openrouter` or `custom` (see
        /// [llm.md](llm.md)).
        preset: Option<String> = None; default_shown = "guessed from the URL", example = "ollama",
        /// OpenAI-compatible server of the default provider, e.g. `http://localhost:11434/v1`.
        base_url: Option<String> = None; env = &["LLM_BASE_URL"], example = "http://localhost:11434/v1",
        /// Model of the default provider.
        model: Option<String> = None; env = &["LLM_MODEL"], default_shown = "the preset's default", example = "qwen2.5:7b",
        /// Key of the default provider (`LLM_API_KEY` wins when both are set); a key alone
        /// means OpenAI.
        api_key: Option<stockpilot_application::settings::Secret> = None; secret = true, env = &["LLM_API_KEY", "OPENAI_API_KEY"],
        /// Whether the server enforces `response_format: json_schema`.
        supports_json_schema: Option<bool> = None; default_shown = "the preset's", example = "true",
        /// Per call (seconds), 1–600.
        timeout_secs: u64 = 60,
        /// Calls in flight to the default provider, 1–256.
        max_concurrent: u32 = 4,
        /// US dollars per 1,000 prompt tokens, for cost accounting.
        price_input_per_1k: f64 = 0.0,
        /// US dollars per 1,000 completion tokens, for cost accounting.
        price_output_per_1k: f64 = 0.0,
        /// Retries of timeouts, 429 and 5xx on one provider before falling back.
        max_retries: u32 = 2; range = (0.0, 10.0),
        /// Consecutive failures that open a provider's circuit.
        breaker_failures: u32 = 5; range = (1.0, 1000.0),
        /// Time an open circuit waits before one trial call (seconds).
        breaker_cooldown_secs: u64 = 30; range = (1.0, 3600.0),
        /// Identical-request cache lifetime (seconds; 0 = off).
        cache_ttl_secs: u64 = 0,
    }
}

impl GatewaySettings {
    /// The policy `config` declares (backoffs and the jitter seed are the gateway's own).
    pub fn configured(config: &LlmConfig) -> Self {
        Self {
            max_retries: config.max_retries,
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            breaker_failures: config.breaker_failures,
            breaker_cooldown: Duration::from_secs(config.breaker_cooldown_secs),
            cache_ttl: (config.cache_ttl_secs > 0)
                .then(|| Duration::from_secs(config.cache_ttl_secs)),
            jitter_seed: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64),
        }
    }
}

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
        Self::configured(&LlmConfig::default())
    }
}
