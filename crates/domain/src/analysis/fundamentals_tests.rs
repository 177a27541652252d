//! Fundamentals rules checked on hand-made indicator reports.

use std::str::FromStr;

use super::*;
use crate::analysis::demo_data::date;

fn aapl() -> Symbol {
    Symbol::parse("AAPL").unwrap()
}

fn d(text: &str) -> Option<Decimal> {
    Some(Decimal::from_str(text).unwrap())
}

fn report(report_date: &str) -> FinancialIndicators {
    FinancialIndicators::empty(aapl(), date(report_date), ReportPeriod::Annual)
}

fn strong(report_date: &str) -> FinancialIndicators {
    FinancialIndicators {
        roe: d("0.30"),
        net_margin: d("0.25"),
        operating_margin: d("0.10"),
        revenue_growth: d("0.12"),
        earnings_growth: d("0.15"),
        current_ratio: d("1.2"),
        debt_to_equity: d("0.3"),
        ..report(report_date)
    }
}

#[test]
fn scores_each_category_against_the_threshold_table() {
    let signal = fundamentals(&aapl(), &[strong("2012-09-29")], date("2013-01-31"));
    // profitability 2 pass 1 fail → 1/3; growth 2/2 → 1; health 1 pass 1 fail → 0.
    let expected = (1.0 / 3.0 + 1.0 + 0.0) / 3.0;
    let overall = signal.input("overall_score").unwrap();
    assert!((overall.value - expected).abs() < 1e-12);
    assert_eq!(overall.as_of, date("2012-09-29"));
    assert_eq!(signal.signal, Signal::Bullish);
    assert_eq!(signal.confidence.value(), 44);
    assert!(
        signal.reasoning.contains("health neutral (1 of 2 pass)"),
        "{}",
        signal.reasoning
    );
    assert_eq!(signal.input("roe").unwrap().value, 0.30);
}

#[test]
fn a_category_without_data_is_insufficient_not_neutral() {
    let partial = FinancialIndicators {
        roe: d("0.05"),
        net_margin: d("0.02"),
        debt_to_equity: d("2.0"),
        ..report("2012-12-31")
    };
    let signal = fundamentals(&aapl(), &[partial], date("2013-01-31"));
    // profitability −1 (1 missing), growth absent, health −1 (1 missing).
    assert_eq!(signal.signal, Signal::Bearish);
    assert_eq!(signal.confidence.value(), 100);
    assert!(
        signal
            .reasoning
            .contains("growth insufficient_data (missing revenue_growth, earnings_growth)")
    );
    assert!(signal.input("growth_score").is_none());
}

#[test]
fn refuses_without_any_usable_report() {
    let none = fundamentals(&aapl(), &[], date("2013-01-31"));
    assert_eq!(none.signal, Signal::InsufficientData);
    assert_eq!(
        none.reasoning,
        "no financial indicators of AAPL reported on or before 2013-01-31"
    );
    let empty = fundamentals(&aapl(), &[report("2012-12-31")], date("2013-01-31"));
    assert_eq!(empty.signal, Signal::InsufficientData);
    assert_eq!(empty.confidence, Confidence::ZERO);
}

#[test]
fn uses_the_latest_report_on_or_before_as_of_only() {
    let weak = FinancialIndicators {
        roe: d("0.01"),
        ..report("2013-03-31")
    };
    let reports = [strong("2012-09-29"), weak];
    let before = fundamentals(&aapl(), &reports, date("2013-03-30"));
    assert_eq!(before.input("roe").unwrap().value, 0.30);
    let after = fundamentals(&aapl(), &reports, date("2013-03-31"));
    assert_eq!(after.input("roe").unwrap().value, 0.01);
    assert_eq!(after.signal, Signal::Bearish);
}
