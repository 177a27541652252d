//! Valuation rules checked on hand-made statements and valuations whose expected figures are
//! worked out by hand in the comments.

use std::str::FromStr;

use super::*;
use crate::analysis::demo_data::date;
use crate::market::{FinancialLineItems, StatementKind};

fn aapl() -> Symbol {
    Symbol::parse("AAPL").unwrap()
}

fn d(value: f64) -> Option<Decimal> {
    Some(Decimal::from_str(&value.to_string()).unwrap())
}

fn valuation_on(
    day: NaiveDate,
    cap: Option<f64>,
    pe: Option<f64>,
    pb: Option<f64>,
) -> DailyValuation {
    DailyValuation {
        pe_ttm: pe.and_then(d),
        pb: pb.and_then(d),
        total_market_cap: cap.and_then(d),
        ..DailyValuation::empty(aapl(), day)
    }
}

fn statement(
    kind: StatementKind,
    report: &str,
    announced: &str,
    items: FinancialLineItems,
) -> FinancialStatement {
    FinancialStatement {
        symbol: aapl(),
        kind,
        period: ReportPeriod::Annual,
        report_date: date(report),
        announced_date: Some(date(announced)),
        currency: "USD".into(),
        items,
        raw: "{}".into(),
    }
}

fn growth_report(report: &str, growth: f64) -> FinancialIndicators {
    FinancialIndicators {
        revenue_growth: d(growth),
        ..FinancialIndicators::empty(aapl(), date(report), ReportPeriod::Annual)
    }
}

/// Income (net income 100) and cash flow (D&A 20, capex −30) for 2012.
fn statements_2012() -> Vec<FinancialStatement> {
    vec![
        statement(
            StatementKind::Income,
            "2012-12-31",
            "2013-02-01",
            FinancialLineItems {
                net_income: d(100.0),
                revenue: d(1000.0),
                ..Default::default()
            },
        ),
        statement(
            StatementKind::CashFlow,
            "2012-12-31",
            "2013-02-01",
            FinancialLineItems {
                depreciation_and_amortization: d(20.0),
                capital_expenditure: d(-30.0),
                ..Default::default()
            },
        ),
    ]
}

#[test]
fn the_dcf_matches_a_hand_computation() {
    // Owner earnings 90 growing 5 %: Σ 90·1.05^t/1.1^t (t = 1..5) = 392.229…, terminal
    // 90·1.05^5·1.025/0.075/1.1^5 = 974.740…; total 1366.9695.
    let value = owner_earnings_dcf(90.0, 0.05, &ValuationParams::default());
    assert!((value - 1366.9695).abs() < 1e-3, "{value}");
}

#[test]
fn an_undervalued_company_by_dcf_is_bullish_with_the_figures_recorded() {
    let as_of = date("2013-03-01");
    let valuations = [valuation_on(date("2013-02-28"), Some(1000.0), None, None)];
    let signal = valuation(
        &aapl(),
        &valuations,
        &statements_2012(),
        &[growth_report("2012-12-31", 0.05)],
        as_of,
        &ValuationParams::default(),
    );
    // gap = 1366.97 / 1000 − 1 = 0.3670; score = 0.3670 / 0.5 = 0.7339 → bullish, 73.
    assert_eq!(signal.signal, Signal::Bullish);
    assert_eq!(signal.confidence.value(), 73);
    assert_eq!(signal.input("owner_earnings").unwrap().value, 90.0);
    assert_eq!(
        signal.input("owner_earnings").unwrap().as_of,
        date("2012-12-31")
    );
    assert!((signal.input("dcf_gap").unwrap().value - 0.36697).abs() < 1e-4);
    assert!(
        signal.reasoning.contains("pe: none positive"),
        "{}",
        signal.reasoning
    );
}

#[test]
fn statements_announced_after_as_of_are_not_used() {
    let valuations = [valuation_on(date("2013-01-15"), Some(1000.0), None, None)];
    // Announced 2013-02-01: unknown on 2013-01-20, so there is no DCF and no multiple.
    let signal = valuation(
        &aapl(),
        &valuations,
        &statements_2012(),
        &[],
        date("2013-01-20"),
        &ValuationParams::default(),
    );
    assert_eq!(signal.signal, Signal::InsufficientData);
    assert!(
        signal.reasoning.contains("DCF: no annual statements"),
        "{}",
        signal.reasoning
    );
}

#[test]
fn growth_is_capped_and_an_expensive_company_is_bearish() {
    let as_of = date("2013-03-01");
    // Growth 40 % is capped at 15 %: 90 growing 15 % is worth 2,169.2; at a market cap of
    // 5,000 the gap is −56.6 %, beyond −2 × 25 %, so the score is −1.
    let valuations = [valuation_on(date("2013-03-01"), Some(5000.0), None, None)];
    let signal = valuation(
        &aapl(),
        &valuations,
        &statements_2012(),
        &[growth_report("2012-12-31", 0.40)],
        as_of,
        &ValuationParams::default(),
    );
    assert_eq!(signal.input("growth_used").unwrap().value, 0.15);
    assert_eq!(signal.signal, Signal::Bearish);
    assert_eq!(signal.confidence.value(), 100);
}

#[test]
fn multiples_are_judged_against_their_own_median() {
    let as_of = date("2013-06-28");
    // 100 days of P/E 20 and P/B 2, then today P/E 10 (50 % below: +1) and P/B 2 (0).
    let mut valuations: Vec<DailyValuation> = (0..100)
        .map(|i| {
            valuation_on(
                as_of - Duration::days(200 - i),
                Some(1000.0),
                Some(20.0),
                Some(2.0),
            )
        })
        .collect();
    valuations.push(valuation_on(as_of, Some(1000.0), Some(10.0), Some(2.0)));
    let signal = valuation(
        &aapl(),
        &valuations,
        &[],
        &[],
        as_of,
        &ValuationParams::default(),
    );
    assert_eq!(signal.input("pe_median").unwrap().value, 20.0);
    // Mean of +1 and 0: score 0.5 → bullish, 50.
    assert_eq!(signal.signal, Signal::Bullish);
    assert_eq!(signal.confidence.value(), 50);
    assert!(signal.input("ev_ebitda").is_none());
}

#[test]
fn a_negative_pe_is_left_out_and_too_little_history_refuses() {
    let as_of = date("2013-06-28");
    let valuations: Vec<DailyValuation> = (0..10)
        .map(|i| {
            valuation_on(
                as_of - Duration::days(10 - i),
                Some(1000.0),
                Some(-5.0),
                Some(2.0),
            )
        })
        .collect();
    let signal = valuation(
        &aapl(),
        &valuations,
        &[],
        &[],
        as_of,
        &ValuationParams::default(),
    );
    assert_eq!(signal.signal, Signal::InsufficientData);
    assert_eq!(signal.confidence.value(), 0);
    assert!(
        signal.reasoning.contains("pe: none positive"),
        "{}",
        signal.reasoning
    );
    assert!(
        signal.reasoning.contains("pb: 10 of the 60 observations"),
        "{}",
        signal.reasoning
    );
}

#[test]
fn without_a_market_cap_there_is_no_view() {
    let signal = valuation(
        &aapl(),
        &[valuation_on(date("2013-02-28"), None, Some(10.0), None)],
        &statements_2012(),
        &[],
        date("2013-03-01"),
        &ValuationParams::default(),
    );
    assert_eq!(signal.signal, Signal::InsufficientData);
    assert!(signal.reasoning.contains("no market capitalisation"));
}
