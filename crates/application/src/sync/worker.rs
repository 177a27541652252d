//! Sync jobs on the queue ([`crate::queue::QueueWork`]): a job whose worker stopped resumes
//! from its last committed batch, a cancel is seen at the next batch commit, and on shutdown
//! an unfinished job goes back to the queue with its cursor.

use super::model::{JobStatus, SyncJob};
use super::service::SyncService;
use crate::queue::{QueueTiming, QueueWork};
use crate::{AppError, JobId};

#[async_trait::async_trait]
impl QueueWork for SyncService {
    type Job = SyncJob;
    const KIND: &'static str = super::QUEUE_KIND;

    fn timing(&self) -> QueueTiming {
        QueueTiming {
            poll_interval: self.settings.poll_interval,
            stale_after: self.settings.stale_after,
        }
    }

    fn job_id(job: &SyncJob) -> String {
        job.id.to_string()
    }

    async fn recover(&self) -> Result<(), AppError> {
        let now = self.clock.now();
        let stale_before = self.timing().stale_before(now);
        let recovered = self.jobs.requeue_stale(stale_before, now).await?;
        if recovered > 0 {
            tracing::warn!(
                recovered,
                "recovered sync jobs whose worker stopped; they resume from their cursor"
            );
        }
        Ok(())
    }

    async fn claim(&self, worker: &str) -> Result<Option<SyncJob>, AppError> {
        Ok(self.jobs.claim_next(worker, self.clock.now()).await?)
    }

    async fn execute(&self, job: &SyncJob) -> Result<(), AppError> {
        self.run_job(job).await.map(|_| ())
    }

    /// The job stays running: once its heartbeat is stale it is recovered and resumes from
    /// its last committed batch.
    async fn failed(&self, job: &SyncJob, error: &AppError) {
        tracing::error!(job_id = %job.id, error = format!("{error:#}"), "sync job aborted; it will be recovered");
    }

    /// A cancel is seen by the job itself at its next batch commit.
    async fn beat(&self, job: &SyncJob, _worker: &str) -> Result<bool, AppError> {
        self.jobs.heartbeat(job.id, self.clock.now()).await?;
        Ok(false)
    }

    async fn cancelled(&self, _job: &SyncJob) {}

    async fn hand_back(&self, job: &SyncJob, worker: &str) {
        let message = "interrupted by shutdown; resumes from its cursor";
        let now = self.clock.now();
        let _ = self
            .jobs
            .hand_back(job.id.uuid(), worker, Some(message), now)
            .await;
    }
}

impl SyncService {
    /// Claims and runs at most one job ([`crate::queue::work_once`]). Returns whether one ran.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn work_once(&self, worker: &str) -> Result<bool, AppError> {
        crate::queue::work_once(self, worker).await
    }

    /// Runs the job `id` (just submitted) in this process and returns it once it has ended or
    /// paused. When another worker claimed it first (a server sharing the database), waits for
    /// that worker instead, and takes the job over if it is handed back to the queue.
    ///
    /// # Errors
    /// Storage errors, or `NotFound` for an unknown id.
    pub async fn run_to_end(&self, id: JobId, worker: &str) -> Result<SyncJob, AppError> {
        loop {
            let job = self.job(id).await?;
            if job.status.is_final() || job.status == JobStatus::Paused {
                return Ok(job);
            }
            if job.status == JobStatus::Queued
                && let Some(claimed) = self.jobs.claim_job(id, worker, self.clock.now()).await?
            {
                self.run_job(&claimed).await?;
                continue;
            }
            tokio::time::sleep(self.settings.poll_interval).await;
        }
    }
}
