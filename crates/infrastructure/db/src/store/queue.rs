//! The one queue implementation every kind of background work runs on: claiming (`FOR UPDATE
//! SKIP LOCKED` on PostgreSQL, the single writer and a guarded update on SQLite), heartbeats,
//! handing a job back, recovering jobs whose worker died (with backoff, and dead-lettering
//! after [`MAX_RECOVERIES`]), cancelling and ending, all over the one `jobs` table: a job's
//! kind, its payload and its lifecycle. A kind that has results or progress to keep stores
//! them in its own table under the job's id; sync jobs and research runs both run on it.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LockBehavior, LockType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use stockpilot_application::ports::{CancelOutcome, JobQueue, JobState, QueuedJob, StoreError};
use uuid::Uuid;

use super::{SeaStore, data_err, db_err};
use crate::entities::job::{self, Column as C, Entity as Jobs};

const QUEUED: &str = JobState::Queued.as_str();
const RUNNING: &str = JobState::Running.as_str();
const PAUSED: &str = JobState::Paused.as_str();
const FAILED: &str = JobState::Failed.as_str();
const CANCELLED: &str = JobState::Cancelled.as_str();

/// A job whose worker was found dead this many times is not queued again: it ends `failed`
/// (dead-lettered) with a message saying so.
pub const MAX_RECOVERIES: i32 = 5;
/// The first recovery queues a job at once (its worker most likely died with its process);
/// the n-th waits `RECOVERY_BACKOFF × 2^(n−2)`, at most [`MAX_RECOVERY_BACKOFF`].
pub const RECOVERY_BACKOFF: Duration = Duration::seconds(15);
pub const MAX_RECOVERY_BACKOFF: Duration = Duration::minutes(10);

