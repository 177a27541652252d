//! Background work: sync workers, the scheduler and research workers.

use stockpilot_application::research::MAX_RUN_TOKENS;
use stockpilot_application::settings;
use stockpilot_application::sync::SyncSettings as Engine;

use super::values::ScheduledJobConfig;

fn engine() -> Engine {
    Engine::default()
}

settings! {
    /// `sync`: data sync workers (their engine's defaults are `SyncSettings`' own).
    pub struct SyncSettings {
        /// Background sync workers in this instance (0 = this instance only serves the API).
        workers: u32 = 1; range = (0.0, 64.0),
        /// Symbols fetched and committed in one transaction.
        batch_size: u32 = engine().batch_size; range = (1.0, 1000.0),
        /// Attempts after which a failure-ledger entry is permanent.
        max_attempts: u32 = engine().max_attempts; range = (1.0, 100.0),
        /// First retry delay of a failed symbol (seconds); doubles per attempt, at most a day.
        retry_backoff_secs: u64 = engine().retry_backoff.as_secs(),
        /// Daily incremental: at most this many trading days per symbol per run.
        incremental_limit_days: u32 = engine().incremental_limit_days; range = (1.0, 3660.0),
        /// Where history jobs start when the request names no start.
        history_start: chrono::NaiveDate = engine().history_start,
        /// A running job whose worker has not beaten for this long (seconds) is requeued and
        /// resumes from its cursor.
        stale_after_secs: u64 = engine().stale_after.as_secs(); range = (10.0, 86_400.0),
        /// How often an idle worker looks for jobs (ms).
        poll_interval_ms: u64 = 2000; range = (10.0, 600_000.0),
    }
}

settings! {
    /// `scheduler`: periodic sync jobs.
    pub struct SchedulerSettings {
        /// Run the configured periodic jobs.
        enabled: bool = false,
        /// How often the scheduler checks for due jobs (seconds).
        tick_secs: u64 = 30; range = (1.0, 3600.0),
        /// Periodic jobs (a TOML array of tables, below).
        jobs: Vec<ScheduledJobConfig> = Vec::new(),
    }
}

settings! {
    /// `research`: research workers and their budgets.
    pub struct ResearchSettings {
        /// Background research workers in this instance (0 = this instance only serves the
        /// API).
        workers: u32 = 2; range = (0.0, 64.0),
        /// Analyst tasks (and decision rationales) running at once across all runs of this
        /// instance.
        max_concurrent_analysts: u32 = 16; range = (1.0, 1024.0),
        /// Analyst tasks running at once within one run (LLM calls are also bounded by each
        /// provider's `max_concurrent`).
        run_concurrency: u32 = 8; range = (1.0, 256.0),
        /// Token budget of a run that names no `max_tokens`; when it is used up, remaining LLM
        /// analysts are `skipped` with that reason.
        max_tokens: u64 = 200_000; range = (1.0, MAX_RUN_TOKENS as f64),
        /// Most tokens one completion of a run may produce.
        max_tokens_per_call: u32 = 2_048; range = (16.0, 1_000_000.0),
        /// A running run whose worker has not beaten for this long (seconds) is recovered.
        stale_after_secs: u64 = 60; range = (1.0, 86_400.0),
        /// How often an idle worker looks for queued runs (ms; runs submitted to the same
        /// instance start at once).
        poll_interval_ms: u64 = 1000; range = (10.0, 600_000.0),
        /// What recovery does with a run whose process died: `resume` (finished analysts kept,
        /// the rest re-run) or `mark` (status `interrupted`).
        on_interrupted: String = "resume".to_owned(),
        /// Portfolio value the risk analyst's limits are quoted against (currency units).
        portfolio_value: u64 = 1_000_000; range = (1.0, f64::INFINITY),
    }
}
