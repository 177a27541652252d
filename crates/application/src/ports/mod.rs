//! Ports: what use cases need from adapters. Each is an `#[async_trait]` trait used as
//! `Arc<dyn Port>`; no driver type crosses one.

mod auth;
mod cache;
mod clock;
mod job_queue;
mod llm;
mod market_data;
mod market_store;
mod rate_limit;
mod readiness;
mod research_store;
mod sync_store;

pub use auth::{ApiKeyStore, AuditLog};
pub use cache::{Cache, CacheError};
pub use clock::{Clock, FixedClock, SystemClock};
pub use job_queue::{CancelOutcome, JobQueue, JobState, QueuedJob};
pub use llm::{
    CallOutcome, ChatMessage, ChatRole, CircuitState, Completion, CompletionRequest, Freshness,
    LlmError, LlmGateway, LlmProviderStore, LlmUsageStore, OutputSchema, ProviderConfig,
    ProviderStatus, SearchError, SearchQuery, SearchResult, SecretBox, StoredProvider, TokenUsage,
    UsageGroup, UsageRecord, UsageSummary, WebSearch,
};
pub use market_data::{Dataset, MarketDataSource, SourceError};
pub use market_store::{
    BarText, DataBatch, DatabaseUnavailable, InstrumentRecord, MarketDataStore, Page, Sourced,
    StoreError, is_database_unavailable,
};
pub use rate_limit::{RateDecision, RateLimitStore, sliding_window};
pub use readiness::{DependencyProbe, ProbeFailure};
pub use research_store::{EventDraft, ResearchStore};
pub use sync_store::SyncJobStore;
