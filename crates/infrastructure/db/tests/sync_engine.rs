//! The sync engine over the real store, on SQLite and (with `TEST_DATABASE_URL`) PostgreSQL,
//! with a scripted provider standing in for the network.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use migration::{Migrator, MigratorTrait};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, Statement};
use stockpilot_application::ports::{
    Clock, Dataset, FixedClock, MarketDataSource, MarketDataStore, SourceError, SyncJobStore,
};
use stockpilot_application::sync::{
    CronSchedule, FailureStatus, JobKind, JobRequest, JobStatus, Schedule, Scheduler, Sources,
    SyncService, SyncSettings,
};
use stockpilot_db::SeaStore;
use stockpilot_db::testing::TestDatabase;
use stockpilot_domain::market::{
    AdjustmentFactor, DailyBar, DailyValuation, DateRange, Exchange, FinancialIndicators,
    FinancialStatement, Instrument, Market, ReportPeriod, StatementKind, Symbol, TradingDay,
};
use tokio::sync::Notify;

const BARS_PER_SYMBOL: usize = 100;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn sym(s: &str) -> Symbol {
    Symbol::parse(s).unwrap()
}

fn bars(symbol: &Symbol, range: DateRange) -> Vec<DailyBar> {
    let start = NaiveDate::from_ymd_opt(2010, 1, 1).unwrap();
    (0..BARS_PER_SYMBOL)
        .map(|i| {
            let px = Decimal::new(10_000 + i as i64, 2);
            DailyBar {
                symbol: symbol.clone(),
                trade_date: start + chrono::Duration::days(i as i64),
                open: px,
                high: px + Decimal::ONE,
                low: px - Decimal::ONE,
                close: px,
                pre_close: None,
                change: None,
                pct_change: None,
                volume: Decimal::from(1000 + i as i64),
                amount: None,
            }
        })
        .filter(|b| range.contains(b.trade_date))
        .collect()
}

/// What the scripted provider answers for a symbol.
#[derive(Clone)]
enum Script {
    Bars,
    Fail(SourceError),
    /// Blocks forever after announcing it was reached (the "kill" point).
    Hang,
}

struct ScriptedSource {
    scripts: Mutex<HashMap<String, Script>>,
    calls: Mutex<Vec<String>>,
    reached_hang: Arc<Notify>,
}

impl ScriptedSource {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            scripts: Mutex::default(),
            calls: Mutex::default(),
            reached_hang: Arc::new(Notify::new()),
        })
    }
    fn script(&self, symbol: &str, s: Script) {
        self.scripts.lock().unwrap().insert(symbol.into(), s);
    }
    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl MarketDataSource for ScriptedSource {
    fn provider(&self) -> &'static str {
        "scripted"
    }
    fn markets(&self) -> &'static [Market] {
        &[Market::Us]
    }
    fn datasets(&self) -> &'static [stockpilot_application::ports::Dataset] {
        stockpilot_application::ports::Dataset::ALL
    }
    async fn instruments(&self, _m: Market) -> Result<Vec<Instrument>, SourceError> {
        Ok(["AAA", "BBB"]
            .iter()
            .map(|s| Instrument::new(sym(s), format!("{s} Corp")))
            .collect())
    }
    async fn trading_calendar(
        &self,
        _e: Exchange,
        _r: DateRange,
    ) -> Result<Vec<TradingDay>, SourceError> {
        Ok(Vec::new())
    }
    async fn daily_bars(
        &self,
        symbol: &Symbol,
        range: DateRange,
    ) -> Result<Vec<DailyBar>, SourceError> {
        self.calls.lock().unwrap().push(symbol.to_string());
        let script = self
            .scripts
            .lock()
            .unwrap()
            .get(symbol.as_str())
            .cloned()
            .unwrap_or(Script::Bars);
        match script {
            Script::Bars => Ok(bars(symbol, range)),
            Script::Fail(e) => Err(e),
            Script::Hang => {
                self.reached_hang.notify_one();
                std::future::pending().await
            }
        }
    }
    async fn adjustment_factors(
        &self,
        _s: &Symbol,
        _r: DateRange,
    ) -> Result<Vec<AdjustmentFactor>, SourceError> {
        Err(SourceError::Unsupported {
            provider: "scripted",
            dataset: "adjustment_factors",
        })
    }
    async fn daily_valuations(
        &self,
        _s: &Symbol,
        _r: DateRange,
    ) -> Result<Vec<DailyValuation>, SourceError> {
        Err(SourceError::Unsupported {
            provider: "scripted",
            dataset: "valuations",
        })
    }
    async fn financial_statements(
        &self,
        _s: &Symbol,
        _k: StatementKind,
        _p: ReportPeriod,
        _r: DateRange,
    ) -> Result<Vec<FinancialStatement>, SourceError> {
        Err(SourceError::Unsupported {
            provider: "scripted",
            dataset: "financials",
        })
    }
    async fn financial_indicators(
        &self,
        _s: &Symbol,
        _p: ReportPeriod,
        _r: DateRange,
    ) -> Result<Vec<FinancialIndicators>, SourceError> {
        Err(SourceError::Unsupported {
            provider: "scripted",
            dataset: "financial_indicators",
        })
    }
}

