//! Research runs: analyst teams over the stored data, a decision per symbol, executed in the
//! background with every step stored as an event.

pub mod analysts;
pub mod data;
pub mod model;
mod runner;
mod service;

/// The kind research runs have on the job queue (`jobs.kind`; the migration that moved them
/// there spells it too).
pub const QUEUE_KIND: &str = "research";

pub use runner::vote;

pub use service::{
    AnalystInfo, MAX_DEBATE_ROUNDS, MAX_RUN_TOKENS, MAX_SYMBOLS, Progress, ResearchConfig,
    ResearchService, ResearchSettings, RunView, Submission,
};

/// Registers, at zero, the research series that alert rules and dashboards read, so `rate()`
/// and `increase()` work from the first scrape: runs per status, analyst results per analyst
/// and status, and each analyst's duration histogram.
pub fn register_metrics() {
    for status in model::RunStatus::ALL {
        metrics::counter!("stockpilot_research_runs_total", "status" => status.as_str())
            .increment(0);
    }
    for analyst in analysts::catalogue() {
        let name = analyst.name();
        for status in model::ResultStatus::ALL {
            metrics::counter!("stockpilot_analyst_results_total", "analyst" => name, "status" => status.as_str())
                .increment(0);
        }
        let _ = metrics::histogram!("stockpilot_analyst_duration_seconds", "analyst" => name);
    }
    metrics::gauge!("stockpilot_active_analysts").increment(0.0);
}
