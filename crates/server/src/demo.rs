//! Loading the bundled demo dataset: the SSE trading calendar from its text file, then the US
//! daily bars, adjustment factors, instruments and calendar through the sync engine with the
//! `csv` provider — the same path any user's own CSV files take.

use std::path::Path;

use anyhow::Context;
use chrono::NaiveDate;
use stockpilot_application::AppError;
use stockpilot_application::ports::{DataBatch, MarketDataStore};
use stockpilot_application::sync::{JobKind, JobRequest, JobStatus, SyncService};
use stockpilot_domain::market::{Exchange, Market, TradingDay};

/// File of SSE trading days, one `YYYYMMDD` a line.
pub const SSE_CALENDAR_FILE: &str = "sse-trading-days-1990-2026.txt";

/// What an import wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    pub sse_days: u64,
    pub jobs: Vec<(JobKind, JobStatus, u64)>,
}

/// Reads the SSE calendar: every listed day is open; `pretrade_date` is the previous line.
///
/// # Errors
/// An unreadable file or a line that is not a date (named with its number).
pub fn read_sse_calendar(path: &Path) -> anyhow::Result<Vec<TradingDay>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut days = Vec::new();
    let mut previous = None;
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let date = NaiveDate::parse_from_str(line.trim(), "%Y%m%d").with_context(|| {
            format!("{}: line {} is not a YYYYMMDD date", path.display(), i + 1)
        })?;
        days.push(TradingDay {
            exchange: Exchange::Sse,
            date,
            is_open: true,
            pretrade_date: previous,
        });
        previous = Some(date);
    }
    Ok(days)
}

/// Imports everything under `dir`; returns what was written. Idempotent.
///
/// # Errors
/// Unreadable files, storage errors, or a job that does not succeed.
pub async fn import(
    dir: &Path,
    store: &dyn MarketDataStore,
    sync: &SyncService,
    worker: &str,
) -> anyhow::Result<DemoSummary> {
    let mut summary = DemoSummary::default();
    let calendar = dir.join(SSE_CALENDAR_FILE);
    if calendar.exists() {
        let days = read_sse_calendar(&calendar)?;
        summary.sse_days = store.upsert("demo", &DataBatch::Calendar(days)).await?;
    }
    for kind in [
        JobKind::Instruments,
        JobKind::Calendar,
        JobKind::DailyHistory,
        JobKind::AdjustmentFactors,
    ] {
        let request = JobRequest {
            kind: Some(kind),
            market: Some(Market::Us),
            provider: Some("csv".into()),
            batch_size: Some(10),
            ..JobRequest::default()
        };
        let job = sync.submit(&request).await.map_err(AppError::into_anyhow)?;
        while sync
            .work_once(worker)
            .await
            .map_err(AppError::into_anyhow)?
        {}
        let done = sync.job(&job.id).await.map_err(AppError::into_anyhow)?;
        if done.status != JobStatus::Succeeded || done.symbols_failed > 0 {
            anyhow::bail!(
                "demo import: {} job ended {} ({})",
                kind.as_str(),
                done.status.as_str(),
                done.message.unwrap_or_default()
            );
        }
        summary.jobs.push((kind, done.status, done.rows_written));
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_bundled_sse_calendar() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../data/demo")
            .join(SSE_CALENDAR_FILE);
        let days = read_sse_calendar(&path).unwrap();
        assert_eq!(days.len(), 8797);
        assert_eq!(days[0].date, NaiveDate::from_ymd_opt(1990, 12, 19).unwrap());
        assert_eq!(days[1].pretrade_date, Some(days[0].date));
        assert_eq!(
            days.last().unwrap().date,
            NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
        );
    }
}
