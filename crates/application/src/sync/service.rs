//! Submitting and inspecting sync jobs.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use stockpilot_domain::market::{DateRange, Market, Symbol};

use super::model::{
    FailureStatus, JobKind, JobParams, JobStatus, NewJob, RetryTarget, SyncFailure, SyncJob,
};
use super::sources::Sources;
use crate::ports::{Clock, MarketDataStore, Page, SyncJobStore};
use crate::{AppError, JobId};

/// Engine settings from configuration.
#[derive(Debug, Clone)]
pub struct SyncSettings {
    /// Symbols fetched and committed together.
    pub batch_size: u32,
    /// Attempts after which a ledger entry is permanent.
    pub max_attempts: u32,
    /// Delay before the first retry of a failure; doubles with every attempt.
    pub retry_backoff: Duration,
    /// Daily incremental: at most this many trading days per symbol per run.
    pub incremental_limit_days: u32,
    /// Where history starts when a request names no start.
    pub history_start: NaiveDate,
    /// A running job whose worker has not beaten for this long is requeued.
    pub stale_after: Duration,
    /// How often an idle worker looks for work.
    pub poll_interval: Duration,
}

crate::settings! {
    /// `sync`: data sync workers.
    pub struct SyncConfig {
        /// Background sync workers in this instance (0 = this instance only serves the API).
        workers: u32 = 1; range = (0.0, 64.0),
        /// Symbols fetched and committed in one transaction.
        batch_size: u32 = 50; range = (1.0, 1000.0),
        /// Attempts after which a failure-ledger entry is permanent.
        max_attempts: u32 = 5; range = (1.0, 100.0),
        /// First retry delay of a failed symbol (seconds); doubles per attempt, at most a day.
        retry_backoff_secs: u64 = 300,
        /// Daily incremental: at most this many trading days per symbol per run.
        incremental_limit_days: u32 = 30; range = (1.0, 3660.0),
        /// Where history jobs start when the request names no start.
        history_start: NaiveDate = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or_default(),
        /// A running job whose worker has not beaten for this long (seconds) is requeued and
        /// resumes from its cursor.
        stale_after_secs: u64 = 120; range = (10.0, 86_400.0),
        /// How often an idle worker looks for jobs (ms).
        poll_interval_ms: u64 = 2000; range = (10.0, 600_000.0),
    }
}

impl SyncSettings {
    /// The engine's settings as `config` declares them.
    pub fn configured(config: &SyncConfig) -> Self {
        Self {
            batch_size: config.batch_size,
            max_attempts: config.max_attempts,
            retry_backoff: Duration::from_secs(config.retry_backoff_secs),
            incremental_limit_days: config.incremental_limit_days,
            history_start: config.history_start,
            stale_after: Duration::from_secs(config.stale_after_secs),
            poll_interval: Duration::from_millis(config.poll_interval_ms),
        }
    }
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self::configured(&SyncConfig::default())
    }
}

/// A request to sync, as the API and CLI give it (already parsed into domain values).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobRequest {
    pub kind: Option<JobKind>,
    pub market: Option<Market>,
    pub symbols: Vec<Symbol>,
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    pub provider: Option<String>,
    pub batch_size: Option<u32>,
}

pub struct SyncService {
    pub(super) jobs: Arc<dyn SyncJobStore>,
    pub(super) market: Arc<dyn MarketDataStore>,
    pub(super) sources: Sources,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) settings: SyncSettings,
    /// Where cached read responses are invalidated after new rows land.
    pub(super) cache: Option<Arc<dyn crate::ports::Cache>>,
}

impl SyncService {
    pub fn new(
        jobs: Arc<dyn SyncJobStore>,
        market: Arc<dyn MarketDataStore>,
        sources: Sources,
        clock: Arc<dyn Clock>,
        settings: SyncSettings,
    ) -> Self {
        Self {
            jobs,
            market,
            sources,
            clock,
            settings,
            cache: None,
        }
    }

    /// Invalidates cached bar responses of a symbol whenever a batch writes its bars or
    /// adjustment factors.
    pub fn with_cache(mut self, cache: Arc<dyn crate::ports::Cache>) -> Self {
        self.cache = Some(cache);
        self
    }

    pub fn sources(&self) -> &Sources {
        &self.sources
    }

