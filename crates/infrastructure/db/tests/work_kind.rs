//! A kind of work added the short way (`queue::Work`, on the queue through `OnQueue`) runs on
//! the one `jobs` table like sync jobs and research runs: its payload goes in and comes back
//! typed, a job ends `succeeded` or `failed` with the error, a cancel ends a queued job at
//! once and a running one at its next heartbeat, shutdown hands a job back, a payload that
//! does not read fails the job, and a job whose worker keeps dying is dead-lettered. On SQLite
//! and (with `TEST_DATABASE_URL`) PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, TimeZone, Utc};
use migration::{Migrator, MigratorTrait};
use stockpilot_application::AppError;
use stockpilot_application::ports::{CancelOutcome, FixedClock, JobQueue, JobState};
use stockpilot_application::queue::{self, Claimed, OnQueue, QueueTiming, QueueWork, Work};
use stockpilot_db::SeaStore;
use stockpilot_db::testing::TestDatabase;
use uuid::Uuid;

/// Adds `amount` to a running total; refuses 13; `block` runs until stopped.
struct Tally(Arc<AtomicI64>);

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Add {
    amount: i64,
    #[serde(default)]
    block: bool,
}

#[async_trait::async_trait]
impl Work for Tally {
    const KIND: &'static str = "tally";
    type Payload = Add;

    fn timing(&self) -> QueueTiming {
        QueueTiming {
            poll_interval: StdDuration::from_millis(10),
            stale_after: StdDuration::from_millis(300),
        }
    }

    async fn run(&self, job: &Claimed<Add>) -> Result<(), AppError> {
        if job.payload.block {
            std::future::pending::<()>().await;
        }
        if job.payload.amount == 13 {
            return Err(AppError::Upstream {
                provider: "tally".into(),
                retryable: false,
                message: "refused 13".into(),
            });
        }
        self.0.fetch_add(job.payload.amount, Ordering::SeqCst);
        Ok(())
    }
}

fn at(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap() + Duration::minutes(minute)
}

struct Env {
    store: Arc<SeaStore>,
    clock: Arc<FixedClock>,
    total: Arc<AtomicI64>,
    work: OnQueue<Tally>,
    /// Dropping it drops a PostgreSQL test database.
    _db: TestDatabase,
}

impl Env {
    async fn add(&self, amount: i64, block: bool) -> Uuid {
        queue::enqueue::<Tally>(
            self.store.as_ref(),
            &Add { amount, block },
            self.clock.as_ref(),
        )
        .await
        .unwrap()
    }

    async fn state(&self, id: Uuid) -> (JobState, Option<String>) {
        let job = self.store.queued_job(id).await.unwrap().unwrap();
        assert_eq!(job.kind, "tally");
        (job.state, job.message)
    }
}

async fn envs() -> Vec<Env> {
    let mut out = Vec::new();
    for tdb in TestDatabase::all().await.unwrap() {
        let db = tdb.connect().await.unwrap();
        Migrator::up(&db, None).await.unwrap();
        let store = Arc::new(SeaStore::new(db));
        let clock = Arc::new(FixedClock::at(at(0)));
        let total = Arc::new(AtomicI64::new(0));
        let work = OnQueue::new(Tally(total.clone()), store.clone(), clock.clone());
        out.push(Env {
            store,
            clock,
            total,
            work,
            _db: tdb,
        });
    }
    out
}

#[tokio::test]
async fn jobs_run_in_order_and_end_succeeded_or_failed_with_the_error() {
    for env in envs().await {
        let two = env.add(2, false).await;
        env.clock.set(at(1));
        let refused = env.add(13, false).await;
        env.clock.set(at(2));
        let five = env.add(5, false).await;
        for _ in 0..3 {
            assert!(queue::work_once(&env.work, "w").await.unwrap());
        }
        assert!(!queue::work_once(&env.work, "w").await.unwrap());
        assert_eq!(env.total.load(Ordering::SeqCst), 7);
        assert_eq!(env.state(two).await, (JobState::Succeeded, None));
        assert_eq!(env.state(five).await, (JobState::Succeeded, None));
        assert_eq!(
            env.state(refused).await,
            (
                JobState::Failed,
                Some("upstream provider tally failed: refused 13".into())
            )
        );
        let done = env.store.queued_job(two).await.unwrap().unwrap();
        assert_eq!(
            done.payload,
            serde_json::json!({"amount": 2, "block": false})
        );
        assert_eq!((done.attempts, done.recoveries), (1, 0));
        assert!(done.finished_at.is_some());
    }
}

