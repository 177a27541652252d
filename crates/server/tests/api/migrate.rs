//! `stockpilot migrate` actions on both databases.

use stockpilot_db::testing::TestDatabase;
use stockpilot_server::cli::MigrateAction;
use stockpilot_server::run_migrate_on;

fn up(target: &str) -> MigrateAction {
    MigrateAction::Upgrade {
        target: target.into(),
    }
}

fn down(target: &str) -> MigrateAction {
    MigrateAction::Downgrade {
        target: target.into(),
    }
}

#[tokio::test]
async fn migrate_commands_behave_alike_on_every_database() {
    let head = migration::ops::heads()[0];
    let count = migration::REVISIONS.len();
    for tdb in TestDatabase::all().await.unwrap() {
        let db = tdb.connect().await.unwrap();
        let run = |a: MigrateAction| {
            let db = db.clone();
            async move { run_migrate_on(&db, &a).await.unwrap() }
        };
        assert_eq!(
            run(MigrateAction::Current).await,
            ["base (no revision applied)"]
        );
        let history = run(MigrateAction::History).await;
        assert_eq!(history.len(), count);
        assert!(
            history.iter().all(|l| l.starts_with("pending")),
            "{history:?}"
        );

        let applied = run(up("head")).await;
        assert_eq!(applied.len(), count, "{:?}", tdb.backend);
        assert_eq!(
            run(up("head")).await,
            ["nothing to upgrade; the database is already at the target"]
        );
        assert_eq!(
            run(MigrateAction::Current).await,
            [format!("{head} (head)")]
        );
        assert!(
            run(MigrateAction::History)
                .await
                .iter()
                .all(|l| l.starts_with("applied"))
        );

        assert_eq!(run(down("-1")).await, [format!("reverted {head}")]);
        assert_eq!(run(up("+1")).await, [format!("applied {head}")]);
        assert_eq!(run(down("base")).await.len(), count);
        assert_eq!(
            run(MigrateAction::Current).await,
            ["base (no revision applied)"]
        );

        assert_eq!(
            run(up(head)).await.len(),
            count,
            "upgrade to a named revision"
        );

        let stamped = run(MigrateAction::Stamp {
            revision: "base".into(),
        })
        .await;
        assert_eq!(
            stamped,
            ["stamped the database at base (no revision recorded as applied)"]
        );
        assert_eq!(
            run(MigrateAction::Current).await,
            ["base (no revision applied)"]
        );
        run(MigrateAction::Stamp {
            revision: "head".into(),
        })
        .await;
        assert_eq!(
            run(MigrateAction::Current).await,
            [format!("{head} (head)")]
        );

        let err = run_migrate_on(&db, &up("m1999_nope")).await.unwrap_err();
        assert!(
            err.to_string()
                .starts_with("unknown revision 'm1999_nope'; known revisions: "),
            "{err}"
        );
        let err = run_migrate_on(&db, &down("-0")).await.unwrap_err();
        assert!(err.to_string().contains("positive whole number"), "{err}");
        db.close().await.unwrap();
    }
}

/// Three replicas start at once on an empty PostgreSQL database, five times over: all come
/// up, exactly one applies the revisions (under the advisory lock), and the schema is at head.
#[tokio::test]
async fn replicas_starting_together_on_an_empty_postgres_database_all_come_up() {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        return; // PostgreSQL only (make test-all); SQLite has one writer by design.
    }
    stockpilot_server::install_crypto_provider();
    for round in 0..5 {
        let db = TestDatabase::postgres().await.unwrap().unwrap();
        let configs: Vec<_> = (0..3)
            .map(|_| crate::helpers::config_for(&db.url, &[]))
            .collect();
        let (a, b, c) = tokio::join!(
            stockpilot_server::Application::build(&configs[0].0),
            stockpilot_server::Application::build(&configs[1].0),
            stockpilot_server::Application::build(&configs[2].0),
        );
        let apps: Vec<_> = [a, b, c]
            .into_iter()
            .enumerate()
            .map(|(i, r)| r.unwrap_or_else(|e| panic!("round {round}, replica {i}: {e:#}")))
            .collect();
        let conn = db.connect().await.unwrap();
        assert_eq!(
            migration::ops::current(&conn).await.unwrap(),
            Some(migration::ops::heads()[0]),
            "round {round}"
        );
        use sea_orm::ConnectionTrait;
        let applied: u64 = conn
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Postgres,
                "SELECT COUNT(*) AS n FROM seaql_migrations",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap()
            .try_into()
            .unwrap();
        assert_eq!(
            applied as usize,
            migration::REVISIONS.len(),
            "round {round}"
        );
        drop(apps);
    }
}
