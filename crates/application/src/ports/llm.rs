//! The LLM platform's ports: a gateway to OpenAI-compatible servers, where usage is recorded,
//! where provider configurations live, how their keys are sealed, and web search.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::market_store::StoreError;

stockpilot_domain::code_enum! {
    /// Who says a chat message.
    pub enum ChatRole as "chat role" {
        /// Instructions for the model.
        System = "system",
        /// The asker.
        User = "user",
        /// The model.
        Assistant = "assistant",
    }
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChatMessage {
    pub role: ChatRole,
    /// Must not be blank.
    pub content: String,
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: ChatRole::System,
            content: content.into(),
        }
    }
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: ChatRole::User,
            content: content.into(),
        }
    }
}

/// The JSON an answer must be: sent as `response_format: json_schema` to providers that
/// enforce schemas, and as `json_object` plus the schema and example in the prompt to the rest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutputSchema {
    /// Schema name (`[a-zA-Z0-9_-]`, as OpenAI requires).
    pub name: String,
    pub schema: serde_json::Value,
    /// A valid example answer, shown to providers without schema support.
    pub example: serde_json::Value,
}

/// One completion to run.
#[derive(Debug, Clone, PartialEq)]
pub struct CompletionRequest {
    pub messages: Vec<ChatMessage>,
    /// A provider by name; `None` = the highest-priority healthy one, falling back in order.
    pub provider: Option<String>,
    /// Overrides the provider's model.
    pub model: Option<String>,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    pub schema: Option<OutputSchema>,
    /// What the call is for (`chat`, `analyst:value_investor`, `run:<id>`), for usage reports.
    pub purpose: String,
}

/// Tokens of one completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenUsage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// A provider's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Completion {
    /// The answer text (for structured requests: still raw; see `llm::parse_structured`).
    pub content: String,
    pub provider: String,
    pub model: String,
    pub usage: TokenUsage,
    pub latency: Duration,
    pub finish_reason: Option<String>,
    /// Estimated cost in US dollars from the provider's configured prices.
    pub cost_usd: f64,
    /// Served from the identical-request cache (no provider call, no cost).
    pub cached: bool,
}

/// Why a completion failed. Messages never contain API keys.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    /// No provider is configured or enabled.
    #[error(
        "no LLM provider is configured; set LLM_BASE_URL and LLM_MODEL (and OPENAI_API_KEY or LLM_API_KEY), or add one with POST /api/v1/llm/providers"
    )]
    NoProvider,
    #[error("LLM provider '{0}' does not exist")]
    UnknownProvider(String),
    /// The named provider is disabled or its circuit is open.
    #[error("LLM provider '{provider}' is unavailable: {reason}")]
    Unavailable { provider: String, reason: String },
    /// Every provider tried failed; each attempt in order.
    #[error("every LLM provider failed: {}", attempts.iter().map(|(p, e)| format!("{p}: {e}")).collect::<Vec<_>>().join("; "))]
    AllFailed { attempts: Vec<(String, String)> },
    /// The answer was not the JSON asked for, twice. `sample` is truncated.
    #[error("LLM provider '{provider}' returned invalid output: {reason}")]
    OutputInvalid {
        provider: String,
        reason: String,
        sample: String,
    },
}

/// Sends completions to OpenAI-compatible servers: per-provider capabilities, retries with
/// backoff on timeouts/429/5xx, a circuit breaker per provider, fallback along the priority
/// order, per-provider concurrency limits, usage and cost recorded for every call.
#[async_trait::async_trait]
pub trait LlmGateway: Send + Sync {
    /// # Errors
    /// [`LlmError`]; never a made-up answer.
    async fn complete(&self, request: CompletionRequest) -> Result<Completion, LlmError>;

    /// Providers as the gateway sees them now (availability, circuit state).
    fn status(&self) -> Vec<ProviderStatus>;

    /// Replaces the provider set (after an API change; takes effect for the next call).
    fn reload(&self, providers: Vec<ProviderConfig>);
}

