//! Sync jobs, the failure ledger and schedule claims.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use stockpilot_application::JobId;
use stockpilot_application::ports::{DataBatch, Page, StoreError, SyncJobStore};
use stockpilot_application::sync::{
    BatchCommit, FailureStatus, JobStatus, NewJob, QUEUE_KIND, SyncFailure, SyncJob,
};
use uuid::Uuid;

use super::convert as c;
use super::queue;
use super::{SeaStore, data_err, db_err, joined, page, page_of_jobs, upsert_batch};
use crate::entities::{job, schedule_claim, sync_failure, sync_job};

/// Queues a sync job: its row in `jobs` (the payload says what to sync) and its progress row.
async fn insert_job<C: ConnectionTrait>(
    conn: &C,
    job: &NewJob,
    now: DateTime<Utc>,
) -> Result<SyncJob, StoreError> {
    let payload = c::SyncPayload {
        kind: job.kind.as_str().to_owned(),
        provider: job.provider.clone(),
        params: serde_json::to_value(&job.params).map_err(data_err)?,
        schedule_name: job.schedule_name.clone(),
    };
    let payload = serde_json::to_value(payload).map_err(data_err)?;
    let id = queue::enqueue(conn, QUEUE_KIND, payload, now).await?;
    sync_job::ActiveModel::from(sync_job::Model {
        id,
        cursor: 0,
        total: i32::try_from(job.total).unwrap_or(i32::MAX),
        rows_written: 0,
        symbols_failed: 0,
    })
    .insert(conn)
    .await
    .map_err(db_err)?;
    get_job(conn, id)
        .await?
        .ok_or_else(|| data_err(format!("sync job {id} vanished")))
}

async fn get_job<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<SyncJob>, StoreError> {
    match sync_job::Entity::find_by_id(id)
        .find_also_related(job::Entity)
        .one(conn)
        .await
        .map_err(db_err)?
    {
        Some((progress, row)) => c::job(joined(row)?, progress).map(Some),
        None => Ok(None),
    }
}

/// The ledger's retry schedule: base × 2^(attempts − 1), at most a day.
fn next_retry(base: std::time::Duration, attempts: i32, now: DateTime<Utc>) -> DateTime<Utc> {
    let base = Duration::from_std(base).unwrap_or(Duration::minutes(5));
    let exp = Ord::min(u32::try_from(attempts.saturating_sub(1)).unwrap_or(0), 20);
    now + Ord::min(base * 2i32.saturating_pow(exp), Duration::days(1))
}

