//! Bulk ingestion of daily bars through the real store adapter (`upsert_batch`, one
//! transaction per sync-sized batch) on SQLite and PostgreSQL, a second pass where every row
//! conflicts, and — on PostgreSQL, in the same run — raw `COPY` into an unindexed table as the
//! ceiling. The rows are the real demo bars replicated across synthetic symbols.
//!
//! `cargo bench -p stockpilot-db --bench ingest` (rows: `INGEST_ROWS`, default 1,000,000;
//! PostgreSQL when `BENCH_DATABASE_URL` or `TEST_DATABASE_URL` is set; a Markdown table on
//! stdout and in `BENCH_OUT` when set). A benchmark reports; it asserts nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::time::Instant;

use chrono::NaiveDate;
use migration::{Migrator, MigratorTrait};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, TransactionTrait};
use stockpilot_application::ports::DataBatch;
use stockpilot_db::testing::TestDatabase;
use stockpilot_db::upsert_batch;
use stockpilot_domain::market::{DailyBar, Symbol};

const BATCH_ROWS: usize = 50_000;

fn demo_rows() -> Vec<(NaiveDate, [Decimal; 5])> {
    let path = format!(
        "{}/../../../data/demo/us-equities-daily-2000-2013.csv.gz",
        env!("CARGO_MANIFEST_DIR")
    );
    let file = std::fs::File::open(&path).expect("the demo dataset");
    let reader = BufReader::new(flate2::read::GzDecoder::new(file));
    reader
        .lines()
        .skip(1)
        .map(|l| l.unwrap())
        .filter(|l| l.starts_with("AAPL,") || l.starts_with("MSFT,") || l.starts_with("IBM,"))
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let d = |i: usize| f[i].parse::<Decimal>().unwrap();
            (
                NaiveDate::parse_from_str(f[1], "%Y-%m-%d").unwrap(),
                [d(2), d(3), d(4), d(5), d(6)],
            )
        })
        .collect()
}

/// `n` bars: the real rows (one symbol's worth of dates each) under synthetic symbols.
fn bars(n: usize) -> Vec<DailyBar> {
    let demo = demo_rows();
    let per_symbol = 3_000.min(demo.len());
    let mut out = Vec::with_capacity(n);
    let mut s = 0usize;
    while out.len() < n {
        let name: String = (0..4)
            .map(|k| char::from(b'A' + ((s / 26usize.pow(k)) % 26) as u8))
            .collect();
        let symbol = Symbol::parse(&name).unwrap();
        let mut seen = std::collections::HashSet::new();
        for (date, [o, h, l, c, v]) in demo
            .iter()
            .skip((s * 997) % demo.len())
            .chain(demo.iter())
            .take(demo.len())
        {
            if out.len() == n || seen.len() == per_symbol {
                break;
            }
            if seen.insert(*date) {
                out.push(DailyBar {
                    symbol: symbol.clone(),
                    trade_date: *date,
                    open: *o,
                    high: *h,
                    low: *l,
                    close: *c,
                    pre_close: None,
                    change: None,
                    pct_change: None,
                    volume: *v,
                    amount: None,
                });
            }
        }
        s += 1;
    }
    out
}

async fn upsert_all(db: &DatabaseConnection, rows: &[DailyBar]) -> f64 {
    let started = Instant::now();
    for chunk in rows.chunks(BATCH_ROWS) {
        let txn = db.begin().await.unwrap();
        upsert_batch(&txn, "bench", &DataBatch::DailyBars(chunk.to_vec()))
            .await
            .unwrap();
        txn.commit().await.unwrap();
    }
    rows.len() as f64 / started.elapsed().as_secs_f64()
}

async fn copy_raw(db: &DatabaseConnection, rows: &[DailyBar]) -> f64 {
    use sea_orm::sqlx::postgres::PgPoolCopyExt;
    let backend = db.get_database_backend();
    db.execute_raw(Statement::from_string(
        backend,
        "CREATE UNLOGGED TABLE IF NOT EXISTS bench_copy (symbol varchar(16), trade_date date, open numeric(20,6), \
         high numeric(20,6), low numeric(20,6), close numeric(20,6), volume numeric(24,4), provider varchar(32), \
         updated_at timestamptz)"
            .to_owned(),
    ))
    .await
    .unwrap();
    let mut csv = Vec::with_capacity(rows.len() * 80);
    let now = chrono::Utc::now().to_rfc3339();
    let started = Instant::now();
    for b in rows {
        writeln!(
            csv,
            "{},{},{},{},{},{},{},bench,{now}",
            b.symbol, b.trade_date, b.open, b.high, b.low, b.close, b.volume
        )
        .unwrap();
    }
    let pool = db.get_postgres_connection_pool();
    let mut copy = pool
        .copy_in_raw("COPY bench_copy FROM STDIN (FORMAT csv)")
        .await
        .unwrap();
    for part in csv.chunks(1 << 20) {
        copy.send(part).await.unwrap();
    }
    let n = copy.finish().await.unwrap();
    assert_eq!(n as usize, rows.len());
    rows.len() as f64 / started.elapsed().as_secs_f64()
}

async fn count(db: &DatabaseConnection) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) FROM daily_bars".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("INGEST_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let rows = bars(n);
    let mut table = "| database | rows | upsert, new rows (rows/s) | upsert again, all conflicts (rows/s) | raw COPY, unindexed (rows/s) | upsert ÷ COPY |\n|---|---|---|---|---|---|\n".to_string();
    let mut targets = vec![("SQLite (file, WAL)", TestDatabase::sqlite().unwrap())];
    if let Ok(url) =
        std::env::var("BENCH_DATABASE_URL").or_else(|_| std::env::var("TEST_DATABASE_URL"))
    {
        // SAFETY of intent: only the variable TestDatabase reads is set, before any thread uses it.
        if std::env::var("TEST_DATABASE_URL").is_err() {
            eprintln!("set TEST_DATABASE_URL={url} to benchmark PostgreSQL");
        }
        if let Some(pg) = TestDatabase::postgres().await.unwrap() {
            targets.push(("PostgreSQL", pg));
        }
    }
    for (name, tdb) in &targets {
        let db = tdb.connect().await.unwrap();
        Migrator::up(&db, None).await.unwrap();
        let first = upsert_all(&db, &rows).await;
        assert_eq!(count(&db).await as usize, rows.len());
        let again = upsert_all(&db, &rows).await;
        assert_eq!(
            count(&db).await as usize,
            rows.len(),
            "conflicting rows replace, never duplicate"
        );
        let (copy, ratio) = if name.starts_with("PostgreSQL") {
            let c = copy_raw(&db, &rows).await;
            (format!("{c:.0}"), format!("{:.0} %", first / c * 100.0))
        } else {
            ("n/a (SQLite has no COPY)".into(), "—".into())
        };
        table.push_str(&format!(
            "| {name} | {} | {first:.0} | {again:.0} | {copy} | {ratio} |\n",
            rows.len()
        ));
        eprintln!("{name}: done");
        db.close().await.unwrap();
    }
    println!("{table}");
    if let Ok(out) = std::env::var("BENCH_OUT") {
        std::fs::write(out, &table).unwrap();
    }
}
