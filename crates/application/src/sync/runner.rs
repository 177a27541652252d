//! Running one job from its cursor: fetch a batch of units, commit rows and cursor together,
//! record per-symbol failures in the ledger, stop cleanly on quota, auth or cancel.

use chrono::{DateTime, Duration as ChronoDuration, NaiveDate, Utc};
use stockpilot_domain::market::{DateRange, ReportPeriod, StatementKind, Symbol, TradingCalendar};

use super::model::{BatchCommit, FailureUpdate, JobKind, JobStatus, SyncJob};
use super::service::{SyncService, exchanges_of};
use crate::AppError;
use crate::ports::{DataBatch, Dataset, MarketDataSource, SourceError};

/// Generations outlive any bar cache entry (whose TTL is minutes).
const GENERATION_TTL: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// How a job run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOutcome {
    Finished(JobStatus),
    Paused,
    Cancelled,
}

/// The dates a fetch covers; `None` ends default to history start and today.
#[derive(Clone, Copy)]
struct Window {
    start: Option<chrono::NaiveDate>,
    end: Option<chrono::NaiveDate>,
}

enum Unit {
    Symbol(Dataset, Symbol),
    Retry(super::model::RetryTarget),
    Exchange(stockpilot_domain::market::Exchange),
    Instruments,
}

impl SyncService {
    /// Runs a claimed job to its end (or until paused/cancelled), committing after every
    /// batch. Storage errors abort the run; the job is then requeued as stale and resumes
    /// from its last committed batch.
    ///
    /// # Errors
    /// Storage errors.
    #[tracing::instrument(skip_all, fields(job_id = %job.id, kind = job.kind.as_str(), provider = %job.provider))]
    pub async fn run_job(&self, job: &SyncJob) -> Result<RunOutcome, AppError> {
        let Some(source) = self.sources.by_name(&job.provider) else {
            let msg = format!("provider '{}' is no longer configured", job.provider);
            self.end(job, JobStatus::Failed, Some(msg)).await?;
            return Ok(RunOutcome::Finished(JobStatus::Failed));
        };
        let units = units_of(job);
        let total = units.len();
        let batch = job.params.batch_size.max(1) as usize;
        let mut index = job.cursor as usize;
        let mut failed_total = job.symbols_failed;
        tracing::info!(cursor = index, total, "sync job running");
        while index < total {
            let end = (index + batch).min(total);
            let mut data: Vec<DataBatch> = Vec::new();
            let mut commit = BatchCommit::default();
            let mut stop: Option<(JobStatus, String, Option<DateTime<Utc>>)> = None;
            let mut done = index;
            for unit in &units[index..end] {
                match self.fetch(job, source.as_ref(), unit).await {
                    Ok(rows) => {
                        match unit {
                            Unit::Symbol(dataset, symbol) => {
                                commit.resolved.push((*dataset, symbol.clone()))
                            }
                            Unit::Retry(r) => commit.resolved.push((r.dataset, r.symbol.clone())),
                            _ => {}
                        }
                        commit.rows += rows.iter().map(|b| b.len() as u64).sum::<u64>();
                        data.extend(rows);
                    }
                    Err(e) => match e {
                        SourceError::QuotaExhausted { .. } => {
                            stop = Some((
                                JobStatus::Paused,
                                format!("{e}; resumes after the quota resets"),
                                Some(next_quota_reset(self.clock.now())),
                            ));
                            break;
                        }
                        SourceError::Auth { .. }
                        | SourceError::Permission { .. }
                        | SourceError::Unsupported { .. } => {
                            stop = Some((JobStatus::Failed, e.to_string(), None));
                            break;
                        }
                        _ => match unit {
                            Unit::Symbol(dataset, symbol)
                            | Unit::Retry(super::model::RetryTarget {
                                dataset, symbol, ..
                            }) => {
                                tracing::warn!(symbol = %symbol, error = %e, "symbol failed; recorded in the failure ledger");
                                commit.failed += 1;
                                commit.failures.push(self.failure(*dataset, symbol, &e));
                            }
                            _ => {
                                stop = Some((JobStatus::Failed, e.to_string(), None));
                                break;
                            }
                        },
                    },
                }
                done += 1;
            }
            commit.cursor = u32::try_from(done).unwrap_or(u32::MAX);
            let cancel = self
                .jobs
                .commit_batch(job.id, &job.provider, &data, &commit, self.clock.now())
                .await?;
            for b in &data {
                metrics::counter!("stockpilot_sync_rows_total", "dataset" => dataset_of(b), "provider" => job.provider.clone())
                    .increment(b.len() as u64);
            }
            failed_total += commit.failed;
            self.invalidate(&data).await;
            self.report_pending().await;
            if let Some((status, message, resume_after)) = stop {
                tracing::warn!(status = status.as_str(), %message, "sync job stopped");
                self.jobs
                    .finish(
                        job.id,
                        status,
                        Some(message),
                        resume_after,
                        self.clock.now(),
                    )
                    .await?;
                metrics::counter!("stockpilot_sync_jobs_total", "kind" => job.kind.as_str(), "status" => status.as_str()).increment(1);
                return Ok(if status == JobStatus::Paused {
                    RunOutcome::Paused
                } else {
                    RunOutcome::Finished(status)
                });
            }
            if cancel {
                self.end(
                    job,
                    JobStatus::Cancelled,
                    Some("cancelled on request".into()),
                )
                .await?;
                return Ok(RunOutcome::Cancelled);
            }
            index = done;
        }
        let message = (failed_total > 0)
            .then(|| format!("{failed_total} symbol(s) failed; see GET /api/v1/sync/failures"));
        self.end(job, JobStatus::Succeeded, message).await?;
        Ok(RunOutcome::Finished(JobStatus::Succeeded))
    }

