//! The sync engine: jobs that copy provider data into the store in committed batches,
//! resumable from their cursor, with a failure ledger and a scheduler.

mod model;
mod runner;
mod scheduler;
mod service;
mod sources;
mod worker;

pub use model::{
    BatchCommit, FailureStatus, FailureUpdate, JobKind, JobParams, JobStatus, NewJob, RetryTarget,
    SyncFailure, SyncJob,
};
pub use scheduler::{CronSchedule, Schedule, Scheduler};
pub use service::{JobRequest, SyncService, SyncSettings};
pub use sources::Sources;
