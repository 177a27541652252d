//! The job queue every kind of background work runs on, for what does not depend on the kind:
//! claiming the next job of a kind (a kind is named by its worker's `QueueWork::KIND`),
//! beating its heartbeat, handing it back. The kind's own store port
//! (`SyncJobStore`, `ResearchStore`) extends it with creating its jobs, reading them and
//! ending them together with the kind's results.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::market_store::StoreError;

#[async_trait::async_trait]
pub trait JobQueue: Send + Sync {
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
}
