//! Specification of the daily bar sanity rules.

use super::*;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn bar(open: &str, high: &str, low: &str, close: &str) -> DailyBar {
    DailyBar {
        symbol: Symbol::parse("600519.SH").unwrap(),
        trade_date: NaiveDate::from_ymd_opt(2024, 1, 2).unwrap(),
        open: d(open),
        high: d(high),
        low: d(low),
        close: d(close),
        pre_close: Some(d("10")),
        change: Some(d("0.5")),
        pct_change: Some(d("5")),
        volume: d("1000"),
        amount: Some(d("10250")),
    }
}

#[test]
fn accepts_a_consistent_bar() {
    assert_eq!(bar("10", "11", "9.5", "10.5").validate(), Ok(()));
}

#[test]
fn accepts_a_bar_where_every_price_is_equal() {
    assert_eq!(bar("10", "10", "10", "10").validate(), Ok(()));
}

#[test]
fn accepts_a_negative_change() {
    let mut falling = bar("10", "10", "9", "9");
    falling.change = Some(d("-1"));
    falling.pct_change = Some(d("-10"));
    assert_eq!(falling.validate(), Ok(()));
}

#[test]
fn rejects_high_below_low() {
    let err = bar("10", "9", "11", "10").validate().unwrap_err();
    assert_eq!(
        err.problem,
        BarProblem::HighBelowLow {
            high: d("9"),
            low: d("11")
        }
    );
    assert_eq!(
        err.to_string(),
        "invalid daily bar 600519.SH 2024-01-02: high 9 is below low 11"
    );
}

#[test]
fn rejects_a_negative_price() {
    let err = bar("-1", "11", "9", "10").validate().unwrap_err();
    assert_eq!(
        err.problem,
        BarProblem::NegativePrice {
            field: "open",
            value: d("-1")
        }
    );

    let mut bad_pre_close = bar("10", "11", "9", "10");
    bad_pre_close.pre_close = Some(d("-0.01"));
    let err = bad_pre_close.validate().unwrap_err();
    assert_eq!(
        err.problem,
        BarProblem::NegativePrice {
            field: "pre_close",
            value: d("-0.01")
        }
    );
}

#[test]
fn rejects_negative_volume_or_amount() {
    let mut negative_volume = bar("10", "11", "9", "10");
    negative_volume.volume = d("-100");
    assert_eq!(
        negative_volume.validate().unwrap_err().problem,
        BarProblem::NegativeQuantity {
            field: "volume",
            value: d("-100")
        }
    );

    let mut negative_amount = bar("10", "11", "9", "10");
    negative_amount.amount = Some(d("-5"));
    assert_eq!(
        negative_amount.validate().unwrap_err().to_string(),
        "invalid daily bar 600519.SH 2024-01-02: amount -5 is negative"
    );
}

#[test]
fn rejects_an_open_outside_the_range() {
    let err = bar("11.5", "11", "9", "10").validate().unwrap_err();
    assert_eq!(
        err.problem,
        BarProblem::OutsideRange {
            field: "open",
            value: d("11.5"),
            low: d("9"),
            high: d("11")
        }
    );
}

#[test]
fn rejects_a_close_outside_the_range() {
    let err = bar("10", "11", "9", "8.99").validate().unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid daily bar 600519.SH 2024-01-02: close 8.99 is outside the day's range [9, 11]"
    );
}

#[test]
fn negative_zero_is_not_negative() {
    assert_eq!(bar("-0", "0", "0", "0").validate(), Ok(()));
}