impl SeaStore {
    async fn record_failures<C: ConnectionTrait>(
        &self,
        conn: &C,
        job_id: Uuid,
        provider: &str,
        commit: &BatchCommit,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        for f in &commit.failures {
            let key = (
                provider.to_owned(),
                f.dataset.as_str().to_owned(),
                f.symbol.to_string(),
            );
            let existing = sync_failure::Entity::find_by_id(key.clone())
                .one(conn)
                .await
                .map_err(db_err)?;
            let attempts = existing.as_ref().map_or(0, |e| e.attempts) + 1;
            let permanent = u32::try_from(attempts).unwrap_or(u32::MAX) >= f.max_attempts;
            let row = sync_failure::Model {
                provider: key.0,
                dataset: key.1,
                symbol: key.2,
                error_kind: f.error_kind.to_owned(),
                error: f.error.chars().take(2000).collect(),
                attempts,
                status: if permanent {
                    FailureStatus::Permanent
                } else {
                    FailureStatus::Pending
                }
                .as_str()
                .to_owned(),
                next_retry_at: (!permanent).then(|| next_retry(f.retry_backoff, attempts, now)),
                last_job_id: Some(job_id),
                first_failed_at: existing.map_or(now, |e| e.first_failed_at),
                last_failed_at: now,
            };
            let keys = [
                sync_failure::Column::Provider,
                sync_failure::Column::Dataset,
                sync_failure::Column::Symbol,
            ];
            sync_failure::Entity::insert(sync_failure::ActiveModel::from(row))
                .on_conflict(
                    OnConflict::columns(keys)
                        .update_columns([
                            sync_failure::Column::ErrorKind,
                            sync_failure::Column::Error,
                            sync_failure::Column::Attempts,
                            sync_failure::Column::Status,
                            sync_failure::Column::NextRetryAt,
                            sync_failure::Column::LastJobId,
                            sync_failure::Column::LastFailedAt,
                        ])
                        .to_owned(),
                )
                .exec_without_returning(conn)
                .await
                .map_err(db_err)?;
        }
        for (dataset, symbol) in &commit.resolved {
            sync_failure::Entity::delete_many()
                .filter(sync_failure::Column::Provider.eq(provider))
                .filter(sync_failure::Column::Dataset.eq(dataset.as_str()))
                .filter(sync_failure::Column::Symbol.eq(symbol.as_str()))
                .exec(conn)
                .await
                .map_err(db_err)?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl SyncJobStore for SeaStore {
    async fn create_job(&self, job: NewJob, now: DateTime<Utc>) -> Result<SyncJob, StoreError> {
        // One transaction: a worker must never claim the job before its progress row exists.
        let txn = self.write_txn().await?;
        let created = insert_job(&txn, &job, now).await?;
        txn.commit().await?;
        Ok(created)
    }

    async fn job(&self, id: JobId) -> Result<Option<SyncJob>, StoreError> {
        get_job(&self.db, id.uuid()).await
    }

    async fn list_jobs(
        &self,
        status: Option<JobStatus>,
        offset: u64,
        limit: u64,
    ) -> Result<Page<SyncJob>, StoreError> {
        let mut select = sync_job::Entity::find().find_also_related(job::Entity);
        if let Some(s) = status {
            select = select.filter(job::Column::Status.eq(s.as_str()));
        }
        let select = select
            .order_by_desc(job::Column::CreatedAt)
            .order_by_desc(job::Column::Id);
        page_of_jobs(&self.db, select, offset, limit, c::job).await
    }

    async fn commit_batch(
        &self,
        job_id: JobId,
        provider: &str,
        data: &[DataBatch],
        commit: &BatchCommit,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let uuid = job_id.uuid();
        let txn = self.write_txn().await?;
        for batch in data {
            upsert_batch(&txn, provider, batch).await?;
        }
        self.record_failures(&txn, uuid, provider, commit, now)
            .await?;
        let rows = i64::try_from(commit.rows).unwrap_or(i64::MAX);
        let failed = i32::try_from(commit.failed).unwrap_or(i32::MAX);
        sync_job::Entity::update_many()
            .col_expr(
                sync_job::Column::Cursor,
                Expr::value(i32::try_from(commit.cursor).unwrap_or(i32::MAX)),
            )
            .col_expr(
                sync_job::Column::RowsWritten,
                Expr::col(sync_job::Column::RowsWritten).add(rows),
            )
            .col_expr(
                sync_job::Column::SymbolsFailed,
                Expr::col(sync_job::Column::SymbolsFailed).add(failed),
            )
            .filter(sync_job::Column::Id.eq(uuid))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        let cancel = queue::progressed(&txn, uuid, now).await?;
        txn.commit().await?;
        Ok(cancel)
    }

    async fn finish(
        &self,
        job_id: JobId,
        status: JobStatus,
        message: Option<String>,
        resume_after: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let ending = queue::Ending {
            state: status.into(),
            message,
            run_after: resume_after,
        };
        queue::end(&self.db, job_id.uuid(), None, ending, now).await?;
        Ok(())
    }

    async fn request_cancel(
        &self,
        job_id: JobId,
        now: DateTime<Utc>,
    ) -> Result<Option<SyncJob>, StoreError> {
        let txn = self.write_txn().await?;
        let waiting = [JobStatus::Queued.as_str(), JobStatus::Paused.as_str()];
        let message = "cancelled on request before it ran";
        queue::cancel(&txn, job_id.uuid(), &waiting, message, now).await?;
        let job = get_job(&txn, job_id.uuid()).await?;
        txn.commit().await?;
        Ok(job)
    }

    async fn failures(
        &self,
        status: Option<FailureStatus>,
        offset: u64,
        limit: u64,
    ) -> Result<Page<SyncFailure>, StoreError> {
        let mut select = sync_failure::Entity::find();
        if let Some(s) = status {
            select = select.filter(sync_failure::Column::Status.eq(s.as_str()));
        }
        let select = select
            .order_by_desc(sync_failure::Column::LastFailedAt)
            .order_by_asc(sync_failure::Column::Symbol);
        page(&self.db, select, offset, limit, c::failure).await
    }

    async fn due_failures(
        &self,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<SyncFailure>, StoreError> {
        sync_failure::Entity::find()
            .filter(sync_failure::Column::Status.eq(FailureStatus::Pending.as_str()))
            .filter(sync_failure::Column::NextRetryAt.lte(now))
            .order_by_asc(sync_failure::Column::NextRetryAt)
            .limit(limit)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(c::failure)
            .collect()
    }

    async fn pending_failure_count(&self) -> Result<u64, StoreError> {
        sync_failure::Entity::find()
            .filter(sync_failure::Column::Status.eq(FailureStatus::Pending.as_str()))
            .count(&self.db)
            .await
            .map_err(db_err)
    }

    async fn claim_schedule(
        &self,
        schedule: &str,
        slot: DateTime<Utc>,
        worker: &str,
        job: NewJob,
        now: DateTime<Utc>,
    ) -> Result<Option<SyncJob>, StoreError> {
        let txn = self.write_txn().await?;
        let created = insert_job(&txn, &job, now).await?;
        let id = created.id.uuid();
        let claim = schedule_claim::Model {
            schedule_name: schedule.to_owned(),
            slot,
            job_id: id,
            claimed_by: worker.to_owned(),
            created_at: now,
        };
        let inserted = schedule_claim::Entity::insert(schedule_claim::ActiveModel::from(claim))
            .on_conflict(
                OnConflict::columns([
                    schedule_claim::Column::ScheduleName,
                    schedule_claim::Column::Slot,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(&txn)
            .await;
        match inserted {
            Ok(1) => {
                txn.commit().await?;
                Ok(Some(created))
            }
            Ok(_) | Err(sea_orm::DbErr::RecordNotInserted) => {
                txn.rollback().await?;
                Ok(None)
            }
            Err(e) => Err(db_err(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_retries_back_off_exponentially_up_to_a_day() {
        let now = Utc::now();
        let base = std::time::Duration::from_secs(60);
        assert_eq!(next_retry(base, 1, now) - now, Duration::minutes(1));
        assert_eq!(next_retry(base, 3, now) - now, Duration::minutes(4));
        assert_eq!(next_retry(base, 30, now) - now, Duration::days(1));
    }
}