    async fn end(
        &self,
        job: &SyncJob,
        status: JobStatus,
        message: Option<String>,
    ) -> Result<(), AppError> {
        self.jobs
            .finish(job.id, status, message, None, self.clock.now())
            .await?;
        metrics::counter!("stockpilot_sync_jobs_total", "kind" => job.kind.as_str(), "status" => status.as_str()).increment(1);
        tracing::info!(status = status.as_str(), "sync job ended");
        Ok(())
    }

    /// New bars or factors change a symbol's bar responses: move its cache generation on.
    async fn invalidate(&self, data: &[DataBatch]) {
        let Some(cache) = &self.cache else { return };
        let mut symbols: Vec<&Symbol> = Vec::new();
        for batch in data {
            match batch {
                DataBatch::DailyBars(rows) => symbols.extend(rows.iter().map(|b| &b.symbol)),
                DataBatch::AdjustmentFactors(rows) => {
                    symbols.extend(rows.iter().map(|f| &f.symbol))
                }
                _ => {}
            }
        }
        symbols.sort();
        symbols.dedup();
        let generation = self
            .clock
            .now()
            .timestamp_nanos_opt()
            .unwrap_or_default()
            .to_string();
        for symbol in symbols {
            if let Err(e) = cache
                .set(
                    &crate::market::bars_generation_key(symbol),
                    generation.as_bytes(),
                    GENERATION_TTL,
                )
                .await
            {
                tracing::warn!(%symbol, error = %e, "cannot invalidate cached bars; they expire with their TTL");
            }
        }
    }

    async fn report_pending(&self) {
        if let Ok(n) = self.jobs.pending_failure_count().await {
            metrics::gauge!("stockpilot_sync_failures_pending").set(n as f64);
        }
    }

    fn failure(&self, dataset: Dataset, symbol: &Symbol, e: &SourceError) -> FailureUpdate {
        FailureUpdate {
            dataset,
            symbol: symbol.clone(),
            error_kind: e.kind(),
            error: e.to_string(),
            retry_backoff: self.settings.retry_backoff,
            max_attempts: self.settings.max_attempts,
        }
    }

