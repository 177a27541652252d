//! Where research runs, their events, analyst results and decisions are kept.

use chrono::{DateTime, NaiveDate, Utc};

use super::job_queue::JobQueue;
use super::market_store::{Page, StoreError};
use crate::RunId;
use crate::research::model::{
    AnalystResult, DecisionRecord, NewRun, Run, RunEvent, RunFilter, RunStatus,
};

/// An event to append to a run's log in the same transaction as a state change.
#[derive(Debug, Clone, PartialEq)]
pub struct EventDraft {
    pub kind: &'static str,
    pub data: serde_json::Value,
}

#[async_trait::async_trait]
/// Research runs on the [`JobQueue`]: creating, reading and ending them with their events,
/// results and decisions.
pub trait ResearchStore: JobQueue {
    /// Stores a queued run.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn create_run(&self, run: &NewRun, now: DateTime<Utc>) -> Result<Run, StoreError>;

    /// # Errors
    /// [`StoreError`].
    async fn run(&self, id: RunId) -> Result<Option<Run>, StoreError>;

    /// Newest first.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn list_runs(
        &self,
        filter: &RunFilter,
        offset: u64,
        limit: u64,
    ) -> Result<Page<Run>, StoreError>;

    /// Claims the oldest queued run (or only `only`) for `worker` (`running`, heartbeat now);
    /// at most one claimer wins ([`JobQueue::claim_work`]).
    ///
    /// # Errors
    /// [`StoreError`].
    async fn claim(
        &self,
        only: Option<RunId>,
        worker: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Run>, StoreError> {
        let only = only.map(RunId::uuid);
        match self
            .claim_work(crate::research::QUEUE_KIND, only, worker, now)
            .await?
        {
            Some(id) => self.run(RunId::from(id)).await,
            None => Ok(None),
        }
    }

    /// Runs still `running` whose heartbeat is older than `stale_before` (their process
    /// died): back to `queued` when `resume`, else `interrupted` with a `run_failed` event.
    /// Returns the ids.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn recover_stale(
        &self,
        stale_before: DateTime<Utc>,
        resume: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<RunId>, StoreError>;

    /// Hands a run `worker` holds back to the queue (graceful shutdown); finished analysts
    /// are kept and the next claimer resumes it.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn release(&self, id: RunId, worker: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.hand_back(id.uuid(), worker, None, now)
            .await
            .map(|_| ())
    }

    /// Refreshes the heartbeat of a run `worker` holds; returns whether a cancel was asked.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn heartbeat(
        &self,
        id: RunId,
        worker: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.beat(id.uuid(), Some(worker), now).await
    }

    /// Appends one event; returns its sequence number (1, 2, … per run).
    ///
    /// # Errors
    /// [`StoreError`].
    async fn append_event(
        &self,
        id: RunId,
        event: &EventDraft,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError>;

    /// Stores an analyst's result (first one wins: results are immutable), adds its usage to
    /// the run and appends `event`, in one transaction. Returns whether it was new.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn record_result(
        &self,
        id: RunId,
        result: &AnalystResult,
        event: &EventDraft,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Stores a symbol's decision (first one wins), adds its usage and appends `event`.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn record_decision(
        &self,
        id: RunId,
        decision: &DecisionRecord,
        event: &EventDraft,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Moves a run that is not finished yet to a final `status` and appends `event`.
    /// Returns false when it had already ended (nothing changes).
    ///
    /// # Errors
    /// [`StoreError`].
    async fn finish(
        &self,
        id: RunId,
        status: RunStatus,
        error: Option<String>,
        event: &EventDraft,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// A queued run is cancelled at once (with its `run_cancelled` event); a running one is
    /// flagged for its worker. Returns the run after the change, `None` if unknown.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn request_cancel(
        &self,
        id: RunId,
        now: DateTime<Utc>,
    ) -> Result<Option<Run>, StoreError>;

    /// Events with a sequence number above `after`, ascending, at most `limit`.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn events(&self, id: RunId, after: i64, limit: u64) -> Result<Vec<RunEvent>, StoreError>;

    /// # Errors
    /// [`StoreError`].
    async fn results(&self, id: RunId) -> Result<Vec<AnalystResult>, StoreError>;

    /// # Errors
    /// [`StoreError`].
    async fn decisions(&self, id: RunId) -> Result<Vec<DecisionRecord>, StoreError>;

    /// News stored for `symbol` published in `[since, until]`, newest first.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn news(
        &self,
        symbol: &stockpilot_domain::market::Symbol,
        since: NaiveDate,
        until: NaiveDate,
        limit: u64,
    ) -> Result<Vec<stockpilot_domain::market::NewsArticle>, StoreError>;
}
