//! The services stockpilot calls: local market data files, the default LLM provider and web
//! search. (The HTTP market data providers and web search declare their sections in their
//! adapter crates.)

use std::path::PathBuf;

use stockpilot_application::settings;

use super::values::Secret;

settings! {
    /// `providers.csv`: local files.
    pub struct CsvSettings {
        /// A directory of `*.csv` / `*.csv.gz` files served as the `csv` provider (column
        /// mapping in [data.md](data.md)).
        dir: Option<PathBuf> = None; default_shown = "unset (the demo dataset when present)", example = "/srv/market-data",
    }
}

settings! {
    /// `llm`: the default LLM provider (more are added through the API).
    pub struct LlmSettings {
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
        api_key: Option<Secret> = None; secret = true, env = &["LLM_API_KEY", "OPENAI_API_KEY"],
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
