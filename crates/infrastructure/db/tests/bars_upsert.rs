//! Bulk upserts of daily bars (`upsert_batch`) on SQLite and (with `TEST_DATABASE_URL`)
//! PostgreSQL: new rows, a second pass where some rows change and the rest are identical,
//! a change of provider only, and on PostgreSQL a concurrent writer that inserts a key first.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use migration::{Migrator, MigratorTrait};
use rust_decimal::Decimal;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, EntityTrait, QueryOrder, Statement, TransactionTrait,
};
use stockpilot_application::ports::DataBatch;
use stockpilot_db::entities::daily_bar;
use stockpilot_db::testing::TestDatabase;
use stockpilot_db::{Backend, upsert_batch};
use stockpilot_domain::market::{DailyBar, Symbol};

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// `symbols` × `days` bars with distinct prices; `pre_close` on every other row (a column with
/// NULLs and values), `change` on every row, `pct_change` and `amount` on none.
fn bars(symbols: &[&str], days: i64) -> Vec<DailyBar> {
    let start = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    let mut out = Vec::new();
    for (s, name) in symbols.iter().enumerate() {
        for i in 0..days {
            let px = Decimal::new(10_000 + 37 * i + 1_000 * s as i64, 2);
            out.push(DailyBar {
                symbol: Symbol::parse(name).unwrap(),
                trade_date: start + chrono::Duration::days(i),
                open: px,
                high: px + d("1.25"),
                low: px - d("0.5"),
                close: px + d("0.0001"),
                pre_close: (i % 2 == 0).then(|| px - d("0.01")),
                change: Some(d("-0.0125")),
                pct_change: None,
                volume: Decimal::new(1_000_000 + i, 0),
                amount: None,
            });
        }
    }
    // Not in key order: the adapter must not depend on it.
    out.reverse();
    out
}

async fn upsert(db: &DatabaseConnection, provider: &str, rows: &[DailyBar]) {
    let txn = db.begin().await.unwrap();
    let n = upsert_batch(&txn, provider, &DataBatch::DailyBars(rows.to_vec()))
        .await
        .unwrap();
    assert_eq!(n, rows.len() as u64);
    txn.commit().await.unwrap();
}

async fn stored(db: &DatabaseConnection) -> Vec<daily_bar::Model> {
    daily_bar::Entity::find()
        .order_by_asc(daily_bar::Column::Symbol)
        .order_by_asc(daily_bar::Column::TradeDate)
        .all(db)
        .await
        .unwrap()
}

/// `rows` are stored exactly (decimals compared as values: the scale differs by backend).
fn assert_stored(backend: Backend, stored: &[daily_bar::Model], rows: &[DailyBar], provider: &str) {
    let mut rows = rows.to_vec();
    rows.sort_by(|a, b| (a.symbol.as_str(), a.trade_date).cmp(&(b.symbol.as_str(), b.trade_date)));
    assert_eq!(stored.len(), rows.len(), "{backend:?}");
    for (m, b) in stored.iter().zip(&rows) {
        let at = format!("{backend:?} {} {}", b.symbol, b.trade_date);
        assert_eq!(m.symbol, b.symbol.as_str(), "{at}");
        assert_eq!(m.trade_date, b.trade_date, "{at}");
        assert_eq!(m.open, b.open, "{at}");
        assert_eq!(m.high, b.high, "{at}");
        assert_eq!(m.low, b.low, "{at}");
        assert_eq!(m.close, b.close, "{at}");
        assert_eq!(m.pre_close, b.pre_close, "{at}");
        assert_eq!(m.change, b.change, "{at}");
        assert_eq!(m.pct_change, b.pct_change, "{at}");
        assert_eq!(m.volume, b.volume, "{at}");
        assert_eq!(m.amount, b.amount, "{at}");
        assert_eq!(m.provider, provider, "{at}");
    }
}

fn updated_at(stored: &[daily_bar::Model], symbol: &str, date: NaiveDate) -> DateTime<Utc> {
    stored
        .iter()
        .find(|m| m.symbol == symbol && m.trade_date == date)
        .unwrap()
        .updated_at
}