struct Env {
    _db: TestDatabase,
    conn: sea_orm::DatabaseConnection,
    store: Arc<SeaStore>,
    clock: Arc<FixedClock>,
}

async fn envs() -> Vec<Env> {
    let mut out = Vec::new();
    for tdb in TestDatabase::all().await.unwrap() {
        let conn = tdb.connect().await.unwrap();
        Migrator::up(&conn, None).await.unwrap();
        out.push(Env {
            store: Arc::new(SeaStore::new(conn.clone())),
            conn,
            _db: tdb,
            clock: Arc::new(FixedClock::at(t("2026-11-20T12:00:00Z"))),
        });
    }
    out
}

fn settings() -> SyncSettings {
    SyncSettings {
        batch_size: 2,
        max_attempts: 2,
        retry_backoff: Duration::from_secs(60),
        stale_after: Duration::from_secs(60),
        history_start: NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
        ..SyncSettings::default()
    }
}

fn service(env: &Env, source: Arc<ScriptedSource>) -> Arc<SyncService> {
    Arc::new(SyncService::new(
        env.store.clone(),
        env.store.clone(),
        Sources::new().with(source),
        env.clock.clone(),
        settings(),
    ))
}

fn history(symbols: &[&str]) -> JobRequest {
    JobRequest {
        kind: Some(JobKind::DailyHistory),
        symbols: symbols.iter().map(|s| sym(s)).collect(),
        ..JobRequest::default()
    }
}

