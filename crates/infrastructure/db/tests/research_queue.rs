//! Research runs on the job queue: a run whose worker keeps dying is recovered with backoff and
//! dead-lettered the fifth time, with the `run_failed` event its stream ends on; on SQLite and
//! (with `TEST_DATABASE_URL`) PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use migration::{Migrator, MigratorTrait};
use stockpilot_application::ports::ResearchStore;
use stockpilot_application::research::model::{NewRun, RunRequest, RunStatus};
use stockpilot_db::SeaStore;
use stockpilot_db::testing::TestDatabase;
use stockpilot_domain::market::Symbol;

fn at(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap() + Duration::minutes(minute)
}

#[tokio::test]
async fn a_run_whose_worker_keeps_dying_backs_off_then_fails_with_its_event() {
    for tdb in TestDatabase::all().await.unwrap() {
        let db = tdb.connect().await.unwrap();
        Migrator::up(&db, None).await.unwrap();
        let store = SeaStore::new(db.clone());
        let request = RunRequest {
            symbols: vec![Symbol::parse("AAPL").unwrap()],
            analysts: vec!["technical".into()],
            as_of: chrono::NaiveDate::from_ymd_opt(2012, 12, 31).unwrap(),
            as_of_given: true,
            llm_provider: None,
            debate_rounds: 0,
            max_tokens: 1000,
        };
        let run = store.create_run(&NewRun { request }, at(0)).await.unwrap();
        let mut now = at(0);
        for recovery in 1..=5 {
            let claimed = store.claim(None, "w", now).await.unwrap();
            assert_eq!(claimed.map(|r| r.id), Some(run.id), "claim {recovery}");
            now += Duration::minutes(5);
            let recovered = store
                .recover_stale(now - Duration::minutes(1), true, now)
                .await
                .unwrap();
            assert_eq!(recovered, vec![run.id]);
            let stored = store.run(run.id).await.unwrap().unwrap();
            if recovery < 5 {
                assert_eq!((stored.status, stored.error), (RunStatus::Queued, None));
                if recovery >= 2 {
                    assert!(store.claim(None, "w", now).await.unwrap().is_none());
                    now += Duration::minutes(10);
                }
            } else {
                assert_eq!(stored.status, RunStatus::Failed);
                let reason = "gave up: its worker stopped 5 times";
                assert_eq!(stored.error.as_deref(), Some(reason));
                assert_eq!(stored.attempts, 5);
                let events = store.events(run.id, 0, 100).await.unwrap();
                let last = events.last().unwrap();
                assert_eq!(last.kind, "run_failed");
                assert_eq!(last.data["reason"], reason);
                assert_eq!(last.data["status"], "failed");
                assert!(store.claim(None, "w", now).await.unwrap().is_none());
            }
        }
        db.close().await.unwrap();
    }
}