#[tokio::test]
async fn a_cancel_ends_a_queued_job_at_once_and_a_running_one_at_its_next_heartbeat() {
    for env in envs().await {
        let waiting = env.add(1, false).await;
        let message = "cancelled on request before it ran";
        let outcome = env
            .store
            .cancel_work(waiting, message, at(0))
            .await
            .unwrap();
        assert_eq!(outcome, CancelOutcome::Ended);
        assert!(!queue::work_once(&env.work, "w").await.unwrap());
        assert_eq!(env.total.load(Ordering::SeqCst), 0);
        assert_eq!(
            env.state(waiting).await,
            (JobState::Cancelled, Some(message.into()))
        );

        let running = env.add(1, true).await;
        let job = env.work.claim("w").await.unwrap().unwrap();
        assert_eq!((job.id, job.attempt), (running, 1));
        let outcome = env
            .store
            .cancel_work(running, message, at(0))
            .await
            .unwrap();
        assert_eq!(outcome, CancelOutcome::Flagged);
        let (_stop, mut shutdown) = tokio::sync::watch::channel(false);
        assert!(queue::drive(&env.work, &job, "w", &mut shutdown).await);
        assert_eq!(
            env.state(running).await,
            (
                JobState::Cancelled,
                Some("cancelled on request while it ran".into())
            )
        );
        let ended = env
            .store
            .cancel_work(running, message, at(0))
            .await
            .unwrap();
        assert_eq!(ended, CancelOutcome::Untouched);
    }
}

#[tokio::test]
async fn shutdown_hands_a_running_job_back_and_the_next_claim_runs_it_again() {
    for env in envs().await {
        let id = env.add(1, true).await;
        let job = env.work.claim("w1").await.unwrap().unwrap();
        let (stop, mut shutdown) = tokio::sync::watch::channel(false);
        stop.send(true).unwrap();
        assert!(!queue::drive(&env.work, &job, "w1", &mut shutdown).await);
        assert_eq!(
            env.state(id).await,
            (
                JobState::Queued,
                Some("interrupted by shutdown; runs again".into())
            )
        );
        let again = env.work.claim("w2").await.unwrap().unwrap();
        assert_eq!((again.id, again.attempt), (id, 2));
        assert_eq!(
            again.payload,
            Add {
                amount: 1,
                block: true
            }
        );
    }
}

#[tokio::test]
async fn a_payload_that_does_not_read_fails_its_job_saying_so() {
    for env in envs().await {
        let id = env
            .store
            .enqueue("tally", serde_json::json!({"amount": "two"}), at(0))
            .await
            .unwrap();
        assert!(!queue::work_once(&env.work, "w").await.unwrap());
        let (state, message) = env.state(id).await;
        assert_eq!(state, JobState::Failed);
        let message = message.unwrap();
        assert!(
            message.starts_with("its payload is not a valid tally payload: "),
            "{message}"
        );
        // Other kinds' jobs are not this kind's.
        assert!(env.work.claim("w").await.unwrap().is_none());
    }
}

#[tokio::test]
async fn a_job_whose_worker_keeps_dying_is_queued_again_then_dead_lettered() {
    for env in envs().await {
        let id = env.add(1, false).await;
        let mut now = at(0);
        for recovery in 1..=5 {
            env.clock.set(now);
            let job = env.work.claim("w").await.unwrap();
            assert_eq!(job.map(|j| j.attempt), Some(recovery), "claim {recovery}");
            // The worker dies: no heartbeat for longer than the stale limit.
            now += Duration::minutes(2);
            env.clock.set(now);
            env.work.recover().await.unwrap();
            let (state, message) = env.state(id).await;
            if recovery < 5 {
                assert_eq!(state, JobState::Queued);
                assert_eq!(message.as_deref(), Some("its worker stopped; queued again"));
                // Past the longest backoff so far.
                now += Duration::minutes(11);
            } else {
                assert_eq!(state, JobState::Failed);
                assert_eq!(
                    message.as_deref(),
                    Some("gave up: its worker stopped 5 times")
                );
            }
        }
        assert!(env.work.claim("w").await.unwrap().is_none());
        assert_eq!(env.total.load(Ordering::SeqCst), 0);
    }
}