/// Runs an update of one job; whether it changed the row (its filters matched).
async fn changed(
    update: sea_orm::UpdateMany<Jobs>,
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

/// Queues a job of `kind` with its `payload`; returns its id (a UUIDv7: ids sort by time).
pub(crate) async fn enqueue(
    conn: &impl ConnectionTrait,
    kind: &str,
    payload: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<Uuid, StoreError> {
    let row = job::Model {
        id: Uuid::now_v7(),
        kind: kind.to_owned(),
        payload,
        status: QUEUED.to_owned(),
        message: None,
        cancel_requested: false,
        claimed_by: None,
        heartbeat_at: None,
        run_after: None,
        attempts: 0,
        recoveries: 0,
        created_at: now,
        started_at: None,
        finished_at: None,
        updated_at: now,
    };
    let id = row.id;
    job::ActiveModel::from(row)
        .insert(conn)
        .await
        .map_err(db_err)?;
    Ok(id)
}

/// Takes the oldest runnable job of `kind` (or only `only`) for `worker`: queued or paused, with
/// `run_after` empty or passed. Marks it running, beats its heartbeat and counts the attempt.
/// Returns its id, or `None` when there is none or another worker won it.
pub(crate) async fn claim(
    conn: &impl ConnectionTrait,
    postgres: bool,
    kind: &str,
    only: Option<Uuid>,
    worker: &str,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, StoreError> {
    let runnable = Condition::all().add(C::Status.is_in([QUEUED, PAUSED])).add(
        Condition::any()
            .add(C::RunAfter.is_null())
            .add(C::RunAfter.lte(now)),
    );
    let mut select = Jobs::find()
        .select_only()
        .column(C::Id)
        .column(C::Status)
        .filter(C::Kind.eq(kind))
        .filter(runnable)
        .order_by_asc(C::CreatedAt)
        .limit(1);
    if let Some(id) = only {
        select = select.filter(C::Id.eq(id));
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
    let update = Jobs::update_many()
        .col_expr(C::Status, Expr::value(RUNNING))
        .col_expr(C::ClaimedBy, Expr::value(worker))
        .col_expr(C::HeartbeatAt, Expr::value(now))
        .col_expr(
            C::StartedAt,
            Func::coalesce([Expr::col(C::StartedAt), Expr::value(now)]).into(),
        )
        .col_expr(C::RunAfter, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(C::Attempts, Expr::col(C::Attempts).add(1))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .filter(C::Id.eq(id))
        .filter(C::Status.eq(status));
    Ok(changed(update, conn).await?.then_some(id))
}

/// Marks a running job as alive (only while `worker`, when given, holds it). Returns whether
/// a cancel was requested.
pub(crate) async fn heartbeat(
    conn: &impl ConnectionTrait,
    id: Uuid,
    worker: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut update = Jobs::update_many()
        .col_expr(C::HeartbeatAt, Expr::value(now))
        .filter(C::Id.eq(id))
        .filter(C::Status.eq(RUNNING));
    if let Some(worker) = worker {
        update = update.filter(C::ClaimedBy.eq(worker));
    }
    update.exec(conn).await.map_err(db_err)?;
    cancel_requested(conn, id).await
}

/// A running job's kind recorded progress: it is alive and changed now. Returns whether a
/// cancel was requested.
pub(crate) async fn progressed(
    conn: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    Jobs::update_many()
        .col_expr(C::HeartbeatAt, Expr::value(now))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .filter(C::Id.eq(id))
        .exec(conn)
        .await
        .map_err(db_err)?;
    cancel_requested(conn, id).await
}

async fn cancel_requested(conn: &impl ConnectionTrait, id: Uuid) -> Result<bool, StoreError> {
    let cancel: Option<bool> = Jobs::find()
        .select_only()
        .column(C::CancelRequested)
        .filter(C::Id.eq(id))
        .into_tuple()
        .one(conn)
        .await
        .map_err(db_err)?;
    Ok(cancel.unwrap_or(false))
}

/// Hands a job `worker` holds back to the queue (graceful shutdown): the next claimer resumes
/// it. Returns whether it was held.
pub(crate) async fn release(
    conn: &impl ConnectionTrait,
    id: Uuid,
    worker: &str,
    message: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut update = Jobs::update_many()
        .col_expr(C::Status, Expr::value(QUEUED))
        .col_expr(C::ClaimedBy, Expr::value(Option::<String>::None))
        .col_expr(C::UpdatedAt, Expr::value(now));
    if let Some(message) = message {
        update = update.col_expr(C::Message, Expr::value(message));
    }
    let update = update
        .filter(C::Id.eq(id))
        .filter(C::Status.eq(RUNNING))
        .filter(C::ClaimedBy.eq(worker));
    changed(update, conn).await
}

/// Running jobs of `kind` whose heartbeat is older than `stale_before` (or missing): their
/// worker died.
pub(crate) async fn stale(
    conn: &impl ConnectionTrait,
    kind: &str,
    stale_before: DateTime<Utc>,
) -> Result<Vec<(Uuid, i32)>, StoreError> {
    Jobs::find()
        .select_only()
        .column(C::Id)
        .column(C::Recoveries)
        .filter(C::Kind.eq(kind))
        .filter(C::Status.eq(RUNNING))
        .filter(
            Condition::any()
                .add(C::HeartbeatAt.lt(stale_before))
                .add(C::HeartbeatAt.is_null()),
        )
        .order_by_asc(C::CreatedAt)
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
pub(crate) async fn recover(
    conn: &impl ConnectionTrait,
    id: Uuid,
    recoveries: i32,
    message: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Recovery, StoreError> {
    let n = recoveries.saturating_add(1);
    let (outcome, update) = if n >= MAX_RECOVERIES {
        let dead = format!("gave up: its worker stopped {n} times");
        let update = Jobs::update_many()
            .col_expr(C::Status, Expr::value(FAILED))
            .col_expr(C::Message, Expr::value(dead))
            .col_expr(C::FinishedAt, Expr::value(now));
        (Recovery::DeadLettered, update)
    } else {
        let backoff = recovery_backoff(n);
        let run_after = (backoff > Duration::zero()).then(|| now + backoff);
        let update = Jobs::update_many()
            .col_expr(C::Status, Expr::value(QUEUED))
            .col_expr(C::Message, Expr::value(message))
            .col_expr(C::RunAfter, Expr::value(run_after));
        (Recovery::Requeued, update)
    };
    let update = update
        .col_expr(C::ClaimedBy, Expr::value(Option::<String>::None))
        .col_expr(C::Recoveries, Expr::value(n))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .filter(C::Id.eq(id))
        .filter(C::Status.eq(RUNNING));
    Ok(if changed(update, conn).await? {
        outcome
    } else {
        Recovery::Untouched
    })
}

/// Where [`end`] puts a job.
pub(crate) struct Ending {
    /// A final state sets `finished_at`.
    pub state: JobState,
    pub message: Option<String>,
    /// Not claimed before (a pause).
    pub run_after: Option<DateTime<Utc>>,
}

/// Ends (or pauses) a job as `ending` says, only from the statuses `from` when given.
/// Returns whether it changed.
pub(crate) async fn end(
    conn: &impl ConnectionTrait,
    id: Uuid,
    from: Option<&[&str]>,
    ending: Ending,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut update = Jobs::update_many()
        .col_expr(C::Status, Expr::value(ending.state.as_str()))
        .col_expr(C::Message, Expr::value(ending.message))
        .col_expr(C::RunAfter, Expr::value(ending.run_after))
        .col_expr(
            C::FinishedAt,
            Expr::value(ending.state.is_final().then_some(now)),
        )
        .col_expr(C::ClaimedBy, Expr::value(Option::<String>::None))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .filter(C::Id.eq(id));
    if let Some(from) = from {
        update = update.filter(C::Status.is_in(from.iter().copied()));
    }
    changed(update, conn).await
}

/// Cancels a job: at once when it is in one of `waiting` (with `message`), else flags a
/// running one for its worker.
pub(crate) async fn cancel(
    conn: &impl ConnectionTrait,
    id: Uuid,
    waiting: &[&str],
    message: &str,
    now: DateTime<Utc>,
) -> Result<CancelOutcome, StoreError> {
    let end_now = Jobs::update_many()
        .col_expr(C::Status, Expr::value(CANCELLED))
        .col_expr(C::CancelRequested, Expr::value(true))
        .col_expr(C::Message, Expr::value(message))
        .col_expr(C::ClaimedBy, Expr::value(Option::<String>::None))
        .col_expr(C::FinishedAt, Expr::value(now))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .filter(C::Id.eq(id))
        .filter(C::Status.is_in(waiting.iter().copied()));
    if changed(end_now, conn).await? {
        return Ok(CancelOutcome::Ended);
    }
    let flag = Jobs::update_many()
        .col_expr(C::CancelRequested, Expr::value(true))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .filter(C::Id.eq(id))
        .filter(C::Status.eq(RUNNING));
    Ok(if changed(flag, conn).await? {
        CancelOutcome::Flagged
    } else {
        CancelOutcome::Untouched
    })
}

#[async_trait::async_trait]
impl JobQueue for SeaStore {
    async fn enqueue(
        &self,
        kind: &str,
        payload: serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<Uuid, StoreError> {
        enqueue(&self.db, kind, payload, now).await
    }

    async fn queued_job(&self, id: Uuid) -> Result<Option<QueuedJob>, StoreError> {
        let Some(row) = Jobs::find_by_id(id).one(&self.db).await.map_err(db_err)? else {
            return Ok(None);
        };
        Ok(Some(QueuedJob {
            id: row.id,
            kind: row.kind,
            payload: row.payload,
            state: row.status.parse().map_err(data_err)?,
            message: row.message,
            attempts: u32::try_from(row.attempts).unwrap_or(0),
            recoveries: u32::try_from(row.recoveries).unwrap_or(0),
            cancel_requested: row.cancel_requested,
            created_at: row.created_at,
            started_at: row.started_at,
            finished_at: row.finished_at,
        }))
    }

    async fn claim_work(
        &self,
        kind: &str,
        only: Option<Uuid>,
        worker: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Uuid>, StoreError> {
        let txn = self.write_txn().await?;
        let claimed = claim(&txn, self.is_postgres(), kind, only, worker, now).await?;
        txn.commit().await?;
        Ok(claimed)
    }

    async fn beat(
        &self,
        id: Uuid,
        worker: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        heartbeat(&self.db, id, worker, now).await
    }

    async fn hand_back(
        &self,
        id: Uuid,
        worker: &str,
        message: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        release(&self.db, id, worker, message, now).await
    }

    async fn recover_work(
        &self,
        kind: &str,
        stale_before: DateTime<Utc>,
        message: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let txn = self.write_txn().await?;
        let mut recovered = 0;
        for (id, recoveries) in stale(&txn, kind, stale_before).await? {
            if recover(&txn, id, recoveries, message, now).await? != Recovery::Untouched {
                recovered += 1;
            }
        }
        txn.commit().await?;
        Ok(recovered)
    }

    async fn end_work(
        &self,
        id: Uuid,
        state: JobState,
        message: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let ending = Ending {
            state,
            message,
            run_after: None,
        };
        end(&self.db, id, Some(&[RUNNING]), ending, now).await
    }

    async fn cancel_work(
        &self,
        id: Uuid,
        message: &str,
        now: DateTime<Utc>,
    ) -> Result<CancelOutcome, StoreError> {
        cancel(&self.db, id, &[QUEUED, PAUSED], message, now).await
    }
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
}