async fn count(conn: &sea_orm::DatabaseConnection, sql: &str) -> i64 {
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

#[tokio::test]
async fn a_killed_history_sync_resumes_from_its_last_batch_without_duplicates_or_gaps() {
    let symbols = ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF"];
    for env in envs().await {
        let first = ScriptedSource::new();
        first.script("CCC", Script::Hang);
        let sync = service(&env, first.clone());
        let job = sync.submit(&history(&symbols)).await.unwrap();
        assert_eq!(
            (job.status, job.total, job.cursor),
            (JobStatus::Queued, 6, 0)
        );

        let claimed = env
            .store
            .claim_next("worker-a", env.clock.now())
            .await
            .unwrap()
            .unwrap();
        let reached = first.reached_hang.clone();
        let run = tokio::spawn({
            let sync = sync.clone();
            async move { sync.run_job(&claimed).await }
        });
        reached.notified().await;
        run.abort(); // the process dies mid-batch
        let _ = run.await;

        let stored = env.store.job(job.id).await.unwrap().unwrap();
        assert_eq!(
            stored.status,
            JobStatus::Running,
            "a killed job is still marked running"
        );
        assert_eq!(
            stored.cursor, 2,
            "only the first batch (AAA, BBB) was committed"
        );
        assert_eq!(stored.rows_written, 2 * BARS_PER_SYMBOL as u64);
        assert_eq!(
            count(&env.conn, "SELECT COUNT(*) FROM daily_bars").await,
            200
        );

        // A new process: the stale job is requeued, claimed and resumed from its cursor.
        env.clock.set(t("2026-11-20T12:05:00Z"));
        let second = ScriptedSource::new();
        let sync = service(&env, second.clone());
        assert!(sync.work_once("worker-b").await.unwrap());

        let done = env.store.job(job.id).await.unwrap().unwrap();
        assert_eq!(done.status, JobStatus::Succeeded);
        assert_eq!(done.cursor, 6);
        assert_eq!(done.rows_written, 6 * BARS_PER_SYMBOL as u64);
        assert_eq!(
            second.calls(),
            ["CCC", "DDD", "EEE", "FFF"],
            "finished batches are not fetched again"
        );
        assert_eq!(
            count(&env.conn, "SELECT COUNT(*) FROM daily_bars").await,
            600
        );
        assert_eq!(
            count(
                &env.conn,
                "SELECT COUNT(*) FROM (SELECT DISTINCT symbol, trade_date FROM daily_bars) d"
            )
            .await,
            600
        );
        for s in symbols {
            let n = count(
                &env.conn,
                &format!("SELECT COUNT(*) FROM daily_bars WHERE symbol = '{s}'"),
            )
            .await;
            assert_eq!(n, BARS_PER_SYMBOL as i64, "{s} has every bar exactly once");
        }
        // Re-running the whole history is idempotent.
        let again = sync.submit(&history(&symbols)).await.unwrap();
        assert!(sync.work_once("worker-b").await.unwrap());
        assert_eq!(
            env.store.job(again.id).await.unwrap().unwrap().status,
            JobStatus::Succeeded
        );
        assert_eq!(
            count(&env.conn, "SELECT COUNT(*) FROM daily_bars").await,
            600
        );
    }
}

#[tokio::test]
async fn failed_symbols_go_to_the_ledger_are_retried_and_become_permanent_at_the_maximum() {
    for env in envs().await {
        let source = ScriptedSource::new();
        let transient = SourceError::Transient {
            provider: "scripted",
            message: "HTTP 502".into(),
        };
        source.script("BBB", Script::Fail(transient.clone()));
        source.script("CCC", Script::Fail(transient));
        let sync = service(&env, source.clone());
        let job = sync.submit(&history(&["AAA", "BBB", "CCC"])).await.unwrap();
        assert!(sync.work_once("w").await.unwrap());
        let job = sync.job(job.id).await.unwrap();
        assert_eq!(job.status, JobStatus::Succeeded);
        assert_eq!(job.symbols_failed, 2);
        assert_eq!(
            job.message.as_deref(),
            Some("2 symbol(s) failed; see GET /api/v1/sync/failures")
        );

        let ledger = sync.failures(None, 0, 10).await.unwrap();
        assert_eq!(ledger.total, 2);
        let bbb = ledger
            .items
            .iter()
            .find(|f| f.symbol.as_str() == "BBB")
            .unwrap();
        assert_eq!(
            (bbb.attempts, bbb.status, bbb.dataset),
            (1, FailureStatus::Pending, Dataset::DailyBars)
        );
        assert_eq!(bbb.error_kind, "transient");
        assert_eq!(bbb.next_retry_at, Some(t("2026-11-20T12:01:00Z")));

        // Not due yet: a retry job has nothing to do.
        let req = JobRequest {
            kind: Some(JobKind::RetryFailures),
            market: Some(Market::Us),
            ..JobRequest::default()
        };
        assert_eq!(sync.submit(&req).await.unwrap().total, 0);
        assert!(sync.work_once("w").await.unwrap());

        // BBB recovers, CCC keeps failing and reaches the maximum (2 attempts).
        env.clock.set(t("2026-11-20T12:02:00Z"));
        source.script("BBB", Script::Bars);
        let retry = sync.submit(&req).await.unwrap();
        assert_eq!(retry.total, 2);
        assert!(sync.work_once("w").await.unwrap());
        let ledger = sync.failures(None, 0, 10).await.unwrap();
        assert_eq!(ledger.total, 1, "BBB resolved and removed");
        let ccc = &ledger.items[0];
        assert_eq!(
            (ccc.symbol.as_str(), ccc.attempts, ccc.status),
            ("CCC", 2, FailureStatus::Permanent)
        );
        assert_eq!(ccc.next_retry_at, None);
        assert_eq!(
            count(
                &env.conn,
                "SELECT COUNT(*) FROM daily_bars WHERE symbol = 'BBB'"
            )
            .await,
            100
        );
        assert_eq!(env.store.pending_failure_count().await.unwrap(), 0);
    }
}

#[tokio::test]
async fn a_daily_quota_pauses_the_job_which_resumes_after_the_reset() {
    for env in envs().await {
        let source = ScriptedSource::new();
        source.script(
            "CCC",
            Script::Fail(SourceError::QuotaExhausted {
                provider: "scripted",
                message: "每天最多访问".into(),
            }),
        );
        let sync = service(&env, source.clone());
        let job = sync
            .submit(&history(&["AAA", "BBB", "CCC", "DDD"]))
            .await
            .unwrap();
        assert!(sync.work_once("w").await.unwrap());
        let paused = sync.job(job.id).await.unwrap();
        assert_eq!(paused.status, JobStatus::Paused);
        assert_eq!(
            paused.cursor, 2,
            "stopped before the symbol that hit the quota"
        );
        assert_eq!(paused.resume_after, Some(t("2026-11-20T16:05:00Z")));
        assert!(
            !sync.work_once("w").await.unwrap(),
            "not runnable before the reset"
        );

        env.clock.set(t("2026-11-20T16:06:00Z"));
        source.script("CCC", Script::Bars);
        assert!(sync.work_once("w").await.unwrap());
        let done = sync.job(job.id).await.unwrap();
        assert_eq!(
            (done.status, done.cursor, done.rows_written),
            (JobStatus::Succeeded, 4, 400)
        );
        assert_eq!(source.calls(), ["AAA", "BBB", "CCC", "CCC", "DDD"]);
    }
}

#[tokio::test]
async fn bad_credentials_fail_the_job_with_the_reason_and_cancel_stops_a_queued_job() {
    for env in envs().await {
        let source = ScriptedSource::new();
        source.script(
            "AAA",
            Script::Fail(SourceError::Auth {
                provider: "scripted",
                message: "check TUSHARE_TOKEN".into(),
            }),
        );
        let sync = service(&env, source.clone());
        let job = sync.submit(&history(&["AAA", "BBB"])).await.unwrap();
        assert!(sync.work_once("w").await.unwrap());
        let failed = sync.job(job.id).await.unwrap();
        assert_eq!(failed.status, JobStatus::Failed);
        assert_eq!(
            failed.message.as_deref(),
            Some("scripted: authentication failed: check TUSHARE_TOKEN")
        );
        assert_eq!(source.calls(), ["AAA"], "no point trying the other symbols");

        let queued = sync.submit(&history(&["AAA"])).await.unwrap();
        let cancelled = sync.cancel(queued.id).await.unwrap();
        assert_eq!(cancelled.status, JobStatus::Cancelled);
        assert!(!sync.work_once("w").await.unwrap());
        let err = sync.cancel(queued.id).await.unwrap_err();
        assert!(
            err.to_string().contains("already ended (cancelled)"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn only_one_of_two_concurrent_claimers_gets_a_job() {
    for env in envs().await {
        let sync = service(&env, ScriptedSource::new());
        sync.submit(&history(&["AAA"])).await.unwrap();
        let now = env.clock.now();
        let (a, b) = tokio::join!(
            env.store.claim_next("a", now),
            env.store.claim_next("b", now)
        );
        let claimed = [a.unwrap(), b.unwrap()].into_iter().flatten().count();
        assert_eq!(claimed, 1);
    }
}

struct EveryHour;

impl CronSchedule for EveryHour {
    fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let secs = t.timestamp();
        DateTime::from_timestamp((secs / 3600 + 1) * 3600, 0)
    }
}

#[tokio::test]
async fn two_schedulers_on_one_database_create_a_scheduled_job_exactly_once() {
    for env in envs().await {
        let source = ScriptedSource::new();
        let sync_a = service(&env, source.clone());
        let sync_b = service(&env, source.clone());
        env.store
            .upsert(
                "scripted",
                &stockpilot_application::ports::DataBatch::Instruments(
                    source.instruments(Market::Us).await.unwrap(),
                ),
            )
            .await
            .unwrap();
        let schedule = Schedule {
            name: "hourly-bars".into(),
            cron: Arc::new(EveryHour),
            request: JobRequest {
                kind: Some(JobKind::DailyIncremental),
                market: Some(Market::Us),
                ..JobRequest::default()
            },
        };
        let a = Scheduler::new(sync_a, vec![schedule.clone()], "replica-a".into());
        let b = Scheduler::new(sync_b, vec![schedule], "replica-b".into());
        assert!(
            a.tick().await.unwrap().is_empty(),
            "nothing due before the slot"
        );

        env.clock.set(t("2026-11-20T13:00:30Z"));
        let (ra, rb) = tokio::join!(a.tick(), b.tick());
        let created: Vec<_> = ra.unwrap().into_iter().chain(rb.unwrap()).collect();
        assert_eq!(created.len(), 1, "exactly one replica creates the job");
        assert_eq!(created[0].schedule_name.as_deref(), Some("hourly-bars"));
        assert_eq!(
            created[0].params.symbols.len(),
            2,
            "all stored instruments of the market"
        );
        assert_eq!(count(&env.conn, "SELECT COUNT(*) FROM sync_jobs").await, 1);
        assert_eq!(
            count(&env.conn, "SELECT COUNT(*) FROM schedule_claims").await,
            1
        );

        // The next slot fires once again; ticking twice within a slot does nothing.
        assert!(a.tick().await.unwrap().is_empty());
        env.clock.set(t("2026-11-20T14:00:01Z"));
        let (ra, rb) = tokio::join!(a.tick(), b.tick());
        assert_eq!(ra.unwrap().len() + rb.unwrap().len(), 1);
        assert_eq!(count(&env.conn, "SELECT COUNT(*) FROM sync_jobs").await, 2);
    }
}

#[tokio::test]
async fn incremental_sync_fetches_only_the_missing_trading_days_up_to_the_limit() {
    for env in envs().await {
        let source = ScriptedSource::new();
        let mut s = settings();
        s.incremental_limit_days = 5;
        let sync = Arc::new(SyncService::new(
            env.store.clone(),
            env.store.clone(),
            Sources::new().with(source.clone()),
            env.clock.clone(),
            s,
        ));
        // 60 stored bars (2010-01-01 ..= 2010-03-01), a calendar saying every day is open.
        let stored: Vec<DailyBar> = bars(
            &sym("AAA"),
            DateRange::new(
                NaiveDate::from_ymd_opt(2010, 1, 1).unwrap(),
                NaiveDate::from_ymd_opt(2010, 3, 1).unwrap(),
                None,
            )
            .unwrap(),
        );
        assert_eq!(stored.len(), 60);
        env.store
            .upsert(
                "scripted",
                &stockpilot_application::ports::DataBatch::DailyBars(stored),
            )
            .await
            .unwrap();
        let days: Vec<TradingDay> = (0..400)
            .map(|i| TradingDay {
                exchange: Exchange::Us,
                date: NaiveDate::from_ymd_opt(2010, 1, 1).unwrap() + chrono::Duration::days(i),
                is_open: true,
                pretrade_date: None,
            })
            .collect();
        env.store
            .upsert(
                "scripted",
                &stockpilot_application::ports::DataBatch::Calendar(days),
            )
            .await
            .unwrap();

        let req = JobRequest {
            kind: Some(JobKind::DailyIncremental),
            symbols: vec![sym("AAA")],
            end: NaiveDate::from_ymd_opt(2010, 12, 31),
            ..JobRequest::default()
        };
        sync.submit(&req).await.unwrap();
        assert!(sync.work_once("w").await.unwrap());
        assert_eq!(
            count(&env.conn, "SELECT COUNT(*) FROM daily_bars").await,
            65,
            "five more trading days, no more"
        );
        assert_eq!(
            env.store.last_bar_date(&sym("AAA")).await.unwrap(),
            NaiveDate::from_ymd_opt(2010, 3, 6)
        );
    }
}

/// An in-process cache for the test (the real adapters have their own tests).
#[derive(Default)]
struct MapCache(Mutex<HashMap<String, Vec<u8>>>);

#[async_trait::async_trait]
impl stockpilot_application::ports::Cache for MapCache {
    fn backend(&self) -> &'static str {
        "map"
    }
    async fn get(
        &self,
        key: &str,
    ) -> Result<Option<Vec<u8>>, stockpilot_application::ports::CacheError> {
        Ok(self.0.lock().unwrap().get(key).cloned())
    }
    async fn set(
        &self,
        key: &str,
        value: &[u8],
        _ttl: Duration,
    ) -> Result<(), stockpilot_application::ports::CacheError> {
        self.0
            .lock()
            .unwrap()
            .insert(key.to_owned(), value.to_vec());
        Ok(())
    }
    async fn delete(&self, key: &str) -> Result<(), stockpilot_application::ports::CacheError> {
        self.0.lock().unwrap().remove(key);
        Ok(())
    }
}

#[tokio::test]
async fn a_sync_invalidates_the_cached_bars_of_the_symbols_it_wrote() {
    use stockpilot_application::market::{MarketQueries, QuerySettings};
    use stockpilot_domain::market::Adjust;
    for env in envs().await {
        let cache = Arc::new(MapCache::default());
        let source = ScriptedSource::new();
        let sync = Arc::new(
            SyncService::new(
                env.store.clone(),
                env.store.clone(),
                Sources::new().with(source),
                env.clock.clone(),
                settings(),
            )
            .with_cache(cache.clone()),
        );
        let queries = MarketQueries::new(
            env.store.clone(),
            cache.clone(),
            env.clock.clone(),
            QuerySettings::default(),
        );
        let range = DateRange::new(
            NaiveDate::from_ymd_opt(2010, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(2010, 12, 31).unwrap(),
            None,
        )
        .unwrap();
        let first60 = bars(
            &sym("AAA"),
            DateRange::new(
                range.start(),
                NaiveDate::from_ymd_opt(2010, 3, 1).unwrap(),
                None,
            )
            .unwrap(),
        );
        env.store
            .upsert(
                "scripted",
                &stockpilot_application::ports::DataBatch::DailyBars(first60),
            )
            .await
            .unwrap();

        // Each render is counted: a cache hit serves the stored bytes without rendering.
        let renders = std::sync::atomic::AtomicUsize::new(0);
        let aaa = sym("AAA");
        let body = || {
            queries.bars_body(
                &aaa,
                Some(range.start()),
                Some(range.end()),
                Adjust::None,
                "test",
                |view| {
                    renders.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    serde_json::to_vec(&view).map_err(|e| e.to_string())
                },
            )
        };
        let view = |bytes: Vec<u8>| -> stockpilot_application::market::BarsView {
            serde_json::from_slice(&bytes).unwrap()
        };
        let before = view(body().await.unwrap());
        assert_eq!(before.bars.len(), 60);
        let cached = view(body().await.unwrap());
        assert_eq!(cached, before);
        assert_eq!(
            renders.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "served from the cache"
        );

        sync.submit(&history(&["AAA"])).await.unwrap();
        assert!(sync.work_once("w").await.unwrap());
        let after = view(body().await.unwrap());
        assert_eq!(renders.load(std::sync::atomic::Ordering::SeqCst), 2);
        assert_eq!(
            after.bars.len(),
            BARS_PER_SYMBOL,
            "the sync made the cached response unreachable"
        );
        assert_eq!(after.as_of, NaiveDate::from_ymd_opt(2010, 4, 10));
    }
}

/// The queue's recovery of jobs whose worker died: the first time at once, then after a
/// growing wait, and the fifth time the job is dead-lettered instead of looping forever.
#[tokio::test]
async fn a_job_whose_worker_keeps_dying_backs_off_then_is_dead_lettered() {
    let minutes = chrono::Duration::minutes;
    for env in envs().await {
        let sync = service(&env, ScriptedSource::new());
        let job = sync.submit(&history(&["AAA"])).await.unwrap();
        // Seconds the job waits after its 1st, 2nd, 3rd and 4th recovery.
        for (recovery, wait) in [0, 15, 30, 60].into_iter().enumerate() {
            let claimed = env.store.claim_next("w", env.clock.now()).await.unwrap();
            assert_eq!(
                claimed.map(|j| j.id),
                Some(job.id),
                "claim {}",
                recovery + 1
            );
            // The worker dies: no heartbeat for longer than the stale limit.
            env.clock.set(env.clock.now() + minutes(2));
            let now = env.clock.now();
            let recovered = env
                .store
                .requeue_stale(now - minutes(1), now)
                .await
                .unwrap();
            assert_eq!(recovered, 1);
            let queued = env.store.job(job.id).await.unwrap().unwrap();
            assert_eq!(queued.status, JobStatus::Queued);
            let not_before = (wait > 0).then(|| now + chrono::Duration::seconds(wait));
            assert_eq!(queued.resume_after, not_before);
            if let Some(later) = not_before {
                let early = env.store.claim_next("w", now).await.unwrap();
                assert!(
                    early.is_none(),
                    "recovery {}: claimed before its backoff",
                    recovery + 1
                );
                env.clock.set(later);
            }
        }
        env.store
            .claim_next("w", env.clock.now())
            .await
            .unwrap()
            .unwrap();
        env.clock.set(env.clock.now() + minutes(2));
        let now = env.clock.now();
        assert_eq!(
            env.store
                .requeue_stale(now - minutes(1), now)
                .await
                .unwrap(),
            1
        );
        let dead = env.store.job(job.id).await.unwrap().unwrap();
        assert_eq!(dead.status, JobStatus::Failed);
        assert_eq!(
            dead.message.as_deref(),
            Some("gave up: its worker stopped 5 times")
        );
        assert_eq!(dead.finished_at, Some(now));
        assert!(env.store.claim_next("w", now).await.unwrap().is_none());
    }
}
