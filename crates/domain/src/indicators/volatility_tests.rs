//! Hand-computed checks of Bollinger bands, z-score and ATR, warm-up included.

use super::super::test_support::{NAN, assert_series};
use super::*;

fn brute_force_moments(window: &[f64]) -> (f64, f64) {
    let mean = window.iter().sum::<f64>() / window.len() as f64;
    let variance = window.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / window.len() as f64;
    (mean, variance.sqrt())
}

#[test]
fn bollinger_uses_the_population_standard_deviation() {
    let close = [1.0, 2.0, 3.0, 4.0, 5.0, 5.0, 5.0, 5.0];
    let s = (2.0_f64 / 3.0).sqrt(); // std of three consecutive integers
    let s5 = (2.0_f64 / 9.0).sqrt(); // std of [4, 5, 5]
    let m5 = 14.0 / 3.0;
    let out = bollinger(&close, 3, 2.0).unwrap();
    assert_series(&out.middle, &[NAN, NAN, 2.0, 3.0, 4.0, m5, 5.0, 5.0]);
    assert_series(
        &out.upper,
        &[
            NAN,
            NAN,
            2.0 + 2.0 * s,
            3.0 + 2.0 * s,
            4.0 + 2.0 * s,
            m5 + 2.0 * s5,
            5.0,
            5.0,
        ],
    );
    assert_series(
        &out.lower,
        &[
            NAN,
            NAN,
            2.0 - 2.0 * s,
            3.0 - 2.0 * s,
            4.0 - 2.0 * s,
            m5 - 2.0 * s5,
            5.0,
            5.0,
        ],
    );
}

#[test]
fn bollinger_collapses_exactly_on_a_flat_window_of_inexact_decimals() {
    let out = bollinger(&[0.1, 0.1, 0.1, 0.1], 3, 2.0).unwrap();
    assert_eq!(out.upper[3], 0.1);
    assert_eq!(out.lower[3], 0.1);
}

#[test]
fn bollinger_matches_a_brute_force_window_over_a_long_series_with_a_split() {
    // Thousands of sliding updates, then an unadjusted 10-for-1 split: rounding error from
    // the sliding update must neither accumulate nor survive the change of price level.
    let close: Vec<f64> = (0..3000)
        .map(|i| {
            let wiggle = ((i * 37 % 11) as f64) / 10.0;
            if i < 1500 {
                200.0 + 10.0 * wiggle
            } else {
                20.0 + wiggle
            }
        })
        .collect();
    let out = bollinger(&close, 7, 1.5).unwrap();
    for i in 6..close.len() {
        let (mean, std_dev) = brute_force_moments(&close[i - 6..=i]);
        assert!((out.middle[i] - mean).abs() < 1e-9, "middle at {i}");
        assert!(
            (out.upper[i] - (mean + 1.5 * std_dev)).abs() < 1e-9,
            "upper at {i}"
        );
    }
}

#[test]
fn bollinger_rejects_a_non_positive_or_infinite_multiplier() {
    for k in [0.0, -2.0, f64::INFINITY, f64::NAN] {
        assert!(matches!(
            bollinger(&[1.0], 20, k),
            Err(IndicatorError::InvalidMultiplier { .. })
        ));
    }
    assert_eq!(
        bollinger(&[1.0], 20, -1.0).unwrap_err().to_string(),
        "bollinger multiplier must be a finite number greater than 0, got -1"
    );
    assert!(bollinger(&[1.0], 0, 2.0).is_err());
}

#[test]
fn bollinger_too_long_is_all_warm_up() {
    let out = bollinger(&[1.0, 2.0], 3, 2.0).unwrap();
    assert_series(&out.middle, &[NAN, NAN]);
    assert_series(&out.lower, &[NAN, NAN]);
}

