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