    /// Validates a request and turns it into a job to create: the market, provider and symbol
    /// list are fixed now so a resumed job walks the same list.
    ///
    /// # Errors
    /// `Validation` naming the field, `Conflict` when no provider or no instruments exist.
    pub async fn prepare(
        &self,
        req: &JobRequest,
        schedule: Option<&str>,
    ) -> Result<NewJob, AppError> {
        let kind = req
            .kind
            .ok_or_else(|| AppError::invalid("kind", "is required"))?;
        if let (Some(start), Some(end)) = (req.start, req.end) {
            DateRange::new(start, end, None)
                .map_err(|e| AppError::invalid("start", e.to_string()))?;
        }
        if let (Some(start), None) = (req.start, req.end) {
            // An open end means today; a start after it would silently shrink to one day.
            let today = self.clock.today();
            if start > today {
                return Err(AppError::invalid(
                    "start",
                    format!(
                        "{start} is after the end of the range (end is unset, so today, {today})"
                    ),
                ));
            }
        }
        let batch_size = req.batch_size.unwrap_or(self.settings.batch_size);
        if !(1..=1000).contains(&batch_size) {
            return Err(AppError::invalid(
                "batch_size",
                format!("must be between 1 and 1000, got {batch_size}"),
            ));
        }
        let market = match (req.market, req.symbols.first()) {
            (Some(m), _) => m,
            (None, Some(first)) => first.market(),
            (None, None) => {
                return Err(AppError::invalid(
                    "market",
                    "is required when no symbols are given (CN or US)",
                ));
            }
        };
        if let Some(other) = req.symbols.iter().find(|s| s.market() != market) {
            return Err(AppError::invalid(
                "symbols",
                format!("{other} is not a {market} symbol; one job covers one market"),
            ));
        }
        let source = self.sources.resolve(market, req.provider.as_deref())?;
        if kind != JobKind::RetryFailures && !source.datasets().contains(&kind.dataset()) {
            let served: Vec<&str> = source.datasets().iter().map(|d| d.as_str()).collect();
            return Err(AppError::invalid(
                "kind",
                format!(
                    "the {} provider does not provide {} (needed by a {} job); it provides: {}",
                    source.provider(),
                    kind.dataset().as_str(),
                    kind.as_str(),
                    served.join(", ")
                ),
            ));
        }
        let mut params = JobParams {
            market,
            symbols: Vec::new(),
            start: req.start,
            end: req.end,
            batch_size,
            limit_days: self.settings.incremental_limit_days,
            retry: Vec::new(),
        };
        let total = match kind {
            JobKind::Instruments => 1,
            JobKind::Calendar => exchanges_of(market).len(),
            JobKind::RetryFailures => {
                let due = self.jobs.due_failures(self.clock.now(), 100_000).await?;
                for f in due
                    .into_iter()
                    .filter(|f| f.provider == source.provider() && f.symbol.market() == market)
                {
                    let origin = match &f.last_job_id {
                        Some(id) => self.jobs.job(*id).await?,
                        None => None,
                    };
                    let (kind, start, end) = match origin {
                        Some(j) if j.kind != JobKind::RetryFailures => {
                            (j.kind, j.params.start, j.params.end)
                        }
                        Some(j) => j
                            .params
                            .retry
                            .iter()
                            .find(|r| r.symbol == f.symbol && r.dataset == f.dataset)
                            .map_or((default_kind(f.dataset), None, None), |r| {
                                (r.kind, r.start, r.end)
                            }),
                        None => (default_kind(f.dataset), None, None),
                    };
                    params.retry.push(RetryTarget {
                        dataset: f.dataset,
                        symbol: f.symbol,
                        kind,
                        start,
                        end,
                    });
                }
                params.retry.len()
            }
            _ => {
                params.symbols = if req.symbols.is_empty() {
                    self.market.symbols(market).await?
                } else {
                    let mut s = req.symbols.clone();
                    s.dedup();
                    s
                };
                if params.symbols.is_empty() {
                    return Err(AppError::Conflict(format!(
                        "no instruments are stored for market {market}; run an `instruments` job first or pass symbols"
                    )));
                }
                params.symbols.len()
            }
        };
        Ok(NewJob {
            kind,
            provider: source.provider().to_owned(),
            params,
            total: u32::try_from(total).unwrap_or(u32::MAX),
            schedule_name: schedule.map(str::to_owned),
        })
    }

    /// Records a job for the workers to run.
    ///
    /// # Errors
    /// As [`Self::prepare`], or storage errors.
    pub async fn submit(&self, req: &JobRequest) -> Result<SyncJob, AppError> {
        let job = self.prepare(req, None).await?;
        let created = self.jobs.create_job(job, self.clock.now()).await?;
        tracing::info!(job_id = %created.id, kind = created.kind.as_str(), provider = %created.provider, total = created.total, "sync job queued");
        Ok(created)
    }

    /// # Errors
    /// `NotFound` naming the id.
    pub async fn job(&self, id: JobId) -> Result<SyncJob, AppError> {
        self.jobs
            .job(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("sync job '{id}' does not exist")))
    }

    /// # Errors
    /// Storage errors.
    pub async fn jobs(
        &self,
        status: Option<JobStatus>,
        offset: u64,
        limit: u64,
    ) -> Result<Page<SyncJob>, AppError> {
        Ok(self.jobs.list_jobs(status, offset, limit).await?)
    }

    /// # Errors
    /// `NotFound`, or `Conflict` when the job already ended.
    pub async fn cancel(&self, id: JobId) -> Result<SyncJob, AppError> {
        let job = self.job(id).await?;
        if job.status.is_final() {
            return Err(AppError::Conflict(format!(
                "sync job '{id}' already ended ({})",
                job.status.as_str()
            )));
        }
        self.jobs
            .request_cancel(id, self.clock.now())
            .await?
            .ok_or_else(|| AppError::NotFound(format!("sync job '{id}' does not exist")))
    }

    /// # Errors
    /// Storage errors.
    pub async fn failures(
        &self,
        status: Option<FailureStatus>,
        offset: u64,
        limit: u64,
    ) -> Result<Page<SyncFailure>, AppError> {
        Ok(self.jobs.failures(status, offset, limit).await?)
    }
}

/// The job kind that fetches a dataset, for ledger entries whose job is gone.
fn default_kind(dataset: crate::ports::Dataset) -> JobKind {
    use crate::ports::Dataset as D;
    match dataset {
        D::DailyBars => JobKind::DailyHistory,
        D::AdjustmentFactors => JobKind::AdjustmentFactors,
        D::Valuations => JobKind::Valuations,
        D::News => JobKind::News,
        D::InsiderTrades => JobKind::InsiderTrades,
        _ => JobKind::FinancialsHistory,
    }
}

pub(super) fn exchanges_of(market: Market) -> Vec<stockpilot_domain::market::Exchange> {
    stockpilot_domain::market::Exchange::ALL
        .iter()
        .copied()
        .filter(|e| e.market() == market)
        .collect()
}