stockpilot_domain::code_enum! {
    /// State of one provider's circuit breaker.
    pub enum CircuitState as "circuit state" {
        /// Calls go through.
        Closed = "closed",
        /// Calls fail fast until the cool-down ends.
        Open = "open",
        /// One trial call decides whether it closes again.
        HalfOpen = "half_open",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderStatus {
    pub name: String,
    pub enabled: bool,
    pub circuit: CircuitState,
    pub in_flight: u32,
}

/// A named provider configuration, as the gateway uses it (key in clear, in memory only).
#[derive(Clone, PartialEq)]
pub struct ProviderConfig {
    pub name: String,
    /// `openai`, `deepseek`, `qwen`, `ollama`, `vllm`, `openrouter` or `custom`.
    pub preset: String,
    pub base_url: String,
    pub model: String,
    pub api_key: Option<String>,
    pub organization: Option<String>,
    pub supports_json_schema: bool,
    pub max_context_tokens: u32,
    pub max_output_tokens: u32,
    pub timeout: Duration,
    pub max_concurrent: u32,
    /// Lower is tried first.
    pub priority: i32,
    pub enabled: bool,
    pub price_input_per_1k: f64,
    pub price_output_per_1k: f64,
    /// `config` (from settings, read-only over the API) or `database`.
    pub source: String,
}

impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("name", &self.name)
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

/// One recorded call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageRecord {
    pub at: DateTime<Utc>,
    pub provider: String,
    pub model: String,
    pub purpose: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub latency_ms: u64,
    pub outcome: CallOutcome,
    pub cost_usd: f64,
}

stockpilot_domain::code_enum! {
    /// How one attempt of an LLM call ended (the `outcome` of usage rows and of
    /// `stockpilot_llm_calls_total`).
    pub enum CallOutcome as "call outcome" {
        /// The provider answered.
        Ok = "ok",
        /// The provider failed (transport, status, timeout); an unusable answer is `ok` here
        /// and is retried or refused by the caller.
        Error = "error",
        /// Served from the answer cache; no tokens, no cost.
        Cached = "cached",
    }
}

stockpilot_domain::code_enum! {
    /// How usage is grouped.
    pub enum UsageGroup as "usage grouping" {
        /// By provider.
        Provider = "provider",
        /// By model.
        Model = "model",
        /// By day (UTC).
        Day = "day",
        /// By what the calls were for (chat, a research run, …).
        Purpose = "purpose",
    }
}

/// Totals of one group of LLM calls.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsageSummary {
    /// The provider, model, day (YYYY-MM-DD) or purpose.
    pub key: String,
    pub calls: u64,
    pub errors: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cost_usd: f64,
}

impl UsageSummary {
    /// No calls under `key`.
    pub fn empty(key: impl Into<String>) -> UsageSummary {
        UsageSummary {
            key: key.into(),
            calls: 0,
            errors: 0,
            prompt_tokens: 0,
            completion_tokens: 0,
            cost_usd: 0.0,
        }
    }
}

#[async_trait::async_trait]
pub trait LlmUsageStore: Send + Sync {
    /// # Errors
    /// [`StoreError`].
    async fn record(&self, usage: &UsageRecord) -> Result<(), StoreError>;

    /// Totals per group between `from` and `to` (inclusive days).
    ///
    /// # Errors
    /// [`StoreError`].
    async fn summary(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        group: UsageGroup,
    ) -> Result<Vec<UsageSummary>, StoreError>;

    /// Totals of every record whose `purpose` starts with `prefix` (all of a research run's
    /// calls share `run:<id> `), failed and cached calls included; `key` is the prefix.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn purpose_totals(&self, prefix: &str) -> Result<UsageSummary, StoreError>;
}

/// A stored provider: its key only sealed.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredProvider {
    pub config: ProviderConfig,
    /// The sealed key (`SecretBox::seal`), never the key itself.
    pub sealed_key: Option<Vec<u8>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[async_trait::async_trait]
pub trait LlmProviderStore: Send + Sync {
    /// # Errors
    /// [`StoreError`].
    async fn list(&self) -> Result<Vec<StoredProvider>, StoreError>;
    /// # Errors
    /// [`StoreError`].
    async fn get(&self, name: &str) -> Result<Option<StoredProvider>, StoreError>;
    /// Inserts or replaces by name.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn save(&self, provider: &StoredProvider) -> Result<(), StoreError>;
    /// Returns whether it existed.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn delete(&self, name: &str) -> Result<bool, StoreError>;
}

/// Encrypts secrets at rest (AES-256-GCM with the configured encryption key).
pub trait SecretBox: Send + Sync {
    /// # Errors
    /// A message when sealing is impossible.
    fn seal(&self, plaintext: &str) -> Result<Vec<u8>, String>;
    /// # Errors
    /// A message when the data was not sealed with this key or is corrupt.
    fn open(&self, sealed: &[u8]) -> Result<String, String>;
}

/// Web search freshness, as Bocha names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Freshness {
    OneDay,
    OneWeek,
    OneMonth,
    OneYear,
    NoLimit,
    /// `YYYY-MM-DD..YYYY-MM-DD`.
    #[serde(untagged)]
    Range(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchQuery {
    pub query: String,
    pub freshness: Freshness,
    /// 1–50.
    pub count: u8,
    pub summary: bool,
}

/// One web search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchResult {
    pub title: String,
    pub url: String,
    pub snippet: String,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub summary: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub site_name: Option<String>,
    /// As the search provider reports it (usually RFC 3339).
    #[cfg_attr(feature = "openapi", schema(required))]
    pub published_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SearchError {
    #[error("web search is not configured; set BOCHA_API_KEY")]
    NotConfigured,
    #[error("web search rejected the API key (check BOCHA_API_KEY)")]
    BadKey,
    #[error("web search account is out of balance")]
    OutOfBalance,
    #[error("web search is rate limited; retry later")]
    RateLimited,
    #[error("web search request invalid: {0}")]
    BadRequest(String),
    #[error("web search unavailable: {0}")]
    Unavailable(String),
}

#[async_trait::async_trait]
pub trait WebSearch: Send + Sync {
    /// Results for `query`, cached by (query, freshness, count, summary) for a TTL.
    ///
    /// # Errors
    /// [`SearchError`].
    async fn search(&self, query: &SearchQuery) -> Result<Vec<SearchResult>, SearchError>;
}
