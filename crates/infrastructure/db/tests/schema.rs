//! Migrations against entities, on SQLite and (with `TEST_DATABASE_URL`) PostgreSQL:
//! upgrade head → downgrade base → upgrade head, and after each upgrade every entity's
//! columns are exactly the table's columns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityName, EntityTrait, Iterable, Statement};
use stockpilot_db::Backend;
use stockpilot_db::entities::{
    adjustment_factor, api_key, audit_entry, daily_bar, daily_valuation, financial_indicator,
    financial_statement, insider_trade, instrument, job, llm_provider, llm_usage, news_article,
    research_decision, research_event, research_result, research_run, schedule_claim, sync_failure,
    sync_job, trading_day,
};
use stockpilot_db::testing::TestDatabase;

async fn table_columns(db: &DatabaseConnection, backend: Backend, table: &str) -> BTreeSet<String> {
    let sql = match backend {
        Backend::Sqlite => format!("SELECT name AS column_name FROM pragma_table_info('{table}')"),
        Backend::Postgres => format!(
            "SELECT column_name::text AS column_name FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = '{table}'"
        ),
    };
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.try_get::<String>("", "column_name").unwrap())
        .collect()
}

fn entity_columns<E: EntityTrait>() -> BTreeSet<String> {
    use sea_orm::IdenStatic;
    E::Column::iter().map(|c| c.as_str().to_owned()).collect()
}

async fn assert_schema_matches_entities(db: &DatabaseConnection, backend: Backend) {
    macro_rules! check {
        ($($module:ident),*) => {$(
            let table = $module::Entity.table_name();
            let in_db = table_columns(db, backend, table).await;
            assert_eq!(in_db, entity_columns::<$module::Entity>(), "{backend:?}: table {table}");
            // A full-width SELECT through the entity also proves the column types decode.
            $module::Entity::find().all(db).await.unwrap();
        )*};
    }
    check!(
        instrument,
        trading_day,
        daily_bar,
        adjustment_factor,
        daily_valuation,
        financial_statement,
        financial_indicator,
        news_article,
        insider_trade,
        job,
        sync_job,
        sync_failure,
        schedule_claim,
        llm_provider,
        llm_usage,
        research_run,
        research_event,
        research_result,
        research_decision,
        api_key,
        audit_entry
    );
}

async fn user_tables(db: &DatabaseConnection, backend: Backend) -> BTreeSet<String> {
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                .to_owned()
        }
        Backend::Postgres => {
            "SELECT tablename::text AS t FROM pg_tables WHERE schemaname = current_schema()"
                .to_owned()
        }
    };
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.try_get::<String>("", "t").unwrap())
        .collect()
}

#[tokio::test]
async fn upgrade_downgrade_upgrade_round_trip_keeps_schema_and_entities_in_step() {
    for tdb in TestDatabase::all().await.unwrap() {
        let db = tdb.connect().await.unwrap();
        Migrator::up(&db, None).await.unwrap();
        assert_schema_matches_entities(&db, tdb.backend).await;

        // As `stockpilot migrate downgrade base` does it.
        migration::ops::downgrade(&db, &migration::ops::DowngradeTarget::Base)
            .await
            .unwrap();
        let left: Vec<String> = user_tables(&db, tdb.backend)
            .await
            .into_iter()
            .filter(|t| t != "seaql_migrations")
            .collect();
        assert!(
            left.is_empty(),
            "{:?}: every down removes what its up created, left {left:?}",
            tdb.backend
        );

        Migrator::up(&db, None).await.unwrap();
        assert_schema_matches_entities(&db, tdb.backend).await;
        assert!(
            Migrator::get_pending_migrations(&db)
                .await
                .unwrap()
                .is_empty()
        );
        db.close().await.unwrap();
    }
}

