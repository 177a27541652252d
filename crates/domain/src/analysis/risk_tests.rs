//! Risk limits checked on hand-computed series and on AAPL, MSFT and IBM in 2012.

use std::str::FromStr;

use super::*;
use crate::analysis::demo_data::{date, demo_closes};

fn sym(code: &str) -> Symbol {
    Symbol::parse(code).unwrap()
}

/// Closes on consecutive January 2024 days starting on the 1st.
fn closes(values: &[f64]) -> Vec<(NaiveDate, f64)> {
    values
        .iter()
        .enumerate()
        .map(|(i, c)| (date("2024-01-01") + chrono::Days::new(i as u64), *c))
        .collect()
}

fn params(lookback: usize) -> RiskParams {
    RiskParams::new(0.20, 0.02, lookback, 0.5).unwrap()
}

const AS_OF: &str = "2024-01-31";
// Returns +10 %, −10 %, +10 %: mean 1/30, deviations 2/30, −4/30, 2/30,
// sample variance (4 + 16 + 4) / 900 / 2 = 0.01333…, daily vol 0.11547005…
const SWINGING: [f64; 4] = [100.0, 110.0, 99.0, 108.9];
const SWING_VOL: f64 = 0.115_470_053_837_925_15;

#[test]
fn a_volatile_security_alone_is_scaled_by_target_over_realised_vol() {
    let limits = risk_limits(
        Decimal::from(100_000),
        &[(sym("AAA"), closes(&SWINGING))],
        date(AS_OF),
        &params(3),
    );
    let limit = &limits[0];
    assert!((limit.daily_vol.unwrap() - SWING_VOL).abs() < 1e-12);
    let expected = 0.20 * 0.02 / SWING_VOL; // 0.0346410…
    assert!((limit.max_position_pct - expected).abs() < 1e-12);
    assert_eq!(
        limit.max_position_value,
        Decimal::from_str("3464.10").unwrap()
    );
    assert_eq!(limit.avg_correlation, None);
}

#[test]
fn a_perfectly_correlated_pair_loses_half_its_limit() {
    let series = [
        (sym("AAA"), closes(&SWINGING)),
        (sym("BBB"), closes(&[50.0, 55.0, 49.5, 54.45])),
    ];
    let limits = risk_limits(Decimal::from(100_000), &series, date(AS_OF), &params(3));
    for limit in &limits {
        assert!((limit.avg_correlation.unwrap() - 1.0).abs() < 1e-12);
        let expected = 0.20 * (0.02 / SWING_VOL) * (1.0 - 0.5);
        assert!((limit.max_position_pct - expected).abs() < 1e-12);
    }
    assert_eq!(
        limits[0].max_position_value,
        Decimal::from_str("1732.05").unwrap()
    );
}

#[test]
fn negative_average_correlation_is_not_rewarded() {
    let series = [
        (sym("AAA"), closes(&SWINGING)),
        (sym("BBB"), closes(&[50.0, 55.0, 49.5, 54.45])),
        (sym("CCC"), closes(&[100.0, 90.0, 99.0, 89.1])),
    ];
    let limits = risk_limits(Decimal::from(100_000), &series, date(AS_OF), &params(3));
    // AAA: (1 + −1) / 2 = 0 → no penalty; CCC: (−1 + −1) / 2 = −1 → floored at 0.
    assert!(limits[0].avg_correlation.unwrap().abs() < 1e-12);
    assert!((limits[2].avg_correlation.unwrap() + 1.0).abs() < 1e-12);
    let unpenalised = 0.20 * 0.02 / SWING_VOL;
    assert!((limits[0].max_position_pct - unpenalised).abs() < 1e-12);
    assert!((limits[2].max_position_pct - unpenalised).abs() < 1e-12);
}

#[test]
fn a_calm_security_gets_the_full_base_limit() {
    // +0.5 % then +1 %: sample vol 0.0035 < 2 % target.
    let series = [(sym("AAA"), closes(&[100.0, 100.5, 101.505]))];
    let limit = &risk_limits(Decimal::from(1_000), &series, date(AS_OF), &params(2))[0];
    assert!((limit.max_position_pct - 0.20).abs() < 1e-12);
    assert_eq!(limit.max_position_value, Decimal::from(200));
}

