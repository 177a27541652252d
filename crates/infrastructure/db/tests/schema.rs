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
    financial_statement, insider_trade, instrument, llm_provider, llm_usage, news_article,
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

        Migrator::down(&db, None).await.unwrap();
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
