//! The demo dataset: real daily bars of five US equities (2000–2013) and the SSE trading
//! calendar, compiled into the binary so that `serve` and `data import-demo` work from any
//! directory. `data.demo_dir` (or `data import-demo --dir`) reads the same files from a
//! directory instead.
//!
//! An import loads the SSE trading calendar from its text file, then the US daily bars,
//! adjustment factors, instruments and calendar through the sync engine with the `csv`
//! provider — the same path any user's own CSV files take.

use std::borrow::Cow;
use std::path::PathBuf;

use anyhow::Context;
use chrono::NaiveDate;
use stockpilot_application::AppError;
use stockpilot_application::ports::{DataBatch, MarketDataStore};
use stockpilot_application::sync::{JobKind, JobRequest, JobStatus, SyncService};
use stockpilot_data_engineering::CsvSettings;
use stockpilot_domain::market::{Exchange, Market, TradingDay};

/// File of SSE trading days, one `YYYYMMDD` a line.
pub const SSE_CALENDAR_FILE: &str = "sse-trading-days-1990-2026.txt";

/// File of US daily bars with an adjusted close.
pub const US_BARS_FILE: &str = "us-equities-daily-2000-2013.csv.gz";

/// Provider name under which the SSE calendar is stored (the US data arrives through `csv`).
pub const SSE_CALENDAR_PROVIDER: &str = "demo";

/// The demo files compiled into the binary.
static BUILT_IN_FILES: &[(&str, &[u8])] = &[(
    US_BARS_FILE,
    include_bytes!("../../../data/demo/us-equities-daily-2000-2013.csv.gz"),
)];

static BUILT_IN_SSE_CALENDAR: &str =
    include_str!("../../../data/demo/sse-trading-days-1990-2026.txt");

/// Where the demo dataset is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemoData {
    /// The files compiled into the binary (the default).
    BuiltIn,
    /// A directory holding the same files (`data.demo_dir`, `data import-demo --dir`).
    Dir(PathBuf),
}

impl DemoData {
    /// `data.demo_dir` when set, else the built-in dataset.
    pub fn from_config(config: &crate::config::Config) -> DemoData {
        config
            .data
            .demo_dir
            .clone()
            .map_or(DemoData::BuiltIn, DemoData::Dir)
    }

    /// The `csv` provider's settings over these files.
    pub fn csv_settings(&self) -> CsvSettings {
        match self {
            DemoData::BuiltIn => CsvSettings::embedded("built-in demo dataset", BUILT_IN_FILES),
            DemoData::Dir(dir) => CsvSettings::new(dir.clone()),
        }
    }

    /// The SSE trading days, when this dataset has them (a directory may leave the file out).
    ///
    /// # Errors
    /// An unreadable file or a line that is not a date.
    pub fn sse_calendar(&self) -> anyhow::Result<Option<Vec<TradingDay>>> {
        let (text, origin): (Cow<'_, str>, String) = match self {
            DemoData::BuiltIn => (
                Cow::Borrowed(BUILT_IN_SSE_CALENDAR),
                format!("built-in {SSE_CALENDAR_FILE}"),
            ),
            DemoData::Dir(dir) => {
                let path = dir.join(SSE_CALENDAR_FILE);
                if !path.exists() {
                    return Ok(None);
                }
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                (Cow::Owned(text), path.display().to_string())
            }
        };
        parse_sse_calendar(&text, &origin).map(Some)
    }
}

impl std::fmt::Display for DemoData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DemoData::BuiltIn => f.write_str("the demo dataset built into the binary"),
            DemoData::Dir(dir) => write!(f, "the demo dataset in {}", dir.display()),
        }
    }
}

/// What an import wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    pub sse_days: u64,
    pub jobs: Vec<(JobKind, JobStatus, u64)>,
}