#[test]
fn zscore_measures_distance_in_standard_deviations() {
    let values = [1.0, 2.0, 3.0, 3.0, 3.0, 9.0];
    let s = (2.0_f64 / 3.0).sqrt();
    // [2,3,3]: mean 8/3, std sqrt(2/9); [3,3,9]: mean 5, std sqrt(8)
    let z3 = (3.0 - 8.0 / 3.0) / (2.0_f64 / 9.0).sqrt();
    let z5 = (9.0 - 5.0) / 8.0_f64.sqrt();
    assert_series(
        &zscore(&values, 3).unwrap(),
        &[NAN, NAN, 1.0 / s, z3, 0.0, z5],
    );
}

#[test]
fn zscore_is_zero_on_a_flat_window_and_rejects_a_zero_period() {
    assert_series(&zscore(&[0.3, 0.3, 0.3], 2).unwrap(), &[NAN, 0.0, 0.0]);
    assert_series(&zscore(&[4.0, 5.0], 1).unwrap(), &[0.0, 0.0]);
    assert_eq!(
        zscore(&[1.0], 0).unwrap_err().to_string(),
        "zscore period must be at least 1"
    );
}

const HIGH: [f64; 6] = [10.0, 12.0, 11.0, 15.0, 14.0, 13.0];
const LOW: [f64; 6] = [8.0, 9.0, 9.5, 12.0, 12.5, 10.0];
const CLOSE: [f64; 6] = [9.0, 11.0, 10.0, 14.0, 13.0, 11.0];
// True ranges from index 1: 3 (high−low), 1.5, 5 (gap over the close of 10), 1.5, 3.

#[test]
fn atr_starts_with_the_mean_true_range_then_smooths() {
    let first = (3.0 + 1.5 + 5.0) / 3.0;
    let second = (first * 2.0 + 1.5) / 3.0;
    let third = (second * 2.0 + 3.0) / 3.0;
    assert_series(
        &atr(&HIGH, &LOW, &CLOSE, 3).unwrap(),
        &[NAN, NAN, NAN, first, second, third],
    );
}

#[test]
fn atr_of_period_one_is_the_true_range() {
    assert_series(
        &atr(&HIGH, &LOW, &CLOSE, 1).unwrap(),
        &[NAN, 3.0, 1.5, 5.0, 1.5, 3.0],
    );
}

#[test]
fn atr_needs_more_bars_than_its_period() {
    assert_series(
        &atr(&HIGH[..3], &LOW[..3], &CLOSE[..3], 3).unwrap(),
        &[NAN; 3],
    );
    assert!(atr(&[], &[], &[], 14).unwrap().is_empty());
}

#[test]
fn atr_rejects_series_of_different_lengths() {
    assert_eq!(
        atr(&HIGH, &LOW[..5], &CLOSE, 3).unwrap_err().to_string(),
        "atr needs high, low and close of equal length, got 6, 5 and 6"
    );
}

#[test]
fn atr_matches_the_one_step_recursion_across_blocks() {
    // Long enough to cross several of the kernel's 256-value blocks and end inside one.
    let n = 1_037;
    let close: Vec<f64> = (0..n)
        .map(|i| 100.0 + ((i * 7919) % 29) as f64 * 0.5)
        .collect();
    let high: Vec<f64> = close
        .iter()
        .enumerate()
        .map(|(i, c)| c + (i % 5) as f64 * 0.75)
        .collect();
    let low: Vec<f64> = close
        .iter()
        .enumerate()
        .map(|(i, c)| c - (i % 7) as f64 * 0.5)
        .collect();
    let period = 14;
    let tr = |i: usize| {
        (high[i] - low[i])
            .max((high[i] - close[i - 1]).abs())
            .max((low[i] - close[i - 1]).abs())
    };
    let mut expected = vec![NAN; period];
    let mut average = (1..=period).map(tr).sum::<f64>() / period as f64;
    expected.push(average);
    for i in period + 1..n {
        average = (average * (period - 1) as f64 + tr(i)) / period as f64;
        expected.push(average);
    }
    assert_series(&atr(&high, &low, &close, period).unwrap(), &expected);
}
