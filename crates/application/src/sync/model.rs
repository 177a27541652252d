//! Sync jobs and the failure ledger as the engine and the API see them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use stockpilot_domain::market::{Market, Symbol};

use crate::JobId;
use crate::ports::Dataset;

stockpilot_domain::code_enum! {
    /// What a job fetches.
    pub enum JobKind as "job kind" {
        /// The instrument list of a market.
        Instruments = "instruments",
        /// An exchange's trading calendar.
        Calendar = "calendar",
        /// Daily bars over a date range.
        DailyHistory = "daily_history",
        /// Daily bars after the newest stored one (at most `limit_days` per symbol).
        DailyIncremental = "daily_incremental",
        /// Adjustment factors for corporate actions.
        AdjustmentFactors = "adjustment_factors",
        /// Daily valuation metrics.
        Valuations = "valuations",
        /// Financial statements and indicators over a date range.
        FinancialsHistory = "financials_history",
        /// Financial statements and indicators newer than the stored ones.
        FinancialsIncremental = "financials_incremental",
        /// News articles.
        News = "news",
        /// Insider trades.
        InsiderTrades = "insider_trades",
        /// The failure ledger's due entries, fetched again.
        RetryFailures = "retry_failures",
    }
}

impl JobKind {
    /// Whether the job walks a list of symbols.
    pub fn per_symbol(self) -> bool {
        !matches!(
            self,
            Self::Instruments | Self::Calendar | Self::RetryFailures
        )
    }

    /// The dataset a per-symbol job writes (financial jobs write statements and indicators).
    pub fn dataset(self) -> Dataset {
        match self {
            Self::Instruments => Dataset::Instruments,
            Self::Calendar => Dataset::Calendar,
            Self::DailyHistory | Self::DailyIncremental => Dataset::DailyBars,
            Self::AdjustmentFactors => Dataset::AdjustmentFactors,
            Self::Valuations => Dataset::Valuations,
            Self::News => Dataset::News,
            Self::InsiderTrades => Dataset::InsiderTrades,
            Self::FinancialsHistory | Self::FinancialsIncremental | Self::RetryFailures => {
                Dataset::Financials
            }
        }
    }
}

stockpilot_domain::code_enum! {
    /// Where a sync job is.
    pub enum JobStatus as "job status" {
        /// Waiting for a worker.
        Queued = "queued",
        /// A worker is on it.
        Running = "running",
        /// Stopped by a provider's daily quota; resumes from its cursor after `resume_after`.
        Paused = "paused",
        /// Done.
        Succeeded = "succeeded",
        /// Ended by an error; `message` says which.
        Failed = "failed",
        /// Cancelled on request.
        Cancelled = "cancelled",
    }
}

impl JobStatus {
    pub fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }
}

impl From<JobStatus> for crate::ports::JobState {
    fn from(status: JobStatus) -> Self {
        match status {
            JobStatus::Queued => Self::Queued,
            JobStatus::Running => Self::Running,
            JobStatus::Paused => Self::Paused,
            JobStatus::Succeeded => Self::Succeeded,
            JobStatus::Failed => Self::Failed,
            JobStatus::Cancelled => Self::Cancelled,
        }
    }
}

/// One ledger entry to retry: the same fetch the failed job made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RetryTarget {
    pub dataset: Dataset,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub symbol: Symbol,
    /// The kind of the job that failed, so a history failure is retried as history.
    pub kind: JobKind,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub start: Option<NaiveDate>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub end: Option<NaiveDate>,
}

/// What a job works on, fixed when it is created so a resumed job walks the same list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobParams {
    pub market: Market,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required, value_type = Vec<String>))]
    pub symbols: Vec<Symbol>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub start: Option<NaiveDate>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub end: Option<NaiveDate>,
    pub batch_size: u32,
    /// Daily incremental: at most this many trading days per symbol per run.
    pub limit_days: u32,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub retry: Vec<RetryTarget>,
}

/// A job to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub kind: JobKind,
    pub provider: String,
    pub params: JobParams,
    /// Units of work (symbols, exchanges, ledger entries).
    pub total: u32,
    pub schedule_name: Option<String>,
}

/// A sync job: status, progress (`cursor` of `total`), counts and message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncJob {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: JobId,
    pub kind: JobKind,
    pub provider: String,
    pub status: JobStatus,
    pub params: JobParams,
    /// Units committed so far; a resumed job starts here.
    pub cursor: u32,
    pub total: u32,
    pub rows_written: u64,
    pub symbols_failed: u32,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub message: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub schedule_name: Option<String>,
    pub cancel_requested: bool,
    /// A paused job resumes after this time.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub resume_after: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub started_at: Option<DateTime<Utc>>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub finished_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

stockpilot_domain::code_enum! {
    /// Where a failure ledger entry is.
    pub enum FailureStatus as "failure status" {
        /// Will be retried after `next_retry_at`.
        Pending = "pending",
        /// Retried the maximum number of times; kept with the reason.
        Permanent = "permanent",
    }
}

/// One (provider, dataset, symbol) that failed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncFailure {
    pub provider: String,
    pub dataset: Dataset,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub symbol: Symbol,
    pub error_kind: String,
    pub error: String,
    pub attempts: u32,
    pub status: FailureStatus,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub next_retry_at: Option<DateTime<Utc>>,
    #[cfg_attr(feature = "openapi", schema(required, value_type = Option<String>))]
    pub last_job_id: Option<JobId>,
    pub first_failed_at: DateTime<Utc>,
    pub last_failed_at: DateTime<Utc>,
}

/// A failure to record (attempts are counted by the store).
#[derive(Debug, Clone, PartialEq)]
pub struct FailureUpdate {
    pub dataset: Dataset,
    pub symbol: Symbol,
    pub error_kind: &'static str,
    pub error: String,
    /// The next retry is due `retry_backoff × 2^(attempts − 1)` after now (at most a day),
    /// where `attempts` counts this failure too.
    pub retry_backoff: std::time::Duration,
    /// At this many attempts the entry becomes permanent.
    pub max_attempts: u32,
}

/// What one committed batch changes on the job, together with its rows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BatchCommit {
    pub cursor: u32,
    pub rows: u64,
    pub failed: u32,
    pub failures: Vec<FailureUpdate>,
    /// Ledger entries that succeeded now and are removed.
    pub resolved: Vec<(Dataset, Symbol)>,
}