/// Parses the SSE calendar: every listed day is open; `pretrade_date` is the previous line.
///
/// # Errors
/// A line that is not a date (named with `origin` and its number).
pub fn parse_sse_calendar(text: &str, origin: &str) -> anyhow::Result<Vec<TradingDay>> {
    let mut days = Vec::new();
    let mut previous = None;
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let date = NaiveDate::parse_from_str(line.trim(), "%Y%m%d")
            .with_context(|| format!("{origin}: line {} is not a YYYYMMDD date", i + 1))?;
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

/// Imports the dataset; returns what was written. Idempotent. `sync` must serve `demo`'s
/// files as its `csv` provider ([`crate::wiring::sources`] does when `providers.csv.dir` is
/// unset).
///
/// # Errors
/// Unreadable files, storage errors, or a job that does not succeed.
pub async fn import(
    demo: &DemoData,
    store: &dyn MarketDataStore,
    sync: &SyncService,
    worker: &str,
) -> anyhow::Result<DemoSummary> {
    let mut summary = DemoSummary::default();
    if let Some(days) = demo.sse_calendar()? {
        summary.sse_days = store
            .upsert(SSE_CALENDAR_PROVIDER, &DataBatch::Calendar(days))
            .await?;
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
        // A server running on the same database may take the job first; then it is awaited.
        let done = sync
            .run_to_end(job.id, worker)
            .await
            .map_err(AppError::into_anyhow)?;
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
    use std::path::Path;

    use super::*;

    #[test]
    fn the_built_in_sse_calendar_is_the_repository_file() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/demo");
        let days = DemoData::Dir(dir).sse_calendar().unwrap().unwrap();
        assert_eq!(
            DemoData::BuiltIn.sse_calendar().unwrap(),
            Some(days.clone())
        );
        assert_eq!(days.len(), 8797);
        assert_eq!(days[0].date, NaiveDate::from_ymd_opt(1990, 12, 19).unwrap());
        assert_eq!(days[1].pretrade_date, Some(days[0].date));
        assert_eq!(
            days.last().unwrap().date,
            NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
        );
    }

    #[test]
    fn built_in_files_are_the_repository_files() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/demo");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".csv") || n.ends_with(".csv.gz"))
            .collect();
        on_disk.sort();
        let built_in: Vec<&str> = BUILT_IN_FILES.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            on_disk, built_in,
            "every data file of data/demo is built in"
        );
        for (name, bytes) in BUILT_IN_FILES {
            assert_eq!(std::fs::read(dir.join(name)).unwrap(), *bytes, "{name}");
        }
    }

    fn config(vars: &[(&str, &str)]) -> crate::config::Config {
        let dir = tempfile::tempdir().unwrap();
        let env: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        crate::config::Config::load_from(
            &crate::config::SourceOptions {
                config_file: None,
                dotenv: Some(dir.path().join("absent.env")),
            },
            &env,
        )
        .unwrap()
    }

    #[test]
    fn the_built_in_copy_unless_a_directory_is_configured() {
        use stockpilot_data_engineering::CsvOrigin;
        let built_in = config(&[]);
        assert_eq!(DemoData::from_config(&built_in), DemoData::BuiltIn);
        assert!(matches!(
            crate::wiring::csv_settings(&built_in).origin,
            CsvOrigin::Embedded { .. }
        ));

        let other = tempfile::tempdir().unwrap();
        let path = other.path().display().to_string();
        let explicit = config(&[("STOCKPILOT_DATA__DEMO_DIR", &path)]);
        assert_eq!(
            DemoData::from_config(&explicit),
            DemoData::Dir(other.path().to_path_buf())
        );
        assert_eq!(
            crate::wiring::csv_settings(&explicit).origin,
            CsvOrigin::Dir(other.path().to_path_buf())
        );
        // The user's own CSV directory is the `csv` provider, whatever the demo setting.
        let own = tempfile::tempdir().unwrap();
        let own_path = own.path().display().to_string();
        let both = config(&[
            ("STOCKPILOT_DATA__DEMO_DIR", &path),
            ("STOCKPILOT_PROVIDERS__CSV__DIR", &own_path),
        ]);
        assert_eq!(
            crate::wiring::csv_settings(&both).origin,
            CsvOrigin::Dir(own.path().to_path_buf())
        );
    }

    #[test]
    fn a_demo_directory_that_does_not_exist_is_a_configuration_problem() {
        let dir = tempfile::tempdir().unwrap();
        let errs = crate::config::Config::load_from(
            &crate::config::SourceOptions {
                config_file: None,
                dotenv: Some(dir.path().join("absent.env")),
            },
            &[(
                "STOCKPILOT_DATA__DEMO_DIR".to_owned(),
                "/nonexistent/demo".to_owned(),
            )],
        )
        .unwrap_err();
        assert_eq!(
            errs.to_string().lines().nth(1).unwrap().trim(),
            "- data.demo_dir: /nonexistent/demo is not a directory (from environment variable STOCKPILOT_DATA__DEMO_DIR)"
        );
    }

    #[test]
    fn a_bad_calendar_line_is_named() {
        let err = parse_sse_calendar("20240102\n2024-01-03\n", "x.txt").unwrap_err();
        assert_eq!(err.to_string(), "x.txt: line 2 is not a YYYYMMDD date");
    }
}