#[test]
fn short_history_gets_no_position_and_says_what_is_missing() {
    let series = [
        (sym("AAA"), closes(&SWINGING)),
        (sym("NEW"), closes(&[10.0, 11.0, 12.0])),
    ];
    let limits = risk_limits(Decimal::from(100_000), &series, date(AS_OF), &params(3));
    assert_eq!(limits[1].max_position_pct, 0.0);
    assert_eq!(limits[1].max_position_value, Decimal::ZERO);
    assert_eq!(limits[1].daily_vol, None);
    assert_eq!(
        limits[1].reasoning,
        "has 2 daily returns up to 2024-01-31, needs 3; no position allowed"
    );
    // The refused security is not correlated with the others.
    assert_eq!(limits[0].avg_correlation, None);
}

#[test]
fn closes_after_as_of_are_ignored() {
    let mut later = closes(&SWINGING);
    later.push((date("2024-02-10"), 500.0));
    let limits = risk_limits(
        Decimal::from(100_000),
        &[(sym("AAA"), later)],
        date(AS_OF),
        &params(3),
    );
    assert!((limits[0].daily_vol.unwrap() - SWING_VOL).abs() < 1e-12);
}

#[test]
fn rejects_out_of_range_parameters_by_name() {
    assert_eq!(
        RiskParams::new(1.5, 0.02, 60, 0.5).unwrap_err().to_string(),
        "base limit 1.5 must be in (0, 1]"
    );
    assert!(RiskParams::new(0.2, 0.0, 60, 0.5).is_err());
    assert!(RiskParams::new(0.2, 0.02, 1, 0.5).is_err());
    assert!(RiskParams::new(0.2, 0.02, 60, 1.1).is_err());
    assert_eq!(RiskParams::default(), params(60));
}

fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let cov: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let vy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
    cov / (vx * vy).sqrt()
}

#[test]
fn aapl_msft_ibm_limits_at_the_end_of_2012_match_an_independent_computation() {
    let as_of = date("2012-12-31");
    let tickers = ["AAPL", "MSFT", "IBM"];
    let series: Vec<(Symbol, Vec<(NaiveDate, f64)>)> =
        tickers.iter().map(|t| (sym(t), demo_closes(t))).collect();
    let returns: Vec<Vec<f64>> = series
        .iter()
        .map(|(_, s)| {
            let upto: Vec<f64> = s
                .iter()
                .filter(|(d, _)| *d <= as_of)
                .map(|(_, c)| *c)
                .collect();
            upto[upto.len() - 61..]
                .windows(2)
                .map(|w| w[1] / w[0] - 1.0)
                .collect()
        })
        .collect();

    let limits = risk_limits(
        Decimal::from(1_000_000),
        &series,
        as_of,
        &RiskParams::default(),
    );

    for (i, limit) in limits.iter().enumerate() {
        let others: Vec<f64> = (0..3)
            .filter(|&j| j != i)
            .map(|j| pearson(&returns[i], &returns[j]))
            .collect();
        let avg = others.iter().sum::<f64>() / 2.0;
        let mean = returns[i].iter().sum::<f64>() / 60.0;
        let vol = (returns[i].iter().map(|r| (r - mean).powi(2)).sum::<f64>() / 59.0).sqrt();
        let pct = 0.20 * (0.02 / vol).min(1.0) * (1.0 - 0.5 * avg.max(0.0));
        assert!(
            (limit.avg_correlation.unwrap() - avg).abs() < 1e-9,
            "{}",
            tickers[i]
        );
        assert!((limit.daily_vol.unwrap() - vol).abs() < 1e-9);
        assert!((limit.max_position_pct - pct).abs() < 1e-9);
        assert!(
            avg > 0.0 && pct < 0.20,
            "{}: {}",
            tickers[i],
            limit.reasoning
        );
    }
}
