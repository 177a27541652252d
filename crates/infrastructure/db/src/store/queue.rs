//! The one queue implementation every kind of background work runs on: claiming (`FOR UPDATE
//! SKIP LOCKED` on PostgreSQL, the single writer and a guarded update on SQLite), heartbeats,
//! handing a job back, recovering jobs whose worker died (with backoff, and dead-lettering
//! after [`MAX_RECOVERIES`]), cancelling and ending. A kind of work keeps its payload and
//! results in its own table and describes that table's lifecycle columns once
//! ([`QueueTable`]); sync jobs and research runs both run on it.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use stockpilot_application::ports::{JobQueue, StoreError, WorkKind};
use uuid::Uuid;

use super::{SeaStore, db_err};
use crate::entities::{research_run, sync_job};

/// Waiting for a worker (also after a recovery or a graceful hand-back).
pub(crate) const QUEUED: &str = "queued";
/// A worker holds it and beats its heartbeat.
pub(crate) const RUNNING: &str = "running";
/// Waiting until `run_after` (a sync job stopped by a provider's quota).
pub(crate) const PAUSED: &str = "paused";
/// Ended by an error, or dead-lettered.
pub(crate) const FAILED: &str = "failed";
/// Ended on request.
pub(crate) const CANCELLED: &str = "cancelled";

/// A job whose worker was found dead this many times is not queued again: it ends `failed`
/// (dead-lettered) with a message saying so.
pub const MAX_RECOVERIES: i32 = 5;
/// The first recovery queues a job at once (its worker most likely died with its process);
/// the n-th waits `RECOVERY_BACKOFF × 2^(n−2)`, at most [`MAX_RECOVERY_BACKOFF`].
pub const RECOVERY_BACKOFF: Duration = Duration::seconds(15);
pub const MAX_RECOVERY_BACKOFF: Duration = Duration::minutes(10);

/// The lifecycle columns of a queue table.
pub(crate) struct Lifecycle<C> {
    pub id: C,
    pub status: C,
    pub claimed_by: C,
    pub heartbeat_at: C,
    /// Times claimed.
    pub attempts: C,
    /// Times recovered after its worker died.
    pub recoveries: C,
    /// Not claimed before this time.
    pub run_after: C,
    pub cancel_requested: C,
    /// Why it is where it is (an error, a pause, a recovery); `NULL` when nothing to say.
    pub message: C,
    pub created_at: C,
    pub started_at: C,
    pub finished_at: C,
    pub updated_at: C,
}

/// A table of queued work.
pub(crate) trait QueueTable: EntityTrait {
    const COLUMNS: Lifecycle<Self::Column>;
}

/// Runs an update of one job; whether it changed the row (its filters matched).
async fn changed<T: EntityTrait>(
    update: sea_orm::UpdateMany<T>,
    conn: &impl ConnectionTrait,
) -> Result<bool, StoreError> {
    Ok(update.exec(conn).await.map_err(db_err)?.rows_affected == 1)
}

/// How long the `n`-th recovery (1, 2, …) waits before the job may be claimed again.
pub(crate) fn recovery_backoff(n: i32) -> Duration {
    if n <= 1 {
        return Duration::zero();
    }
    let doublings = Ord::min(u32::try_from(n - 2).unwrap_or(0), 16);
    Ord::min(RECOVERY_BACKOFF * 2i32.pow(doublings), MAX_RECOVERY_BACKOFF)
}

