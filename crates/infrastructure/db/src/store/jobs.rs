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
    BatchCommit, FailureStatus, JobStatus, NewJob, SyncFailure, SyncJob,
};
use uuid::Uuid;

use super::convert as c;
use super::queue;
use super::{SeaStore, data_err, db_err, page, upsert_batch};
use crate::entities::{schedule_claim, sync_failure, sync_job};

fn new_job_row(job: &NewJob, now: DateTime<Utc>) -> Result<sync_job::ActiveModel, StoreError> {
    Ok(sync_job::Model {
        id: Uuid::now_v7(),
        kind: job.kind.as_str().to_owned(),
        provider: job.provider.clone(),
        status: JobStatus::Queued.as_str().to_owned(),
        params: serde_json::to_value(&job.params).map_err(data_err)?,
        cursor: 0,
        total: i32::try_from(job.total).unwrap_or(i32::MAX),
        rows_written: 0,
        symbols_failed: 0,
        message: None,
        schedule_name: job.schedule_name.clone(),
        cancel_requested: false,
        claimed_by: None,
        heartbeat_at: None,
        resume_after: None,
        created_at: now,
        started_at: None,
        finished_at: None,
        updated_at: now,
        attempts: 0,
        recoveries: 0,
    }
    .into())
}

async fn insert_job<C: ConnectionTrait>(
    conn: &C,
    job: &NewJob,
    now: DateTime<Utc>,
) -> Result<SyncJob, StoreError> {
    let model = new_job_row(job, now)?.insert(conn).await.map_err(db_err)?;
    c::job(model)
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
        insert_job(&self.db, &job, now).await
    }

    async fn job(&self, id: JobId) -> Result<Option<SyncJob>, StoreError> {
        let uuid = id.uuid();
        sync_job::Entity::find_by_id(uuid)
            .one(&self.db)
            .await
            .map_err(db_err)?
            .map(c::job)
            .transpose()
    }

    async fn list_jobs(
        &self,
        status: Option<JobStatus>,
        offset: u64,
        limit: u64,
    ) -> Result<Page<SyncJob>, StoreError> {
        let mut select = sync_job::Entity::find();
        if let Some(s) = status {
            select = select.filter(sync_job::Column::Status.eq(s.as_str()));
        }
        let select = select.order_by_desc(sync_job::Column::CreatedAt);
        page(&self.db, select, offset, limit, c::job).await
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
            .col_expr(sync_job::Column::HeartbeatAt, Expr::value(now))
            .col_expr(sync_job::Column::UpdatedAt, Expr::value(now))
            .filter(sync_job::Column::Id.eq(uuid))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        let cancel = sync_job::Entity::find_by_id(uuid)
            .one(&txn)
            .await
            .map_err(db_err)?
            .is_some_and(|j| j.cancel_requested);
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
            status: status.as_str(),
            message,
            run_after: resume_after,
            finished: status.is_final(),
        };
        queue::end::<sync_job::Entity>(&self.db, job_id.uuid(), None, ending, now).await?;
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
        queue::cancel::<sync_job::Entity>(&txn, job_id.uuid(), &waiting, message, now).await?;
        let job = sync_job::Entity::find_by_id(job_id.uuid())
            .one(&txn)
            .await
            .map_err(db_err)?;
        txn.commit().await?;
        job.map(c::job).transpose()
    }

    async fn requeue_stale(
        &self,
        stale_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let txn = self.write_txn().await?;
        let message = "its worker stopped; resumed from the last committed batch";
        let mut recovered = 0;
        for (id, recoveries) in queue::stale::<sync_job::Entity>(&txn, stale_before).await? {
            let outcome =
                queue::recover::<sync_job::Entity>(&txn, id, recoveries, Some(message), now)
                    .await?;
            if outcome != queue::Recovery::Untouched {
                recovered += 1;
            }
        }
        txn.commit().await?;
        Ok(recovered)
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