/// Jobs and runs written by the release before the queue revision (its columns only) read the
/// same after it, and the queue takes them on: the new counters start at 0.
#[tokio::test]
async fn jobs_and_runs_stored_before_the_queue_revision_read_the_same_and_run_on_it() {
    use chrono::{DateTime, TimeZone, Utc};
    use sea_orm::Value;
    use stockpilot_application::ports::{ResearchStore, SyncJobStore};
    use stockpilot_application::research::model::RunStatus;
    use stockpilot_application::sync::{JobKind, JobStatus};
    use stockpilot_application::{JobId, RunId};
    use uuid::Uuid;

    let at = |h: u32| -> DateTime<Utc> { Utc.with_ymd_and_hms(2026, 12, 6, h, 0, 0).unwrap() };
    let job_id = Uuid::from_u128(0x0194_f0a0_0000_7000_8000_0000_0000_0001);
    let run_id = Uuid::from_u128(0x0194_f0a0_0000_7000_8000_0000_0000_0002);
    for tdb in TestDatabase::all().await.unwrap() {
        let db = tdb.connect().await.unwrap();
        let before_queue = migration::REVISIONS
            .iter()
            .position(|r| r.id == "m20261207_000008_queue_lifecycle")
            .unwrap();
        Migrator::up(&db, Some(u32::try_from(before_queue).unwrap()))
            .await
            .unwrap();
        let backend = db.get_database_backend();
        let params = serde_json::json!({"market": "US", "symbols": ["AAPL", "MSFT"], "start": null,
            "end": null, "batch_size": 1, "limit_days": 0, "retry": []});
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            match tdb.backend {
                Backend::Postgres => {
                    "INSERT INTO sync_jobs (id, kind, provider, status, params, \
                    cursor, total, rows_written, symbols_failed, message, schedule_name, \
                    cancel_requested, claimed_by, heartbeat_at, resume_after, created_at, \
                    started_at, finished_at, updated_at) VALUES ($1, 'daily_history', 'csv', \
                    'paused', $2, 1, 2, 250, 0, 'daily quota reached', NULL, false, NULL, $3, \
                    $4, $5, $3, NULL, $3)"
                }
                Backend::Sqlite => {
                    "INSERT INTO sync_jobs (id, kind, provider, status, params, \
                    cursor, total, rows_written, symbols_failed, message, schedule_name, \
                    cancel_requested, claimed_by, heartbeat_at, resume_after, created_at, \
                    started_at, finished_at, updated_at) VALUES (?, 'daily_history', 'csv', \
                    'paused', ?, 1, 2, 250, 0, 'daily quota reached', NULL, false, NULL, ?, \
                    ?, ?, ?, NULL, ?)"
                }
            },
            match tdb.backend {
                Backend::Postgres => vec![
                    Value::from(job_id),
                    Value::from(params.clone()),
                    Value::from(at(9)),
                    Value::from(at(10)),
                    Value::from(at(8)),
                ],
                Backend::Sqlite => vec![
                    Value::from(job_id),
                    Value::from(params.clone()),
                    Value::from(at(9)),
                    Value::from(at(10)),
                    Value::from(at(8)),
                    Value::from(at(9)),
                    Value::from(at(9)),
                ],
            },
        ))
        .await
        .unwrap();
        let request = serde_json::json!({"symbols": ["AAPL"], "analysts": ["technical"],
            "as_of": "2012-12-31", "as_of_given": true, "llm_provider": null,
            "debate_rounds": 0, "max_tokens": 1000});
        let n: fn(usize) -> String = match tdb.backend {
            Backend::Postgres => |i| format!("${i}"),
            Backend::Sqlite => |_| "?".to_owned(),
        };
        let p = n(1);
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "INSERT INTO research_runs (id, status, request, as_of, symbols, error, \
                 cancel_requested, claimed_by, attempts, prompt_tokens, completion_tokens, \
                 cost_usd, last_seq, created_at, started_at, finished_at, heartbeat_at, \
                 updated_at) VALUES ({p}, 'queued', {}, {}, ',AAPL,', NULL, false, NULL, 1, 0, \
                 0, 0.0, 3, {}, NULL, NULL, NULL, {})",
                n(2),
                n(3),
                n(4),
                n(5)
            ),
            [
                Value::from(run_id),
                Value::from(request),
                Value::from(chrono::NaiveDate::from_ymd_opt(2012, 12, 31).unwrap()),
                Value::from(at(7)),
                Value::from(at(7)),
            ],
        ))
        .await
        .unwrap();

        Migrator::up(&db, None).await.unwrap();
        let store = stockpilot_db::SeaStore::new(db.clone());
        let job = store.job(JobId::from(job_id)).await.unwrap().unwrap();
        assert_eq!(job.kind, JobKind::DailyHistory);
        assert_eq!(job.status, JobStatus::Paused);
        assert_eq!((job.cursor, job.total, job.rows_written), (1, 2, 250));
        assert_eq!(job.message.as_deref(), Some("daily quota reached"));
        assert_eq!(job.resume_after, Some(at(10)));
        assert_eq!(serde_json::to_value(&job.params).unwrap(), params);
        let run = store.run(RunId::from(run_id)).await.unwrap().unwrap();
        assert_eq!((run.status, run.attempts), (RunStatus::Queued, 1));
        assert_eq!(
            serde_json::to_value(&run.request).unwrap()["max_tokens"],
            1000
        );

        // The queue takes both on: the paused job only after its resume time.
        assert!(store.claim_next("w", at(9)).await.unwrap().is_none());
        let resumed = store.claim_next("w", at(11)).await.unwrap().unwrap();
        assert_eq!(
            (resumed.id, resumed.status, resumed.cursor),
            (job.id, JobStatus::Running, 1)
        );
        let claimed = store.claim(None, "w", at(11)).await.unwrap().unwrap();
        assert_eq!((claimed.id, claimed.attempts), (run.id, 2));
        db.close().await.unwrap();
    }
}