/// Takes the oldest runnable job (or only `only`) for `worker`: queued or paused, with
/// `run_after` empty or passed. Marks it running, beats its heartbeat and counts the attempt.
/// Returns its id, or `None` when there is none or another worker won it.
pub(crate) async fn claim<T: QueueTable>(
    conn: &impl ConnectionTrait,
    postgres: bool,
    only: Option<Uuid>,
    worker: &str,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, StoreError> {
    let c = T::COLUMNS;
    let runnable = Condition::all().add(c.status.is_in([QUEUED, PAUSED])).add(
        Condition::any()
            .add(c.run_after.is_null())
            .add(c.run_after.lte(now)),
    );
    let mut select = T::find()
        .select_only()
        .column(c.id)
        .column(c.status)
        .filter(runnable)
        .order_by_asc(c.created_at)
        .limit(1);
    if let Some(id) = only {
        select = select.filter(c.id.eq(id));
    }
    if postgres {
        select = select.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let Some((id, status)) = select
        .into_tuple::<(Uuid, String)>()
        .one(conn)
        .await
        .map_err(db_err)?
    else {
        return Ok(None);
    };
    // Guarded by the status seen: of two claimers on SQLite, the second changes nothing.
    let update = T::update_many()
        .col_expr(c.status, Expr::value(RUNNING))
        .col_expr(c.claimed_by, Expr::value(worker))
        .col_expr(c.heartbeat_at, Expr::value(now))
        .col_expr(
            c.started_at,
            Func::coalesce([Expr::col(c.started_at), Expr::value(now)]).into(),
        )
        .col_expr(c.run_after, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(c.attempts, Expr::col(c.attempts).add(1))
        .col_expr(c.updated_at, Expr::value(now))
        .filter(c.id.eq(id))
        .filter(c.status.eq(status));
    Ok(changed(update, conn).await?.then_some(id))
}

/// Marks a running job as alive (only while `worker`, when given, holds it). Returns whether
/// a cancel was requested.
pub(crate) async fn heartbeat<T: QueueTable>(
    conn: &impl ConnectionTrait,
    id: Uuid,
    worker: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let c = T::COLUMNS;
    let mut update = T::update_many()
        .col_expr(c.heartbeat_at, Expr::value(now))
        .filter(c.id.eq(id))
        .filter(c.status.eq(RUNNING));
    if let Some(worker) = worker {
        update = update.filter(c.claimed_by.eq(worker));
    }
    update.exec(conn).await.map_err(db_err)?;
    let cancel: Option<bool> = T::find()
        .select_only()
        .column(c.cancel_requested)
        .filter(c.id.eq(id))
        .into_tuple()
        .one(conn)
        .await
        .map_err(db_err)?;
    Ok(cancel.unwrap_or(false))
}

/// Hands a job `worker` holds back to the queue (graceful shutdown): the next claimer resumes
/// it. Returns whether it was held.
pub(crate) async fn release<T: QueueTable>(
    conn: &impl ConnectionTrait,
    id: Uuid,
    worker: &str,
    message: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let c = T::COLUMNS;
    let mut update = T::update_many()
        .col_expr(c.status, Expr::value(QUEUED))
        .col_expr(c.claimed_by, Expr::value(Option::<String>::None))
        .col_expr(c.updated_at, Expr::value(now));
    if let Some(message) = message {
        update = update.col_expr(c.message, Expr::value(message));
    }
    let update = update
        .filter(c.id.eq(id))
        .filter(c.status.eq(RUNNING))
        .filter(c.claimed_by.eq(worker));
    changed(update, conn).await
}

/// Running jobs whose heartbeat is older than `stale_before` (or missing): their worker died.
pub(crate) async fn stale<T: QueueTable>(
    conn: &impl ConnectionTrait,
    stale_before: DateTime<Utc>,
) -> Result<Vec<(Uuid, i32)>, StoreError> {
    let c = T::COLUMNS;
    T::find()
        .select_only()
        .column(c.id)
        .column(c.recoveries)
        .filter(c.status.eq(RUNNING))
        .filter(
            Condition::any()
                .add(c.heartbeat_at.lt(stale_before))
                .add(c.heartbeat_at.is_null()),
        )
        .order_by_asc(c.created_at)
        .into_tuple()
        .all(conn)
        .await
        .map_err(db_err)
}

/// What [`recover`] did with a job whose worker died.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recovery {
    /// Queued again, claimable at once or, after a backoff, from its `run_after`.
    Requeued,
    /// Recovered [`MAX_RECOVERIES`] times: ended `failed`.
    DeadLettered,
    /// Someone else recovered or ended it first.
    Untouched,
}

/// Recovers one job [`stale`] found (`recoveries` so far): queued again after its backoff
/// (with `message`, or none), or dead-lettered (`failed`, saying so) at the last recovery.
pub(crate) async fn recover<T: QueueTable>(
    conn: &impl ConnectionTrait,
    id: Uuid,
    recoveries: i32,
    message: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Recovery, StoreError> {
    let c = T::COLUMNS;
    let n = recoveries.saturating_add(1);
    let (outcome, update) = if n >= MAX_RECOVERIES {
        let dead = format!("gave up: its worker stopped {n} times");
        let update = T::update_many()
            .col_expr(c.status, Expr::value(FAILED))
            .col_expr(c.message, Expr::value(dead))
            .col_expr(c.finished_at, Expr::value(now));
        (Recovery::DeadLettered, update)
    } else {
        let backoff = recovery_backoff(n);
        let run_after = (backoff > Duration::zero()).then(|| now + backoff);
        let update = T::update_many()
            .col_expr(c.status, Expr::value(QUEUED))
            .col_expr(c.message, Expr::value(message))
            .col_expr(c.run_after, Expr::value(run_after));
        (Recovery::Requeued, update)
    };
    let update = update
        .col_expr(c.claimed_by, Expr::value(Option::<String>::None))
        .col_expr(c.recoveries, Expr::value(n))
        .col_expr(c.updated_at, Expr::value(now))
        .filter(c.id.eq(id))
        .filter(c.status.eq(RUNNING));
    Ok(if changed(update, conn).await? {
        outcome
    } else {
        Recovery::Untouched
    })
}

/// Where [`end`] puts a job.
pub(crate) struct Ending<'a> {
    pub status: &'a str,
    pub message: Option<String>,
    /// Not claimed before (a pause).
    pub run_after: Option<DateTime<Utc>>,
    /// Sets `finished_at` (a final status).
    pub finished: bool,
}

/// Ends (or pauses) a job as `ending` says, only from the statuses `from` when given.
/// Returns whether it changed.
pub(crate) async fn end<T: QueueTable>(
    conn: &impl ConnectionTrait,
    id: Uuid,
    from: Option<&[&str]>,
    ending: Ending<'_>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let c = T::COLUMNS;
    let mut update = T::update_many()
        .col_expr(c.status, Expr::value(ending.status))
        .col_expr(c.message, Expr::value(ending.message))
        .col_expr(c.run_after, Expr::value(ending.run_after))
        .col_expr(c.finished_at, Expr::value(ending.finished.then_some(now)))
        .col_expr(c.claimed_by, Expr::value(Option::<String>::None))
        .col_expr(c.updated_at, Expr::value(now))
        .filter(c.id.eq(id));
    if let Some(from) = from {
        update = update.filter(c.status.is_in(from.iter().copied()));
    }
    changed(update, conn).await
}

/// What [`cancel`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cancel {
    /// It had not started (or was waiting): it is `cancelled` now.
    Ended,
    /// It is running: flagged, its worker stops at its next check.
    Flagged,
    /// It had ended, or does not exist.
    Untouched,
}

/// Cancels a job: at once when it is in one of `waiting` (with `message`), else flags a
/// running one for its worker.
pub(crate) async fn cancel<T: QueueTable>(
    conn: &impl ConnectionTrait,
    id: Uuid,
    waiting: &[&str],
    message: &str,
    now: DateTime<Utc>,
) -> Result<Cancel, StoreError> {
    let c = T::COLUMNS;
    let end_now = T::update_many()
        .col_expr(c.status, Expr::value(CANCELLED))
        .col_expr(c.cancel_requested, Expr::value(true))
        .col_expr(c.message, Expr::value(message))
        .col_expr(c.claimed_by, Expr::value(Option::<String>::None))
        .col_expr(c.finished_at, Expr::value(now))
        .col_expr(c.updated_at, Expr::value(now))
        .filter(c.id.eq(id))
        .filter(c.status.is_in(waiting.iter().copied()));
    if changed(end_now, conn).await? {
        return Ok(Cancel::Ended);
    }
    let flag = T::update_many()
        .col_expr(c.cancel_requested, Expr::value(true))
        .col_expr(c.updated_at, Expr::value(now))
        .filter(c.id.eq(id))
        .filter(c.status.eq(RUNNING));
    Ok(if changed(flag, conn).await? {
        Cancel::Flagged
    } else {
        Cancel::Untouched
    })
}

#[async_trait::async_trait]
impl JobQueue for SeaStore {
    async fn claim_work(
        &self,
        kind: WorkKind,
        only: Option<Uuid>,
        worker: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Uuid>, StoreError> {
        let txn = self.write_txn().await?;
        let postgres = self.is_postgres();
        let claimed = match kind {
            WorkKind::Sync => claim::<sync_job::Entity>(&txn, postgres, only, worker, now).await?,
            WorkKind::Research => {
                claim::<research_run::Entity>(&txn, postgres, only, worker, now).await?
            }
        };
        txn.commit().await?;
        Ok(claimed)
    }

    async fn beat(
        &self,
        kind: WorkKind,
        id: Uuid,
        worker: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        match kind {
            WorkKind::Sync => heartbeat::<sync_job::Entity>(&self.db, id, worker, now).await,
            WorkKind::Research => {
                heartbeat::<research_run::Entity>(&self.db, id, worker, now).await
            }
        }
    }

    async fn hand_back(
        &self,
        kind: WorkKind,
        id: Uuid,
        worker: &str,
        message: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        match kind {
            WorkKind::Sync => release::<sync_job::Entity>(&self.db, id, worker, message, now).await,
            WorkKind::Research => {
                release::<research_run::Entity>(&self.db, id, worker, message, now).await
            }
        }
    }
}

// The tables on the queue.

impl QueueTable for sync_job::Entity {
    const COLUMNS: Lifecycle<sync_job::Column> = {
        use sync_job::Column as C;
        Lifecycle {
            id: C::Id,
            status: C::Status,
            claimed_by: C::ClaimedBy,
            heartbeat_at: C::HeartbeatAt,
            attempts: C::Attempts,
            recoveries: C::Recoveries,
            run_after: C::ResumeAfter,
            cancel_requested: C::CancelRequested,
            message: C::Message,
            created_at: C::CreatedAt,
            started_at: C::StartedAt,
            finished_at: C::FinishedAt,
            updated_at: C::UpdatedAt,
        }
    };
}

impl QueueTable for research_run::Entity {
    const COLUMNS: Lifecycle<research_run::Column> = {
        use research_run::Column as C;
        Lifecycle {
            id: C::Id,
            status: C::Status,
            claimed_by: C::ClaimedBy,
            heartbeat_at: C::HeartbeatAt,
            attempts: C::Attempts,
            recoveries: C::Recoveries,
            run_after: C::RunAfter,
            cancel_requested: C::CancelRequested,
            message: C::Error,
            created_at: C::CreatedAt,
            started_at: C::StartedAt,
            finished_at: C::FinishedAt,
            updated_at: C::UpdatedAt,
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_recovery_is_immediate_later_ones_back_off_up_to_ten_minutes() {
        assert_eq!(recovery_backoff(1), Duration::zero());
        assert_eq!(recovery_backoff(2), Duration::seconds(15));
        assert_eq!(recovery_backoff(3), Duration::seconds(30));
        assert_eq!(recovery_backoff(4), Duration::seconds(60));
        assert_eq!(recovery_backoff(30), Duration::minutes(10));
    }

    #[test]
    fn the_queue_spells_states_as_sync_jobs_and_research_runs_do() {
        use stockpilot_application::research::model::RunStatus;
        use stockpilot_application::sync::JobStatus;
        for (code, job, run) in [
            (QUEUED, Some(JobStatus::Queued), Some(RunStatus::Queued)),
            (RUNNING, Some(JobStatus::Running), Some(RunStatus::Running)),
            (PAUSED, Some(JobStatus::Paused), None),
            (FAILED, Some(JobStatus::Failed), Some(RunStatus::Failed)),
            (
                CANCELLED,
                Some(JobStatus::Cancelled),
                Some(RunStatus::Cancelled),
            ),
        ] {
            assert_eq!(job.map(JobStatus::as_str).unwrap_or(code), code);
            assert_eq!(run.map(RunStatus::as_str).unwrap_or(code), code);
        }
    }
}