    /// The window's dates, an open end meaning today and an open start `default_start`.
    fn window_range(
        &self,
        window: Window,
        default_start: impl FnOnce(NaiveDate) -> NaiveDate,
    ) -> DateRange {
        let end = window.end.unwrap_or_else(|| self.clock.today());
        span(window.start.unwrap_or_else(|| default_start(end)), end)
    }

    fn history_range(&self, window: Window) -> DateRange {
        self.window_range(window, |_| self.settings.history_start)
    }

    async fn fetch(
        &self,
        job: &SyncJob,
        source: &dyn MarketDataSource,
        unit: &Unit,
    ) -> Result<Vec<DataBatch>, SourceError> {
        let window = Window {
            start: job.params.start,
            end: job.params.end,
        };
        match unit {
            Unit::Instruments => Ok(vec![DataBatch::Instruments(
                source.instruments(job.params.market).await?,
            )]),
            Unit::Exchange(ex) => Ok(vec![DataBatch::Calendar(
                source
                    .trading_calendar(*ex, self.history_range(window))
                    .await?,
            )]),
            Unit::Symbol(_, symbol) => {
                self.fetch_symbol(job, job.kind, window, source, symbol)
                    .await
            }
            Unit::Retry(r) => {
                self.fetch_symbol(
                    job,
                    r.kind,
                    Window {
                        start: r.start,
                        end: r.end,
                    },
                    source,
                    &r.symbol,
                )
                .await
            }
        }
    }

    async fn fetch_symbol(
        &self,
        job: &SyncJob,
        kind: JobKind,
        window: Window,
        source: &dyn MarketDataSource,
        symbol: &Symbol,
    ) -> Result<Vec<DataBatch>, SourceError> {
        let range = self.history_range(window);
        Ok(match kind {
            JobKind::DailyHistory => vec![DataBatch::DailyBars(
                source.daily_bars(symbol, range).await?,
            )],
            JobKind::DailyIncremental => match self.missing_range(job, window, symbol).await? {
                Some(missing) => vec![DataBatch::DailyBars(
                    source.daily_bars(symbol, missing).await?,
                )],
                None => Vec::new(),
            },
            JobKind::AdjustmentFactors => vec![DataBatch::AdjustmentFactors(
                source.adjustment_factors(symbol, range).await?,
            )],
            JobKind::Valuations => vec![DataBatch::Valuations(
                source.daily_valuations(symbol, range).await?,
            )],
            JobKind::News | JobKind::InsiderTrades => {
                // Without a start, the last year: older news rarely matters to a new analysis.
                let recent = self.window_range(window, |end| end - ChronoDuration::days(365));
                if kind == JobKind::News {
                    vec![DataBatch::News(source.news(symbol, recent).await?)]
                } else {
                    vec![DataBatch::InsiderTrades(
                        source.insider_trades(symbol, recent).await?,
                    )]
                }
            }
            JobKind::FinancialsHistory | JobKind::FinancialsIncremental => {
                let range = if kind == JobKind::FinancialsIncremental {
                    let end = self.clock.today();
                    span(end - ChronoDuration::days(400), end)
                } else {
                    range
                };
                let mut out = Vec::new();
                for period in [ReportPeriod::Annual, ReportPeriod::Quarterly] {
                    for statement in [
                        StatementKind::Income,
                        StatementKind::Balance,
                        StatementKind::CashFlow,
                    ] {
                        out.push(DataBatch::Statements(
                            source
                                .financial_statements(symbol, statement, period, range)
                                .await?,
                        ));
                    }
                    out.push(DataBatch::Indicators(
                        source.financial_indicators(symbol, period, range).await?,
                    ));
                }
                out
            }
            JobKind::Instruments | JobKind::Calendar | JobKind::RetryFailures => Vec::new(),
        })
    }

