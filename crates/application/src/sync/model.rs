//! Sync jobs and the failure ledger as the engine and the API see them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use stockpilot_domain::market::{Market, Symbol};

use crate::ports::Dataset;

/// What a job fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    Instruments,
    Calendar,
    DailyHistory,
    DailyIncremental,
    AdjustmentFactors,
    Valuations,
    FinancialsHistory,
    FinancialsIncremental,
    News,
    InsiderTrades,
    RetryFailures,
}

impl JobKind {
    pub const ALL: [JobKind; 11] = [
        Self::Instruments,
        Self::Calendar,
        Self::DailyHistory,
        Self::DailyIncremental,
        Self::AdjustmentFactors,
        Self::Valuations,
        Self::FinancialsHistory,
        Self::FinancialsIncremental,
        Self::News,
        Self::InsiderTrades,
        Self::RetryFailures,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Instruments => "instruments",
            Self::Calendar => "calendar",
            Self::DailyHistory => "daily_history",
            Self::DailyIncremental => "daily_incremental",
            Self::AdjustmentFactors => "adjustment_factors",
            Self::Valuations => "valuations",
            Self::FinancialsHistory => "financials_history",
            Self::FinancialsIncremental => "financials_incremental",
            Self::News => "news",
            Self::InsiderTrades => "insider_trades",
            Self::RetryFailures => "retry_failures",
        }
    }

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

impl std::str::FromStr for JobKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let allowed: Vec<&str> = Self::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown job kind '{s}'; allowed: {}", allowed.join(", "))
            })
    }
}

/// Where a sync job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    /// Stopped by a provider's daily quota; resumes from its cursor after `resume_after`.
    Paused,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobStatus {
    pub const ALL: [JobStatus; 6] = [
        Self::Queued,
        Self::Running,
        Self::Paused,
        Self::Succeeded,
        Self::Failed,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }
}

impl std::str::FromStr for JobStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let allowed: Vec<&str> = Self::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown job status '{s}'; allowed: {}", allowed.join(", "))
            })
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
    pub id: String,
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

/// Where a failure ledger entry is: `pending` (retried after `next_retry_at`) or `permanent`
/// (gave up).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FailureStatus {
    /// Will be retried after `next_retry_at`.
    Pending,
    /// Retried the maximum number of times; kept with the reason.
    Permanent,
}

impl FailureStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Permanent => "permanent",
        }
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
    #[cfg_attr(feature = "openapi", schema(required))]
    pub last_job_id: Option<String>,
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