/// Every column of `table` as text (JSON columns parsed), rows ordered by id.
async fn table_rows(
    db: &DatabaseConnection,
    table: &str,
    columns: &[&str],
    json: &[&str],
) -> Vec<Vec<serde_json::Value>> {
    let sqlite = db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite;
    let select = columns
        .iter()
        // SQLite keeps UUIDs as blobs: `quote` shows any value as text.
        .map(|c| match sqlite && !json.contains(c) {
            true => format!("quote({c}) AS {c}"),
            false => format!("CAST({c} AS TEXT) AS {c}"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!("SELECT {select} FROM {table} ORDER BY id");
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            columns
                .iter()
                .map(|c| match r.try_get::<Option<String>>("", c).unwrap() {
                    None => serde_json::Value::Null,
                    Some(text) if json.contains(c) => serde_json::from_str(&text).unwrap(),
                    Some(text) => serde_json::Value::String(text),
                })
                .collect()
        })
        .collect()
}

/// Jobs and runs of the release before the one jobs table, in every state it has (running
/// and claimed, cancel asked, recovered, ended), move to `jobs` and read the same through the
/// store; downgrading puts every value back in its column unchanged.
#[tokio::test]
async fn jobs_and_runs_move_to_the_jobs_table_and_back_unchanged() {
    use chrono::{DateTime, TimeZone, Utc};
    use sea_orm::Value;
    use stockpilot_application::ports::{ResearchStore, SyncJobStore};
    use stockpilot_application::research::model::RunStatus;
    use stockpilot_application::sync::{JobKind, JobStatus};
    use stockpilot_application::{JobId, RunId};
    use uuid::Uuid;

    const SYNC_COLUMNS: &[&str] = &[
        "id",
        "kind",
        "provider",
        "status",
        "params",
        "cursor",
        "total",
        "rows_written",
        "symbols_failed",
        "message",
        "schedule_name",
        "cancel_requested",
        "claimed_by",
        "heartbeat_at",
        "resume_after",
        "created_at",
        "started_at",
        "finished_at",
        "updated_at",
        "attempts",
        "recoveries",
    ];
    const RUN_COLUMNS: &[&str] = &[
        "id",
        "status",
        "request",
        "as_of",
        "symbols",
        "error",
        "cancel_requested",
        "claimed_by",
        "attempts",
        "prompt_tokens",
        "completion_tokens",
        "cost_usd",
        "last_seq",
        "created_at",
        "started_at",
        "finished_at",
        "heartbeat_at",
        "updated_at",
        "run_after",
        "recoveries",
    ];
    let at = |h: u32| -> DateTime<Utc> { Utc.with_ymd_and_hms(2026, 12, 7, h, 0, 0).unwrap() };
    let running = Uuid::from_u128(0x0195_0000_0000_7000_8000_0000_0000_0001);
    let ended = Uuid::from_u128(0x0195_0000_0000_7000_8000_0000_0000_0002);
    let run_id = Uuid::from_u128(0x0195_0000_0000_7000_8000_0000_0000_0003);
    let params = serde_json::json!({"market": "US", "symbols": ["AAPL"], "start": "2012-01-03",
        "end": null, "batch_size": 50, "limit_days": 0, "retry": []});
    let request = serde_json::json!({"symbols": ["AAPL", "MSFT"], "analysts": ["technical"],
        "as_of": "2012-12-31", "as_of_given": true, "llm_provider": null,
        "debate_rounds": 0, "max_tokens": 1000});
    for tdb in TestDatabase::all().await.unwrap() {
        let db = tdb.connect().await.unwrap();
        let before = migration::REVISIONS
            .iter()
            .position(|r| r.id == "m20261207_000009_one_jobs_table")
            .unwrap();
        Migrator::up(&db, Some(u32::try_from(before).unwrap()))
            .await
            .unwrap();
        let backend = db.get_database_backend();
        let marks = |n: usize| -> String {
            (1..=n)
                .map(|i| match tdb.backend {
                    Backend::Postgres => format!("${i}"),
                    Backend::Sqlite => "?".to_owned(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let none_ts = || Value::from(Option::<DateTime<Utc>>::None);
        let none_text = || Value::from(Option::<String>::None);
        let sync_rows: [Vec<Value>; 2] = [
            vec![
                running.into(),
                "daily_history".into(),
                "csv".into(),
                "running".into(),
                params.clone().into(),
                3.into(),
                10.into(),
                1200i64.into(),
                1.into(),
                "its worker stopped; resumed from the last committed batch".into(),
                "nightly".into(),
                true.into(),
                "api-1".into(),
                at(9).into(),
                none_ts(),
                at(7).into(),
                at(8).into(),
                none_ts(),
                at(9).into(),
                2.into(),
                1.into(),
            ],
            vec![
                ended.into(),
                "instruments".into(),
                "tushare".into(),
                "paused".into(),
                serde_json::json!({"market": "CN", "symbols": [], "start": null, "end": null,
                    "batch_size": 1, "limit_days": 0, "retry": []})
                .into(),
                0.into(),
                1.into(),
                0i64.into(),
                0.into(),
                "daily quota reached".into(),
                none_text(),
                false.into(),
                none_text(),
                none_ts(),
                at(12).into(),
                at(6).into(),
                at(6).into(),
                none_ts(),
                at(6).into(),
                1.into(),
                0.into(),
            ],
        ];
        for row in sync_rows {
            let sql = format!(
                "INSERT INTO sync_jobs ({}) VALUES ({})",
                SYNC_COLUMNS.join(", "),
                marks(SYNC_COLUMNS.len())
            );
            db.execute_raw(Statement::from_sql_and_values(backend, sql, row))
                .await
                .unwrap();
        }
        let run_row: Vec<Value> = vec![
            run_id.into(),
            "failed".into(),
            request.clone().into(),
            chrono::NaiveDate::from_ymd_opt(2012, 12, 31)
                .unwrap()
                .into(),
            ",AAPL,MSFT,".into(),
            "gave up: its worker stopped 5 times".into(),
            false.into(),
            none_text(),
            5.into(),
            120i64.into(),
            30i64.into(),
            0.0042f64.into(),
            5i64.into(),
            at(5).into(),
            at(5).into(),
            at(10).into(),
            at(9).into(),
            at(10).into(),
            at(11).into(),
            5.into(),
        ];
        let sql = format!(
            "INSERT INTO research_runs ({}) VALUES ({})",
            RUN_COLUMNS.join(", "),
            marks(RUN_COLUMNS.len())
        );
        db.execute_raw(Statement::from_sql_and_values(backend, sql, run_row))
            .await
            .unwrap();
        let jobs_before = table_rows(&db, "sync_jobs", SYNC_COLUMNS, &["params"]).await;
        let runs_before = table_rows(&db, "research_runs", RUN_COLUMNS, &["request"]).await;

        Migrator::up(&db, None).await.unwrap();
        let store = stockpilot_db::SeaStore::new(db.clone());
        let job = store.job(JobId::from(running)).await.unwrap().unwrap();
        assert_eq!(
            (job.kind, job.status, job.provider.as_str()),
            (JobKind::DailyHistory, JobStatus::Running, "csv")
        );
        assert_eq!(
            (job.cursor, job.total, job.rows_written, job.symbols_failed),
            (3, 10, 1200, 1)
        );
        assert_eq!(job.schedule_name.as_deref(), Some("nightly"));
        assert!(job.cancel_requested);
        assert_eq!(
            (job.created_at, job.started_at, job.updated_at),
            (at(7), Some(at(8)), at(9))
        );
        assert_eq!(serde_json::to_value(&job.params).unwrap(), params);
        let paused = store.job(JobId::from(ended)).await.unwrap().unwrap();
        assert_eq!(
            (paused.kind, paused.status, paused.resume_after),
            (JobKind::Instruments, JobStatus::Paused, Some(at(12)))
        );
        assert_eq!(paused.message.as_deref(), Some("daily quota reached"));
        let page = store.list_jobs(None, 0, 10).await.unwrap();
        assert_eq!(
            page.items.iter().map(|j| j.id).collect::<Vec<_>>(),
            [JobId::from(running), JobId::from(ended)],
            "newest first"
        );
        let run = store.run(RunId::from(run_id)).await.unwrap().unwrap();
        assert_eq!((run.status, run.attempts), (RunStatus::Failed, 5));
        assert_eq!(
            run.error.as_deref(),
            Some("gave up: its worker stopped 5 times")
        );
        assert_eq!((run.prompt_tokens, run.completion_tokens), (120, 30));
        assert!((run.cost_usd - 0.0042).abs() < 1e-12);
        assert_eq!(
            (run.finished_at, run.heartbeat_at),
            (Some(at(10)), Some(at(9)))
        );
        assert_eq!(serde_json::to_value(&run.request).unwrap(), request);

        migration::ops::downgrade(&db, &migration::ops::DowngradeTarget::Steps(1))
            .await
            .unwrap();
        assert_eq!(
            table_rows(&db, "sync_jobs", SYNC_COLUMNS, &["params"]).await,
            jobs_before
        );
        assert_eq!(
            table_rows(&db, "research_runs", RUN_COLUMNS, &["request"]).await,
            runs_before
        );
        db.close().await.unwrap();
    }
}
