//! The background worker: requeue stale jobs, claim the next runnable one, run it with a
//! heartbeat, and on shutdown hand an unfinished job back to the queue (its cursor kept).

use std::sync::Arc;

use tokio::sync::watch;

use super::model::JobStatus;
use super::service::SyncService;
use crate::JobId;

impl SyncService {
    /// Claims and runs at most one job. Returns whether one ran.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn work_once(&self, worker: &str) -> Result<bool, crate::AppError> {
        let now = self.clock.now();
        let stale = chrono::Duration::from_std(self.settings.stale_after)
            .unwrap_or(chrono::Duration::minutes(2));
        let requeued = self.jobs.requeue_stale(now - stale, now).await?;
        if requeued > 0 {
            tracing::warn!(
                requeued,
                "requeued jobs whose worker stopped; they resume from their cursor"
            );
        }
        let Some(job) = self.jobs.claim_next(worker, now).await? else {
            return Ok(false);
        };
        self.run_job(&job).await?;
        Ok(true)
    }

    /// Runs the job `id` (just submitted) in this process and returns it once it has ended or
    /// paused. When another worker claimed it first (a server sharing the database), waits for
    /// that worker instead, and takes the job over if it is handed back to the queue.
    ///
    /// # Errors
    /// Storage errors, or `NotFound` for an unknown id.
    pub async fn run_to_end(
        &self,
        id: JobId,
        worker: &str,
    ) -> Result<super::model::SyncJob, crate::AppError> {
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

    /// Runs jobs until `shutdown` turns true. A job interrupted by shutdown is put back in the
    /// queue and resumes from its last committed batch on this or another instance.
    pub async fn run_worker(self: Arc<Self>, worker: String, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(%worker, "sync worker started");
        let mut backoff = crate::backoff::Backoff::new(self.settings.poll_interval);
        loop {
            if *shutdown.borrow() {
                break;
            }
            let now = self.clock.now();
            let stale = chrono::Duration::from_std(self.settings.stale_after)
                .unwrap_or(chrono::Duration::minutes(2));
            let claimed = match self.jobs.requeue_stale(now - stale, now).await {
                Ok(_) => self.jobs.claim_next(&worker, now).await,
                Err(e) => Err(e),
            };
            let wait = backoff.after("claiming sync jobs", &claimed);
            let Ok(Some(job)) = claimed else {
                tokio::select! {
                    _ = tokio::time::sleep(wait) => continue,
                    _ = shutdown.changed() => break,
                }
            };
            let run = self.run_job(&job);
            tokio::pin!(run);
            let mut beat = tokio::time::interval(self.settings.stale_after / 3);
            beat.tick().await;
            loop {
                tokio::select! {
                    result = &mut run => {
                        if let Err(e) = result {
                            tracing::error!(job_id = %job.id, error = format!("{e:#}"), "sync job aborted; it will be requeued");
                        }
                        break;
                    }
                    _ = beat.tick() => {
                        let _ = self.jobs.heartbeat(job.id, self.clock.now()).await;
                    }
                    _ = shutdown.changed() => {
                        tracing::info!(job_id = %job.id, "shutting down; job returns to the queue");
                        let _ = self.jobs.finish(job.id, JobStatus::Queued, Some("interrupted by shutdown; resumes from its cursor".into()), None, self.clock.now()).await;
                        return;
                    }
                }
            }
        }
        tracing::info!(%worker, "sync worker stopped");
    }
}