    /// The trading days missing after the newest stored bar, at most `limit_days` of them;
    /// `None` when nothing is missing.
    async fn missing_range(
        &self,
        job: &SyncJob,
        window: Window,
        symbol: &Symbol,
    ) -> Result<Option<DateRange>, SourceError> {
        let store_err = |e: crate::ports::StoreError| SourceError::Transient {
            provider: "store",
            message: e.to_string(),
        };
        let until = window.end.unwrap_or_else(|| self.clock.today());
        let limit = job.params.limit_days.max(1);
        let last = self.market.last_bar_date(symbol).await.map_err(store_err)?;
        let from = match (last, window.start) {
            (Some(d), _) => d + ChronoDuration::days(1),
            (None, Some(start)) => start,
            (None, None) => until - ChronoDuration::days(i64::from(limit) * 2),
        };
        if from > until {
            return Ok(None);
        }
        let Ok(window) = DateRange::new(from, until, None) else {
            return Ok(None);
        };
        let days = self
            .market
            .calendar(symbol.exchange(), window)
            .await
            .map_err(store_err)?
            .rows;
        let calendar = TradingCalendar::from_open_days(
            symbol.exchange(),
            days.iter().filter(|d| d.is_open).map(|d| d.date),
        );
        let range = if days.is_empty() {
            // No stored calendar: bound the window by calendar days instead.
            let to = (from + ChronoDuration::days(i64::from(limit) - 1)).min(until);
            DateRange::new(from, to, None).ok()
        } else {
            let missing = calendar.missing_after(last, until, limit as usize);
            match (missing.first(), missing.last()) {
                (Some(a), Some(b)) => DateRange::new(*a, *b, None).ok(),
                _ => None,
            }
        };
        Ok(range)
    }
}

fn units_of(job: &SyncJob) -> Vec<Unit> {
    match job.kind {
        JobKind::Instruments => vec![Unit::Instruments],
        JobKind::Calendar => exchanges_of(job.params.market)
            .into_iter()
            .map(Unit::Exchange)
            .collect(),
        JobKind::RetryFailures => job.params.retry.iter().cloned().map(Unit::Retry).collect(),
        kind => job
            .params
            .symbols
            .iter()
            .map(|s| Unit::Symbol(kind.dataset(), s.clone()))
            .collect(),
    }
}

fn dataset_of(batch: &DataBatch) -> &'static str {
    match batch {
        DataBatch::Instruments(_) => Dataset::Instruments.as_str(),
        DataBatch::Calendar(_) => Dataset::Calendar.as_str(),
        DataBatch::DailyBars(_) => Dataset::DailyBars.as_str(),
        DataBatch::AdjustmentFactors(_) => Dataset::AdjustmentFactors.as_str(),
        DataBatch::Valuations(_) => Dataset::Valuations.as_str(),
        DataBatch::Statements(_) => Dataset::Financials.as_str(),
        DataBatch::Indicators(_) => Dataset::FinancialIndicators.as_str(),
        DataBatch::News(_) => Dataset::News.as_str(),
        DataBatch::InsiderTrades(_) => Dataset::InsiderTrades.as_str(),
    }
}

/// `start..=end`, with a start after the end moved to the end: never empty, never an error.
fn span(start: NaiveDate, end: NaiveDate) -> DateRange {
    let start = start.min(end);
    DateRange::new(start, end, None).unwrap_or_else(|_| DateRange::single(end))
}

/// Daily quotas reset at midnight China time (16:00 UTC); resume a little after.
fn next_quota_reset(now: DateTime<Utc>) -> DateTime<Utc> {
    let today_reset = now
        .date_naive()
        .and_hms_opt(16, 5, 0)
        .map(|t| t.and_utc())
        .unwrap_or(now);
    if today_reset > now {
        today_reset
    } else {
        today_reset + ChronoDuration::days(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_resets_at_the_next_china_midnight() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(
            next_quota_reset(t("2026-11-21T10:00:00Z")),
            t("2026-11-21T16:05:00Z")
        );
        assert_eq!(
            next_quota_reset(t("2026-11-21T17:00:00Z")),
            t("2026-11-22T16:05:00Z")
        );
    }
}
