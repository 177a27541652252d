//! Sync jobs, their progress cursor, the failure ledger and schedule claims.

use chrono::{DateTime, Utc};

use super::job_queue::JobQueue;
use super::market_store::{DataBatch, Page, StoreError};
use crate::JobId;
use crate::sync::{BatchCommit, FailureStatus, JobStatus, NewJob, SyncFailure, SyncJob};

#[async_trait::async_trait]
/// Sync jobs on the [`JobQueue`]: creating, reading and ending them with their batches and
/// the failure ledger.
pub trait SyncJobStore: JobQueue {
    /// Records a queued job and returns it with its id.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn create_job(&self, job: NewJob, now: DateTime<Utc>) -> Result<SyncJob, StoreError>;

    /// # Errors
    /// [`StoreError`].
    async fn job(&self, id: JobId) -> Result<Option<SyncJob>, StoreError>;

    /// Newest first.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn list_jobs(
        &self,
        status: Option<JobStatus>,
        offset: u64,
        limit: u64,
    ) -> Result<Page<SyncJob>, StoreError>;

    /// Takes the oldest runnable sync job for `worker` ([`JobQueue::claim_work`]).
    ///
    /// # Errors
    /// [`StoreError`].
    async fn claim_next(
        &self,
        worker: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<SyncJob>, StoreError> {
        match self
            .claim_work(crate::sync::QUEUE_KIND, None, worker, now)
            .await?
        {
            Some(id) => self.job(JobId::from(id)).await,
            None => Ok(None),
        }
    }

    /// Takes one specific runnable job for `worker`, as [`Self::claim_next`] does; `None` if
    /// it is not runnable or another worker has it.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn claim_job(
        &self,
        job_id: JobId,
        worker: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<SyncJob>, StoreError> {
        match self
            .claim_work(crate::sync::QUEUE_KIND, Some(job_id.uuid()), worker, now)
            .await?
        {
            Some(id) => self.job(JobId::from(id)).await,
            None => Ok(None),
        }
    }

    /// Writes the batch's rows, the job's new cursor and counts, and ledger changes in one
    /// transaction: after a crash a job resumes exactly after its last committed batch.
    /// Returns whether a cancel was requested meanwhile.
    ///
    /// # Errors
    /// [`StoreError`]; then nothing of the batch is written.
    async fn commit_batch(
        &self,
        job_id: JobId,
        provider: &str,
        data: &[DataBatch],
        commit: &BatchCommit,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Ends a running job (or pauses it until `resume_after`).
    ///
    /// # Errors
    /// [`StoreError`].
    async fn finish(
        &self,
        job_id: JobId,
        status: JobStatus,
        message: Option<String>,
        resume_after: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// A queued or paused job is cancelled at once; a running one is flagged and stops after
    /// its current batch. Returns the job as it is now, or `None` if unknown.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn request_cancel(
        &self,
        job_id: JobId,
        now: DateTime<Utc>,
    ) -> Result<Option<SyncJob>, StoreError>;

    /// Running jobs whose worker stopped beating before `stale_before` go back to the queue
    /// (their cursor kept). Returns how many.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn requeue_stale(
        &self,
        stale_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let message = "its worker stopped; resumed from the last committed batch";
        self.recover_work(crate::sync::QUEUE_KIND, stale_before, Some(message), now)
            .await
    }

    /// Marks the job as alive (a cancel is seen at the next batch commit).
    ///
    /// # Errors
    /// [`StoreError`].
    async fn heartbeat(&self, job_id: JobId, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.beat(job_id.uuid(), None, now).await.map(|_| ())
    }

    /// # Errors
    /// [`StoreError`].
    async fn failures(
        &self,
        status: Option<FailureStatus>,
        offset: u64,
        limit: u64,
    ) -> Result<Page<SyncFailure>, StoreError>;

    /// Pending failures whose retry time has come, oldest first.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn due_failures(
        &self,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<SyncFailure>, StoreError>;

    /// Pending failures in the ledger.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn pending_failure_count(&self) -> Result<u64, StoreError>;

    /// Claims one firing of a schedule and creates its job, in one transaction. Exactly one
    /// caller per `(schedule, slot)` gets `Some`, however many replicas try.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn claim_schedule(
        &self,
        schedule: &str,
        slot: DateTime<Utc>,
        worker: &str,
        job: NewJob,
        now: DateTime<Utc>,
    ) -> Result<Option<SyncJob>, StoreError>;
}