#[tokio::test]
async fn upserting_again_replaces_changed_rows_and_leaves_identical_rows_alone() {
    for tdb in TestDatabase::all().await.unwrap() {
        let db = tdb.connect().await.unwrap();
        Migrator::up(&db, None).await.unwrap();
        let first = bars(&["AAPL", "MSFT", "600519.SH"], 300);
        upsert(&db, "tushare", &first).await;
        let after_first = stored(&db).await;
        assert_stored(tdb.backend, &after_first, &first, "tushare");

        // Same provider: a few rows change (a price, a NULL filled, a value cleared), one
        // symbol gets more days (new keys next to stored ones), the rest are identical.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let mut second = first.clone();
        let (changed_close, filled, cleared) = (10, 11, 12);
        second[changed_close].close = d("1234.5678");
        second[filled].pct_change = Some(d("3.25"));
        second[cleared].change = None;
        let extra: Vec<DailyBar> = bars(&["MSFT"], 310).into_iter().take(10).collect();
        assert!(extra.iter().all(|b| !first.contains(b)));
        second.extend(extra.iter().cloned());
        upsert(&db, "tushare", &second).await;
        let after_second = stored(&db).await;
        assert_stored(tdb.backend, &after_second, &second, "tushare");

        // Identical rows were not rewritten; changed and new ones carry the new time.
        let t1 = updated_at(&after_first, "AAPL", first[0].trade_date);
        let identical = &first[100];
        assert_eq!(
            updated_at(
                &after_second,
                identical.symbol.as_str(),
                identical.trade_date
            ),
            updated_at(
                &after_first,
                identical.symbol.as_str(),
                identical.trade_date
            ),
            "{:?}",
            tdb.backend
        );
        for i in [changed_close, filled, cleared] {
            let b = &second[i];
            assert!(updated_at(&after_second, b.symbol.as_str(), b.trade_date) > t1);
        }

        // The same values from another provider: every row now names that provider.
        upsert(&db, "csv", &second).await;
        assert_stored(tdb.backend, &stored(&db).await, &second, "csv");

        // Outside a transaction too (new keys and a changed row), and the empty batch.
        let mut third = second.clone();
        third[0].open = d("1.000001");
        third.extend(bars(&["IBM"], 10));
        let n = upsert_batch(&db, "csv", &DataBatch::DailyBars(third.clone()))
            .await
            .unwrap();
        assert_eq!(n, third.len() as u64);
        assert_stored(tdb.backend, &stored(&db).await, &third, "csv");
        let none = upsert_batch(&db, "csv", &DataBatch::DailyBars(Vec::new()))
            .await
            .unwrap();
        assert_eq!(none, 0);
        db.close().await.unwrap();
    }
}

/// A key that another transaction inserts between the adapter's look-up of stored keys and
/// its insert: the batch still commits, with its own values.
#[tokio::test]
async fn a_key_inserted_concurrently_is_replaced_not_a_failure() {
    let Some(tdb) = TestDatabase::postgres().await.unwrap() else {
        return;
    };
    let db = tdb.connect().await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    let rows = bars(&["IBM"], 50);
    let mut theirs = rows[7].clone();
    theirs.close = d("1.5");

    let other = db.begin().await.unwrap();
    upsert_batch(&other, "other", &DataBatch::DailyBars(vec![theirs]))
        .await
        .unwrap();
    let ours = {
        let db = db.clone();
        let rows = rows.clone();
        tokio::spawn(async move { upsert(&db, "ours", &rows).await })
    };
    // Ours waits for the other transaction on the key both insert.
    let waiting = Statement::from_string(
        db.get_database_backend(),
        "SELECT count(*) FROM pg_stat_activity \
         WHERE datname = current_database() AND wait_event_type = 'Lock'"
            .to_owned(),
    );
    let mut blocked = false;
    for _ in 0..500 {
        let row = db.query_one_raw(waiting.clone()).await.unwrap().unwrap();
        if row.try_get_by_index::<i64>(0).unwrap() > 0 {
            blocked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(blocked, "the batch never waited for the other writer");
    other.commit().await.unwrap();
    tokio::time::timeout(Duration::from_secs(30), ours)
        .await
        .unwrap()
        .unwrap();
    assert_stored(tdb.backend, &stored(&db).await, &rows, "ours");
    db.close().await.unwrap();
}

/// More rows than one statement takes (SQLite writes 10,000 rows per statement).
#[tokio::test]
async fn a_batch_of_several_statements_is_written_whole() {
    for tdb in TestDatabase::all().await.unwrap() {
        let db = tdb.connect().await.unwrap();
        Migrator::up(&db, None).await.unwrap();
        let names: Vec<String> = (0..25).map(|i| format!("{:06}.SZ", i + 1)).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let rows = bars(&names, 1_000);
        upsert(&db, "tushare", &rows).await;
        assert_stored(tdb.backend, &stored(&db).await, &rows, "tushare");
        let mut again = rows.clone();
        again[12_345].low = d("0.01");
        upsert(&db, "tushare", &again).await;
        assert_stored(tdb.backend, &stored(&db).await, &again, "tushare");
        db.close().await.unwrap();
    }
}
