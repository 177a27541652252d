//! Research runs, their event log, results and decisions.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use stockpilot_application::RunId;
use stockpilot_application::ports::{CancelOutcome, EventDraft, Page, ResearchStore, StoreError};
use stockpilot_application::research::QUEUE_KIND;
use stockpilot_application::research::model::{
    AnalystResult, DecisionRecord, NewRun, Run, RunEvent, RunFilter, RunStatus, Usage,
};
use stockpilot_domain::market::{NewsArticle, Symbol};
use uuid::Uuid;

use super::convert as c;
use super::queue;
use super::{SeaStore, Txn, data_err, db_err, joined, page_of_jobs};
use crate::entities::{
    job, news_article, research_decision, research_event, research_result, research_run,
};

fn tokens(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl SeaStore {
    /// Appends an event within `txn`, adding `usage` to the run: bumping `last_seq` takes the
    /// run's row lock, so concurrent appends to one run are serialised on both databases.
    async fn append_in(
        txn: &Txn,
        run: Uuid,
        event: &EventDraft,
        usage: Option<&Usage>,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let mut update = research_run::Entity::update_many().col_expr(
            research_run::Column::LastSeq,
            Expr::col(research_run::Column::LastSeq).add(1),
        );
        if let Some(u) = usage {
            update = update
                .col_expr(
                    research_run::Column::PromptTokens,
                    Expr::col(research_run::Column::PromptTokens).add(tokens(u.prompt_tokens)),
                )
                .col_expr(
                    research_run::Column::CompletionTokens,
                    Expr::col(research_run::Column::CompletionTokens)
                        .add(tokens(u.completion_tokens)),
                )
                .col_expr(
                    research_run::Column::CostUsd,
                    Expr::col(research_run::Column::CostUsd).add(u.cost_usd),
                );
        }
        let updated = update
            .filter(research_run::Column::Id.eq(run))
            .exec(txn)
            .await
            .map_err(db_err)?;
        if updated.rows_affected == 0 {
            return Err(data_err(format!("research run {run} does not exist")));
        }
        let seq = research_run::Entity::find_by_id(run)
            .select_only()
            .column(research_run::Column::LastSeq)
            .into_tuple::<i64>()
            .one(txn)
            .await
            .map_err(db_err)?
            .ok_or_else(|| data_err(format!("research run {run} vanished")))?;
        let row: research_event::ActiveModel = research_event::Model {
            run_id: run,
            seq,
            kind: event.kind.to_owned(),
            data: event.data.clone(),
            created_at: now,
        }
        .into();
        row.insert(txn).await.map_err(db_err)?;
        Ok(seq)
    }

    /// Inserts `row` unless its key exists and, when it was new, appends `event` with `usage`
    /// to the run, in `txn`, which it commits (or rolls back). Returns whether it was new:
    /// results and decisions are written once.
    async fn insert_once<A>(
        txn: Txn,
        run: Uuid,
        row: A,
        key: OnConflict,
        usage: &Usage,
        event: &EventDraft,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>
    where
        A: sea_orm::ActiveModelTrait + Send,
    {
        let inserted = <A::Entity as EntityTrait>::insert(row)
            .on_conflict(key)
            .exec_without_returning(&txn)
            .await
            .map_err(db_err)?;
        if inserted == 0 {
            txn.rollback().await?;
            return Ok(false);
        }
        Self::append_in(&txn, run, event, Some(usage), now).await?;
        txn.commit().await?;
        Ok(true)
    }

    async fn get_run<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<Run>, StoreError> {
        match research_run::Entity::find_by_id(id)
            .find_also_related(job::Entity)
            .one(conn)
            .await
            .map_err(db_err)?
        {
            Some((usage, row)) => c::run(joined(row)?, usage).map(Some),
            None => Ok(None),
        }
    }
}

#[async_trait::async_trait]
impl ResearchStore for SeaStore {
    async fn create_run(&self, run: &NewRun, now: DateTime<Utc>) -> Result<Run, StoreError> {
        let symbols = format!(
            ",{},",
            run.request
                .symbols
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        );
        let txn = self.write_txn().await?;
        let request = serde_json::to_value(&run.request).map_err(data_err)?;
        let id = queue::enqueue(&txn, QUEUE_KIND, request, now).await?;
        research_run::ActiveModel::from(research_run::Model {
            id,
            as_of: run.request.as_of,
            symbols,
            prompt_tokens: 0,
            completion_tokens: 0,
            cost_usd: 0.0,
            last_seq: 0,
        })
        .insert(&txn)
        .await
        .map_err(db_err)?;
        let created = Self::get_run(&txn, id).await?;
        txn.commit().await?;
        created.ok_or_else(|| data_err(format!("research run {id} vanished")))
    }

    async fn run(&self, id: RunId) -> Result<Option<Run>, StoreError> {
        Self::get_run(&self.db, id.uuid()).await
    }

    async fn list_runs(
        &self,
        filter: &RunFilter,
        offset: u64,
        limit: u64,
    ) -> Result<Page<Run>, StoreError> {
        let mut select = research_run::Entity::find()
            .find_also_related(job::Entity)
            .order_by_desc(job::Column::CreatedAt)
            .order_by_desc(job::Column::Id);
        if let Some(status) = filter.status {
            select = select.filter(job::Column::Status.eq(status.as_str()));
        }
        if let Some(symbol) = &filter.symbol {
            select = select.filter(research_run::Column::Symbols.contains(format!(",{symbol},")));
        }
        if let Some(since) = filter.since {
            select = select.filter(
                job::Column::CreatedAt.gte(since.and_hms_opt(0, 0, 0).map(|d| d.and_utc())),
            );
        }
        if let Some(until) = filter.until {
            let next = until
                .succ_opt()
                .unwrap_or(until)
                .and_hms_opt(0, 0, 0)
                .map(|d| d.and_utc());
            select = select.filter(job::Column::CreatedAt.lt(next));
        }
        page_of_jobs(&self.db, select, offset, limit, c::run).await
    }

    async fn recover_stale(
        &self,
        stale_before: DateTime<Utc>,
        resume: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<RunId>, StoreError> {
        let txn = self.write_txn().await?;
        let mut recovered = Vec::new();
        for (id, recoveries) in queue::stale(&txn, QUEUE_KIND, stale_before).await? {
            let failed = if resume {
                match queue::recover(&txn, id, recoveries, None, now).await? {
                    queue::Recovery::Untouched => continue,
                    queue::Recovery::Requeued => None,
                    queue::Recovery::DeadLettered => Some((
                        RunStatus::Failed,
                        Self::get_run(&txn, id).await?.and_then(|r| r.error),
                    )),
                }
            } else {
                let reason = "its worker stopped and research.on_interrupted is \"mark\"";
                let running = [RunStatus::Running.as_str()];
                let status = RunStatus::Interrupted;
                let ending = queue::Ending {
                    state: status.into(),
                    message: Some(reason.to_owned()),
                    run_after: None,
                };
                let changed = queue::end(&txn, id, Some(&running), ending, now).await?;
                if !changed {
                    continue;
                }
                Some((status, Some(reason.to_owned())))
            };
            if let Some((status, reason)) = failed {
                let event = EventDraft {
                    kind: "run_failed",
                    data: serde_json::json!({"reason": reason, "status": status.as_str()}),
                };
                Self::append_in(&txn, id, &event, None, now).await?;
            }
            recovered.push(RunId::from(id));
        }
        txn.commit().await?;
        Ok(recovered)
    }

    async fn append_event(
        &self,
        id: RunId,
        event: &EventDraft,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let uuid = id.uuid();
        let txn = self.write_txn().await?;
        let seq = Self::append_in(&txn, uuid, event, None, now).await?;
        txn.commit().await?;
        Ok(seq)
    }

    async fn record_result(
        &self,
        id: RunId,
        result: &AnalystResult,
        event: &EventDraft,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let uuid = id.uuid();
        let txn = self.write_txn().await?;
        let row: research_result::ActiveModel = research_result::Model {
            run_id: uuid,
            symbol: result.symbol.to_string(),
            analyst: result.analyst.clone(),
            status: result.status.as_str().to_owned(),
            body: serde_json::to_value(result).map_err(data_err)?,
            created_at: now,
        }
        .into();
        let key = OnConflict::columns([
            research_result::Column::RunId,
            research_result::Column::Symbol,
            research_result::Column::Analyst,
        ])
        .do_nothing()
        .to_owned();
        Self::insert_once(txn, uuid, row, key, &result.usage, event, now).await
    }

    async fn record_decision(
        &self,
        id: RunId,
        decision: &DecisionRecord,
        event: &EventDraft,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let uuid = id.uuid();
        let txn = self.write_txn().await?;
        let row: research_decision::ActiveModel = research_decision::Model {
            run_id: uuid,
            symbol: decision.decision.symbol.to_string(),
            body: serde_json::to_value(decision).map_err(data_err)?,
            created_at: now,
        }
        .into();
        let key = OnConflict::columns([
            research_decision::Column::RunId,
            research_decision::Column::Symbol,
        ])
        .do_nothing()
        .to_owned();
        Self::insert_once(txn, uuid, row, key, &decision.usage, event, now).await
    }

    async fn finish(
        &self,
        id: RunId,
        status: RunStatus,
        error: Option<String>,
        event: &EventDraft,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let txn = self.write_txn().await?;
        let open = [RunStatus::Queued.as_str(), RunStatus::Running.as_str()];
        let uuid = id.uuid();
        let ending = queue::Ending {
            state: status.into(),
            message: error,
            run_after: None,
        };
        let changed = queue::end(&txn, uuid, Some(&open), ending, now).await?;
        if !changed {
            txn.rollback().await?;
            return Ok(false);
        }
        Self::append_in(&txn, uuid, event, None, now).await?;
        txn.commit().await?;
        Ok(true)
    }

    async fn request_cancel(
        &self,
        id: RunId,
        now: DateTime<Utc>,
    ) -> Result<Option<Run>, StoreError> {
        let uuid = id.uuid();
        let txn = self.write_txn().await?;
        let reason = "cancelled on request before it started";
        let waiting = [RunStatus::Queued.as_str()];
        if queue::cancel(&txn, uuid, &waiting, reason, now).await? == CancelOutcome::Ended {
            let event = EventDraft {
                kind: "run_cancelled",
                data: serde_json::json!({"reason": reason}),
            };
            Self::append_in(&txn, uuid, &event, None, now).await?;
        }
        let run = Self::get_run(&txn, uuid).await?;
        txn.commit().await?;
        Ok(run)
    }

    async fn events(&self, id: RunId, after: i64, limit: u64) -> Result<Vec<RunEvent>, StoreError> {
        let uuid = id.uuid();
        research_event::Entity::find()
            .filter(research_event::Column::RunId.eq(uuid))
            .filter(research_event::Column::Seq.gt(after))
            .order_by_asc(research_event::Column::Seq)
            .limit(limit)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|e| {
                Ok(RunEvent {
                    seq: e.seq,
                    kind: e.kind,
                    data: e.data,
                    at: e.created_at,
                })
            })
            .collect()
    }

    async fn results(&self, id: RunId) -> Result<Vec<AnalystResult>, StoreError> {
        let uuid = id.uuid();
        research_result::Entity::find()
            .filter(research_result::Column::RunId.eq(uuid))
            .order_by_asc(research_result::Column::CreatedAt)
            .order_by_asc(research_result::Column::Symbol)
            .order_by_asc(research_result::Column::Analyst)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|r| serde_json::from_value(r.body).map_err(data_err))
            .collect()
    }

    async fn decisions(&self, id: RunId) -> Result<Vec<DecisionRecord>, StoreError> {
        let uuid = id.uuid();
        research_decision::Entity::find()
            .filter(research_decision::Column::RunId.eq(uuid))
            .order_by_asc(research_decision::Column::CreatedAt)
            .order_by_asc(research_decision::Column::Symbol)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|r| serde_json::from_value(r.body).map_err(data_err))
            .collect()
    }

    async fn news(
        &self,
        symbol: &Symbol,
        since: NaiveDate,
        until: NaiveDate,
        limit: u64,
    ) -> Result<Vec<NewsArticle>, StoreError> {
        news_article::Entity::find()
            .filter(news_article::Column::Symbol.eq(symbol.to_string()))
            .filter(news_article::Column::PublishedOn.gte(since))
            .filter(news_article::Column::PublishedOn.lte(until))
            .order_by_desc(news_article::Column::PublishedOn)
            .limit(limit)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|n| {
                Ok(NewsArticle {
                    symbol: c::symbol(&n.symbol)?,
                    title: n.title,
                    source: n.source,
                    author: n.author,
                    published_on: n.published_on,
                    url: n.url,
                    sentiment: n.sentiment,
                })
            })
            .collect()
    }
}
