//! The job queue every kind of background work runs on, for what does not depend on the kind:
//! queueing a job of a kind with its payload, claiming the next one, beating its heartbeat,
//! handing it back, recovering jobs whose worker stopped, ending and cancelling them. A kind
//! is named by its worker's `QueueWork::KIND`. A kind with results of its own extends this
//! port (`SyncJobStore`, `ResearchStore`) to write them in the same transactions.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::market_store::StoreError;

stockpilot_domain::code_enum! {
    /// Where a job is on the queue. A kind's own status (`JobStatus`, `RunStatus`) is one of
    /// these.
    pub enum JobState as "job state" {
        /// Waiting for a worker (also after a recovery or a hand-back).
        Queued = "queued",
        /// A worker holds it and beats its heartbeat.
        Running = "running",
        /// Waiting until its `run_after` (a sync job stopped by a provider's quota).
        Paused = "paused",
        /// Done.
        Succeeded = "succeeded",
        /// Ended by an error, or dead-lettered after its worker stopped too often.
        Failed = "failed",
        /// Ended on request.
        Cancelled = "cancelled",
        /// Its worker stopped and its kind does not resume it (research with
        /// `research.on_interrupted = "mark"`).
        Interrupted = "interrupted",
    }
}

impl JobState {
    /// Whether the job has ended.
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Queued | Self::Running | Self::Paused)
    }
}

/// A job as the queue keeps it, whatever its kind.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedJob {
    pub id: Uuid,
    pub kind: String,
    /// What to do, as the kind's payload type serialized it.
    pub payload: serde_json::Value,
    pub state: JobState,
    /// Why it is where it is (an error, a pause, a recovery).
    pub message: Option<String>,
    /// Times a worker claimed it.
    pub attempts: u32,
    /// Times its worker was found dead.
    pub recoveries: u32,
    pub cancel_requested: bool,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// What [`JobQueue::cancel_work`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// It had not started (or was waiting): it is `cancelled` now.
    Ended,
    /// It is running: flagged; its worker sees it at its next heartbeat.
    Flagged,
    /// It had ended, or does not exist.
    Untouched,
}

#[async_trait::async_trait]
pub trait JobQueue: Send + Sync {
    /// Queues a job of `kind` with its `payload`; returns its id.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn enqueue(
        &self,
        kind: &str,
        payload: serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<Uuid, StoreError>;

    /// # Errors
    /// [`StoreError`]; a stored state this release does not know is one.
    async fn queued_job(&self, id: Uuid) -> Result<Option<QueuedJob>, StoreError>;

    /// Atomically takes the oldest runnable job of `kind` (or only `only`) for `worker`:
    /// queued, or paused, with no `run_after` or one that has passed. Marks it running and
    /// counts the attempt. Replicas never take the same job (`FOR UPDATE SKIP LOCKED` on
    /// PostgreSQL, the single writer on SQLite). Returns its id.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn claim_work(
        &self,
        kind: &str,
        only: Option<Uuid>,
        worker: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Uuid>, StoreError>;

    /// Marks a running job as alive (only while `worker`, when given, holds it). Returns
    /// whether a cancel was requested.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn beat(
        &self,
        id: Uuid,
        worker: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Hands a job `worker` holds back to the queue (graceful shutdown), with `message` when
    /// given; the next claimer resumes it. Returns whether `worker` held it.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn hand_back(
        &self,
        id: Uuid,
        worker: &str,
        message: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Running jobs of `kind` whose heartbeat is older than `stale_before` (their worker
    /// stopped) are queued again with `message` (at once the first time, later after a
    /// growing backoff) or, at their last recovery, dead-lettered: `failed`, saying so.
    /// Returns how many it recovered.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn recover_work(
        &self,
        kind: &str,
        stale_before: DateTime<Utc>,
        message: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    /// Ends a running job in `state` (a final one) with `message`. Returns whether it was
    /// running.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn end_work(
        &self,
        id: Uuid,
        state: JobState,
        message: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Cancels a queued or paused job at once (with `message`); flags a running one for its
    /// worker.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn cancel_work(
        &self,
        id: Uuid,
        message: &str,
        now: DateTime<Utc>,
    ) -> Result<CancelOutcome, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::JobState;
    use crate::research::model::RunStatus;
    use crate::sync::JobStatus;

    #[test]
    fn every_kind_status_is_a_job_state_spelled_and_ended_the_same() {
        for &status in JobStatus::ALL {
            let state = JobState::from(status);
            assert_eq!(state.as_str(), status.as_str());
            assert_eq!(state.is_final(), status.is_final(), "{status}");
        }
        for &status in RunStatus::ALL {
            let state = JobState::from(status);
            assert_eq!(state.as_str(), status.as_str());
            assert_eq!(state.is_final(), status.is_final(), "{status}");
        }
    }
}
