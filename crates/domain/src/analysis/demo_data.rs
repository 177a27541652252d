//! Test-only loader of the bundled demo price file, so analysts are checked on real history.

use std::io::Read;

use chrono::NaiveDate;
use flate2::read::GzDecoder;
use rust_decimal::Decimal;

use crate::market::{DailyBar, Symbol};

const DEMO_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/demo/us-equities-daily-2000-2013.csv.gz"
);

/// Every unadjusted bar of `ticker` in the demo file, ascending by date.
pub(super) fn demo_bars(ticker: &str) -> Vec<DailyBar> {
    let mut text = String::new();
    GzDecoder::new(std::fs::File::open(DEMO_FILE).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let symbol = Symbol::parse(ticker).unwrap();
    let mut bars: Vec<DailyBar> = text
        .lines()
        .skip(1)
        .filter(|line| line.split(',').next() == Some(ticker))
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let d = |i: usize| f[i].parse::<Decimal>().unwrap();
            DailyBar {
                symbol: symbol.clone(),
                trade_date: NaiveDate::parse_from_str(f[1], "%Y-%m-%d").unwrap(),
                open: d(2),
                high: d(3),
                low: d(4),
                close: d(5),
                pre_close: None,
                change: None,
                pct_change: None,
                volume: d(6),
                amount: None,
            }
        })
        .collect();
    bars.sort_by_key(|bar| bar.trade_date);
    assert!(!bars.is_empty(), "{ticker} missing from the demo file");
    bars
}

/// `(date, close)` of `ticker`, closes parsed straight from the file's text as `f64`.
pub(super) fn demo_closes(ticker: &str) -> Vec<(NaiveDate, f64)> {
    demo_bars(ticker)
        .iter()
        .map(|bar| (bar.trade_date, bar.close.to_string().parse().unwrap()))
        .collect()
}

pub(super) fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}
