//! Research runs, their results and events as the runner and the API see them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use stockpilot_domain::analysis::{AnalystSignal, Decision, PriceLevels};
use stockpilot_domain::market::Symbol;

use crate::RunId;

stockpilot_domain::code_enum! {
    /// Where a research run is.
    pub enum RunStatus as "run status" {
        /// Waiting for a worker.
        Queued = "queued",
        /// A worker is on it.
        Running = "running",
        /// Every analyst and decision is done.
        Succeeded = "succeeded",
        /// Ended by an error; `error` says which.
        Failed = "failed",
        /// Cancelled on request.
        Cancelled = "cancelled",
        /// Its process stopped and `research.on_interrupted = "mark"`: not resumed.
        Interrupted = "interrupted",
    }
}

impl RunStatus {
    /// Whether the run has ended (its results are then immutable).
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Queued | Self::Running)
    }
}

impl From<RunStatus> for crate::ports::JobState {
    fn from(status: RunStatus) -> Self {
        match status {
            RunStatus::Queued => Self::Queued,
            RunStatus::Running => Self::Running,
            RunStatus::Succeeded => Self::Succeeded,
            RunStatus::Failed => Self::Failed,
            RunStatus::Cancelled => Self::Cancelled,
            RunStatus::Interrupted => Self::Interrupted,
        }
    }
}

/// What a caller asked for, after validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunRequest {
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub symbols: Vec<Symbol>,
    /// Analyst names, in catalogue order.
    pub analysts: Vec<String>,
    /// The date the analysis is as of (resolved at submission when not given).
    pub as_of: NaiveDate,
    /// Whether `as_of` was given by the caller or resolved to the newest stored bar.
    pub as_of_given: bool,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub llm_provider: Option<String>,
    pub debate_rounds: u8,
    /// Token budget of the run's LLM calls.
    pub max_tokens: u64,
}

/// A run to create (the store gives it a time-ordered id).
#[derive(Debug, Clone, PartialEq)]
pub struct NewRun {
    pub request: RunRequest,
}

/// A stored run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Run {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: RunId,
    pub status: RunStatus,
    pub request: RunRequest,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub error: Option<String>,
    pub cancel_requested: bool,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub claimed_by: Option<String>,
    /// How many times a worker started it (above 1 after a resume).
    pub attempts: u32,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cost_usd: f64,
    pub created_at: DateTime<Utc>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub started_at: Option<DateTime<Utc>>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub finished_at: Option<DateTime<Utc>>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub heartbeat_at: Option<DateTime<Utc>>,
}

impl Run {
    pub fn tokens(&self) -> u64 {
        self.prompt_tokens + self.completion_tokens
    }
}

/// Filters of the run list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunFilter {
    pub status: Option<RunStatus>,
    pub symbol: Option<Symbol>,
    /// Created on or after the start of this day (UTC).
    pub since: Option<NaiveDate>,
    /// Created on or before the end of this day (UTC).
    pub until: Option<NaiveDate>,
}

stockpilot_domain::code_enum! {
    /// How an analyst's task ended.
    pub enum ResultStatus as "result status" {
        /// It formed a view (which may be `insufficient_data`).
        Succeeded = "succeeded",
        /// It errored; `reason` says why. Nothing replaces its view.
        Failed = "failed",
        /// It was not run; `reason` says why (no LLM configured, token budget reached).
        Skipped = "skipped",
    }
}

/// LLM usage of a task, a decision or a whole run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Usage {
    pub llm_calls: u32,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cost_usd: f64,
}

impl Usage {
    pub fn add(&mut self, other: &Usage) {
        self.llm_calls += other.llm_calls;
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        self.cost_usd += other.cost_usd;
    }

    pub fn tokens(&self) -> u64 {
        self.prompt_tokens + self.completion_tokens
    }
}

/// One analyst's result for one symbol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnalystResult {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub symbol: Symbol,
    pub analyst: String,
    pub status: ResultStatus,
    /// The view, for `succeeded`.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub signal: Option<AnalystSignal>,
    /// Why it failed or was skipped.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub reason: Option<String>,
    pub usage: Usage,
    pub duration_ms: u64,
    pub finished_at: DateTime<Utc>,
}

/// The portfolio manager's decision on one symbol, as stored and served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DecisionRecord {
    #[serde(flatten)]
    pub decision: Decision,
    /// Target and stop for buy/sell.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub levels: Option<PriceLevels>,
    /// How long the view is meant to hold.
    pub time_horizon: String,
    /// The deterministic vote's own explanation (also when an LLM wrote `reasoning`).
    pub vote_reasoning: String,
    /// `llm` when an LLM wrote `reasoning`, else `deterministic`.
    pub rationale_by: String,
    /// The position limit the risk analyst set (fraction of the portfolio).
    #[cfg_attr(feature = "openapi", schema(required))]
    pub max_position_pct: Option<f64>,
    pub usage: Usage,
    pub decided_at: DateTime<Utc>,
}

/// One stored event of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunEvent {
    /// 1, 2, … within the run; the SSE event id.
    pub seq: i64,
    pub kind: String,
    pub data: serde_json::Value,
    pub at: DateTime<Utc>,
}

/// Event kinds, as stored and streamed.
pub mod events {
    pub const RUN_STARTED: &str = "run_started";
    pub const ANALYST_STARTED: &str = "analyst_started";
    pub const ANALYST_FINISHED: &str = "analyst_finished";
    pub const ANALYST_FAILED: &str = "analyst_failed";
    pub const DECISION: &str = "decision";
    pub const RUN_FINISHED: &str = "run_finished";
    pub const RUN_FAILED: &str = "run_failed";
    pub const RUN_CANCELLED: &str = "run_cancelled";
}
