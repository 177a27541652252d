//! The one worker loop of every kind of background work. The loop ([`run_worker`]) recovers
//! jobs whose worker died, claims the next one, runs it while beating its heartbeat, stops it
//! when a cancel is asked, and on shutdown hands it back so that this or another instance
//! resumes it.
//!
//! A kind of work implements [`Work`]: its name, its payload type and what running one job
//! does; [`OnQueue`] puts it on the [`JobQueue`] and [`enqueue`] queues a job. A kind that
//! writes results of its own together with its state (sync jobs, research runs) implements
//! [`QueueWork`], the loop's trait, itself. Either way the kind is registered once, where the
//! server starts its workers.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{Notify, watch};
use uuid::Uuid;

use crate::AppError;
use crate::backoff::Backoff;
use crate::ports::{Clock, JobQueue, JobState};

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

/// Starts `count` worker loops of one kind, named `{prefix}-0`, `{prefix}-1`, …; they stop when
/// `shutdown` turns true.
pub fn spawn_workers<W: QueueWork + 'static>(
    work: &Arc<W>,
    count: u32,
    prefix: &str,
    shutdown: &watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..count)
        .map(|i| {
            let name = format!("{prefix}-{i}");
            tokio::spawn(run_worker(work.clone(), name, shutdown.clone()))
        })
        .collect()
}

async fn woken(notify: Option<&Notify>) {
    match notify {
        Some(n) => n.notified().await,
        None => std::future::pending().await,
    }
}

/// A kind of background work that needs nothing but the queue: a payload in, the job ends
/// `succeeded` when [`Work::run`] returns `Ok`, `failed` with the error's text otherwise.
#[async_trait::async_trait]
pub trait Work: Send + Sync + 'static {
    /// The kind's name on the queue (`jobs.kind`, logs); never change it once jobs exist.
    const KIND: &'static str;
    /// What one job is asked to do (stored as JSON).
    type Payload: Serialize + DeserializeOwned + Send + Sync;

    fn timing(&self) -> QueueTiming;

    /// Does one job. A job whose worker stops is run again from the start, so it should be
    /// safe to repeat.
    ///
    /// # Errors
    /// Whatever stopped it; the job ends `failed` with its text.
    async fn run(&self, job: &Claimed<Self::Payload>) -> Result<(), AppError>;
}

/// A job of a [`Work`] kind as a worker holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Claimed<P> {
    pub id: Uuid,
    /// 1 for the first claim; more after a recovery or a hand-back.
    pub attempt: u32,
    pub payload: P,
}

/// Queues a job of kind `W`; returns its id.
///
/// # Errors
/// The payload does not serialize, or storage errors.
pub async fn enqueue<W: Work>(
    queue: &dyn JobQueue,
    payload: &W::Payload,
    clock: &dyn Clock,
) -> Result<Uuid, AppError> {
    let payload = serde_json::to_value(payload)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("a {} payload: {e}", W::KIND)))?;
    Ok(queue.enqueue(W::KIND, payload, clock.now()).await?)
}

/// A [`Work`] kind on the queue: the [`QueueWork`] the worker loop runs.
pub struct OnQueue<W> {
    work: W,
    queue: Arc<dyn JobQueue>,
    clock: Arc<dyn Clock>,
}

impl<W: Work> OnQueue<W> {
    pub fn new(work: W, queue: Arc<dyn JobQueue>, clock: Arc<dyn Clock>) -> Self {
        Self { work, queue, clock }
    }

    async fn end(&self, id: Uuid, state: JobState, message: Option<String>) {
        if let Err(e) = self
            .queue
            .end_work(id, state, message, self.clock.now())
            .await
        {
            tracing::warn!(kind = W::KIND, job_id = %id, error = %e, "could not end the job; it will be recovered");
        }
    }
}

#[async_trait::async_trait]
impl<W: Work> QueueWork for OnQueue<W> {
    type Job = Claimed<W::Payload>;
    const KIND: &'static str = W::KIND;

    fn timing(&self) -> QueueTiming {
        self.work.timing()
    }

    fn job_id(job: &Self::Job) -> String {
        job.id.to_string()
    }

    async fn recover(&self) -> Result<(), AppError> {
        let now = self.clock.now();
        let stale_before = self.timing().stale_before(now);
        let message = Some("its worker stopped; queued again");
        let recovered = self
            .queue
            .recover_work(W::KIND, stale_before, message, now)
            .await?;
        if recovered > 0 {
            tracing::warn!(
                kind = W::KIND,
                recovered,
                "recovered jobs whose worker stopped"
            );
        }
        Ok(())
    }

    /// A claimed job whose payload does not read as `W::Payload` ends `failed` saying why.
    async fn claim(&self, worker: &str) -> Result<Option<Self::Job>, AppError> {
        let now = self.clock.now();
        let Some(id) = self.queue.claim_work(W::KIND, None, worker, now).await? else {
            return Ok(None);
        };
        let Some(job) = self.queue.queued_job(id).await? else {
            return Ok(None);
        };
        match serde_json::from_value(job.payload) {
            Ok(payload) => Ok(Some(Claimed {
                id,
                attempt: job.attempts,
                payload,
            })),
            Err(e) => {
                let message = format!("its payload is not a valid {} payload: {e}", W::KIND);
                self.end(id, JobState::Failed, Some(message)).await;
                Ok(None)
            }
        }
    }

    async fn execute(&self, job: &Self::Job) -> Result<(), AppError> {
        self.work.run(job).await?;
        self.end(job.id, JobState::Succeeded, None).await;
        Ok(())
    }

    async fn failed(&self, job: &Self::Job, error: &AppError) {
        tracing::error!(kind = W::KIND, job_id = %job.id, error = format!("{error:#}"), "job failed");
        self.end(job.id, JobState::Failed, Some(format!("{error:#}")))
            .await;
    }

    async fn beat(&self, job: &Self::Job, worker: &str) -> Result<bool, AppError> {
        let now = self.clock.now();
        Ok(self.queue.beat(job.id, Some(worker), now).await?)
    }

    async fn cancelled(&self, job: &Self::Job) {
        let message = Some("cancelled on request while it ran".to_owned());
        self.end(job.id, JobState::Cancelled, message).await;
    }

    async fn hand_back(&self, job: &Self::Job, worker: &str) {
        let message = Some("interrupted by shutdown; runs again");
        let now = self.clock.now();
        if let Err(e) = self.queue.hand_back(job.id, worker, message, now).await {
            tracing::warn!(kind = W::KIND, job_id = %job.id, error = %e, "could not hand the job back; it will be recovered");
        }
    }
}
