//! Store round trips on SQLite and (with `TEST_DATABASE_URL`) PostgreSQL, where daily bars
//! take the array-binding (`UNNEST`) path.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use migration::{Migrator, MigratorTrait};
use rust_decimal::Decimal;
use stockpilot_application::ports::{BarText, DataBatch, MarketDataStore};
use stockpilot_db::SeaStore;
use stockpilot_db::testing::TestDatabase;
use stockpilot_domain::market::{DailyBar, DateRange, Symbol};

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn bar(
    date: &str,
    close: &str,
    pre_close: Option<&str>,
    change: Option<&str>,
    amount: Option<&str>,
) -> DailyBar {
    DailyBar {
        symbol: Symbol::parse("600519.SH").unwrap(),
        trade_date: NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap(),
        open: d("1700.5"),
        high: d("1800"),
        low: d("1650.25"),
        close: d(close),
        pre_close: pre_close.map(d),
        change: change.map(d),
        pct_change: change.map(|_| d("-1.2345")),
        volume: d("3217800"),
        amount: amount.map(d),
    }
}

#[tokio::test]
async fn bars_round_trip_exactly_including_nulls_and_replace_on_conflict() {
    for tdb in TestDatabase::all().await.unwrap() {
        let db = tdb.connect().await.unwrap();
        Migrator::up(&db, None).await.unwrap();
        let store = SeaStore::new(db.clone());
        let rows = vec![
            bar("2024-01-02", "1720.5", None, None, None),
            bar(
                "2024-01-03",
                "1699.99",
                Some("1720.5"),
                Some("-20.51"),
                Some("5470123456.78"),
            ),
            bar("2024-01-04", "1700", Some("1699.99"), Some("0.01"), None),
        ];
        assert_eq!(
            store
                .upsert("tushare", &DataBatch::DailyBars(rows.clone()))
                .await
                .unwrap(),
            3
        );
        let range = DateRange::new(rows[0].trade_date, rows[2].trade_date, None).unwrap();
        let stored = store.daily_bars(&rows[0].symbol, range).await.unwrap();
        assert_eq!(stored.rows, rows, "{:?}", tdb.backend);
        assert_eq!(stored.provider.as_deref(), Some("tushare"));

        let mut changed = rows.clone();
        changed[1].close = d("1701.01");
        changed[1].amount = None;
        store
            .upsert("csv", &DataBatch::DailyBars(changed[1..2].to_vec()))
            .await
            .unwrap();
        let stored = store.daily_bars(&rows[0].symbol, range).await.unwrap();
        assert_eq!(stored.rows.len(), 3, "replaced, not duplicated");
        assert_eq!(stored.rows[1], changed[1]);
        assert_eq!(
            store.last_bar_date(&rows[0].symbol).await.unwrap(),
            Some(rows[2].trade_date)
        );
        db.close().await.unwrap();
    }
}

/// The bars route prints `daily_bars_text`; on PostgreSQL the database writes the text
/// itself. It must be the text `Decimal::normalize` gives, for every kind of value the
/// columns hold: trailing zeros, whole numbers, zero, negatives, four decimal places, large
/// volumes, and nulls.
#[tokio::test]
async fn bar_text_is_the_normalised_decimal_text_on_every_backend() {
    for tdb in TestDatabase::all().await.unwrap() {
        let db = tdb.connect().await.unwrap();
        Migrator::up(&db, None).await.unwrap();
        let store = SeaStore::new(db.clone());
        let mut rows = vec![
            bar("2024-01-02", "1720.5000", None, None, None),
            bar(
                "2024-01-03",
                "1699.99",
                Some("1720.50"),
                Some("-20.51"),
                Some("5470123456.78"),
            ),
            bar(
                "2024-01-04",
                "1700",
                Some("1699.99"),
                Some("0.01"),
                Some("0"),
            ),
            bar("2024-01-05", "0.0001", Some("1700"), Some("-0.0000"), None),
        ];
        // 15 significant digits: what SQLite keeps (docs/data.md).
        rows[3].volume = d("12345678901.2345");
        rows[3].low = d("0.0100");
        store
            .upsert("tushare", &DataBatch::DailyBars(rows.clone()))
            .await
            .unwrap();
        let range = DateRange::new(rows[0].trade_date, rows[3].trade_date, None).unwrap();
        let symbol = &rows[0].symbol;
        let text = store.daily_bars_text(symbol, range).await.unwrap();
        let expected: Vec<BarText> = rows.iter().map(BarText::from).collect();
        assert_eq!(text.rows, expected, "{:?}", tdb.backend);
        assert_eq!(text.provider.as_deref(), Some("tushare"));
        // Spelled out, so a change to BarText::from cannot make both sides wrong together.
        assert_eq!(text.rows[0].close, "1720.5");
        assert_eq!(text.rows[1].pre_close.as_deref(), Some("1720.5"));
        assert_eq!(text.rows[1].change.as_deref(), Some("-20.51"));
        assert_eq!(text.rows[2].close, "1700");
        assert_eq!(text.rows[2].amount.as_deref(), Some("0"));
        assert_eq!(text.rows[3].change.as_deref(), Some("0"));
        assert_eq!(text.rows[3].low, "0.01");
        assert_eq!(text.rows[3].close, "0.0001");
        assert_eq!(text.rows[3].volume, "12345678901.2345");
        assert_eq!(text.rows[0].pct_change, None);
        assert_eq!(text.rows[1].pct_change.as_deref(), Some("-1.2345"));

        let empty = DateRange::new(
            NaiveDate::from_ymd_opt(2030, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(2030, 1, 31).unwrap(),
            None,
        )
        .unwrap();
        let none = store.daily_bars_text(symbol, empty).await.unwrap();
        assert!(none.rows.is_empty());
        assert_eq!(none.provider, None);
        db.close().await.unwrap();
    }
}
