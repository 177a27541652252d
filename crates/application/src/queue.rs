//! The one worker loop of every kind of background work. A kind implements [`QueueWork`]
//! (how its jobs are recovered, claimed, executed, kept alive, cancelled and handed back, on
//! top of the store's one queue implementation) and is registered once, where the server
//! starts its workers ([`run_worker`]). The loop recovers jobs whose worker died, claims the
//! next one, runs it while beating its heartbeat, stops it when a cancel is asked, and on
//! shutdown hands it back so that this or another instance resumes it.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use tokio::sync::{Notify, watch};

use crate::AppError;
use crate::backoff::Backoff;

/// How often a worker looks for work, and after how long without a heartbeat a claimed job
/// counts as abandoned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueTiming {
    pub poll_interval: Duration,
    pub stale_after: Duration,
}

impl QueueTiming {
    /// The time before which a running job's last heartbeat means its worker stopped (the
    /// earliest time there is when the limit reaches further back).
    pub fn stale_before(self, now: DateTime<Utc>) -> DateTime<Utc> {
        chrono::Duration::from_std(self.stale_after)
            .ok()
            .and_then(|limit| now.checked_sub_signed(limit))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// A third of the stale limit (at least 10 ms): two beats may be missed before a job
    /// counts as abandoned.
    pub fn beat_interval(self) -> Duration {
        (self.stale_after / 3).max(Duration::from_millis(10))
    }
}

/// A kind of background work that runs on the queue.
#[async_trait::async_trait]
pub trait QueueWork: Send + Sync {
    /// A claimed job.
    type Job: Send + Sync;
    /// The kind in logs: `sync`, `research`.
    const KIND: &'static str;

    fn timing(&self) -> QueueTiming;

    /// The job's id, for logs.
    fn job_id(job: &Self::Job) -> String;

    /// Recovers jobs whose worker stopped beating (queued again, dead-lettered or marked).
    ///
    /// # Errors
    /// Storage errors.
    async fn recover(&self) -> Result<(), AppError>;

    /// Claims the next runnable job for `worker`.
    ///
    /// # Errors
    /// Storage errors.
    async fn claim(&self, worker: &str) -> Result<Option<Self::Job>, AppError>;

    /// Runs a claimed job to its end (or its pause).
    ///
    /// # Errors
    /// Whatever stopped it; [`Self::failed`] decides what that means for the job.
    async fn execute(&self, job: &Self::Job) -> Result<(), AppError>;

    /// `execute` returned an error.
    async fn failed(&self, job: &Self::Job, error: &AppError);

    /// Marks the job as alive; returns whether a cancel was asked.
    ///
    /// # Errors
    /// Storage errors (the next beat tries again).
    async fn beat(&self, job: &Self::Job, worker: &str) -> Result<bool, AppError>;

    /// A cancel was asked while it ran: end it as cancelled.
    async fn cancelled(&self, job: &Self::Job);

    /// Shutdown: hand the job back to the queue.
    async fn hand_back(&self, job: &Self::Job, worker: &str);

    /// Notified when work is submitted through this process, so it is claimed at once.
    fn wake(&self) -> Option<&Notify> {
        None
    }
}

/// Recovers abandoned jobs, claims at most one and executes it (without a heartbeat: for
/// tests and one-off commands). Returns whether one ran.
///
/// # Errors
/// Storage errors.
pub async fn work_once<W: QueueWork>(work: &W, worker: &str) -> Result<bool, AppError> {
    work.recover().await?;
    let Some(job) = work.claim(worker).await? else {
        return Ok(false);
    };
    if let Err(e) = work.execute(&job).await {
        work.failed(&job, &e).await;
    }
    Ok(true)
}

/// Executes a claimed job while beating its heartbeat and watching for a cancel. Returns
/// false when `shutdown` interrupted it (the job is then handed back).
pub async fn drive<W: QueueWork>(
    work: &W,
    job: &W::Job,
    worker: &str,
    shutdown: &mut watch::Receiver<bool>,
) -> bool {
    let id = W::job_id(job);
    tracing::info!(kind = W::KIND, job_id = %id, %worker, "job started");
    let exec = work.execute(job);
    tokio::pin!(exec);
    let mut beat = tokio::time::interval(work.timing().beat_interval());
    beat.tick().await;
    loop {
        tokio::select! {
            result = &mut exec => {
                match result {
                    Ok(()) => tracing::info!(kind = W::KIND, job_id = %id, "job ended"),
                    Err(e) => work.failed(job, &e).await,
                }
                return true;
            }
            _ = beat.tick() => match work.beat(job, worker).await {
                Ok(true) => {
                    tracing::info!(kind = W::KIND, job_id = %id, "job cancelled on request");
                    work.cancelled(job).await;
                    return true;
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(kind = W::KIND, job_id = %id, error = %e, "heartbeat failed"),
            },
            _ = shutdown.changed() => {
                tracing::info!(kind = W::KIND, job_id = %id, "shutting down; the job returns to the queue");
                work.hand_back(job, worker).await;
                return false;
            }
        }
    }
}

/// Runs jobs of one kind until `shutdown` turns true.
pub async fn run_worker<W: QueueWork>(
    work: Arc<W>,
    worker: String,
    mut shutdown: watch::Receiver<bool>,
) {
    tracing::info!(kind = W::KIND, %worker, "worker started");
    let mut backoff = Backoff::new(work.timing().poll_interval);
    let what = format!("claiming {} jobs", W::KIND);
    loop {
        if *shutdown.borrow() {
            break;
        }
        let claimed = match work.recover().await {
            Ok(()) => work.claim(&worker).await,
            Err(e) => Err(e),
        };
        let wait = backoff.after(&what, &claimed);
        let Ok(Some(job)) = claimed else {
            tokio::select! {
                _ = tokio::time::sleep(wait) => continue,
                _ = woken(work.wake()) => continue,
                _ = shutdown.changed() => break,
            }
        };
        if !drive(work.as_ref(), &job, &worker, &mut shutdown).await {
            return;
        }
    }
    tracing::info!(kind = W::KIND, %worker, "worker stopped");
}

async fn woken(notify: Option<&Notify>) {
    match notify {
        Some(n) => n.notified().await,
        None => std::future::pending().await,
    }
}
