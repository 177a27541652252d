//! The sync engine: jobs that copy provider data into the store in committed batches,
//! resumable from their cursor, with a failure ledger and a scheduler.

mod model;
mod runner;
mod scheduler;
mod service;
mod sources;
mod worker;

/// The kind sync jobs have on the job queue (`jobs.kind`; the migration that moved them
/// there spells it too).
pub const QUEUE_KIND: &str = "sync";

pub use model::{
    BatchCommit, FailureStatus, FailureUpdate, JobKind, JobParams, JobStatus, NewJob, RetryTarget,
    SyncFailure, SyncJob,
};
pub use scheduler::{CronSchedule, Schedule, Scheduler};
pub use service::{JobRequest, SyncConfig, SyncService, SyncSettings};
pub use sources::Sources;

/// Registers, at zero, the sync series that alert rules and dashboards read, so `rate()` and
/// `increase()` work from the first scrape: jobs per kind and status, and rows per dataset
/// for every configured provider.
pub fn register_metrics(sources: &Sources) {
    for kind in JobKind::ALL {
        for status in JobStatus::ALL {
            metrics::counter!("stockpilot_sync_jobs_total", "kind" => kind.as_str(), "status" => status.as_str())
                .increment(0);
        }
    }
    for provider in sources.names() {
        for dataset in crate::ports::Dataset::ALL {
            metrics::counter!("stockpilot_sync_rows_total", "dataset" => dataset.as_str(), "provider" => provider)
                .increment(0);
        }
    }
}
