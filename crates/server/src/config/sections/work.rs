//! The scheduler of periodic sync jobs. (Sync and research workers are declared with the
//! application's engines: `SyncConfig`, `ResearchConfig`.)

use stockpilot_application::settings;

use super::values::ScheduledJobConfig;

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
