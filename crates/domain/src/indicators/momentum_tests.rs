//! Hand-computed checks of RSI, ROC and MACD, warm-up included.

use super::super::ema;
use super::super::test_support::{NAN, assert_series};
use super::*;

#[test]
fn rsi_uses_simple_means_first_then_wilder_smoothing() {
    let close = [44.0, 44.5, 44.0, 45.0, 46.0, 45.5];
    // changes: +0.5, -0.5, +1, +1, -0.5; period 3
    let (g3, l3) = ((0.5 + 0.0 + 1.0) / 3.0, (0.0 + 0.5 + 0.0) / 3.0);
    let (g4, l4) = ((g3 * 2.0 + 1.0) / 3.0, (l3 * 2.0 + 0.0) / 3.0);
    let (g5, l5) = ((g4 * 2.0 + 0.0) / 3.0, (l4 * 2.0 + 0.5) / 3.0);
    let value = |g: f64, l: f64| 100.0 * g / (g + l);
    let expected = [NAN, NAN, NAN, value(g3, l3), value(g4, l4), value(g5, l5)];
    assert_series(&rsi(&close, 3).unwrap(), &expected);
    assert_series(&expected[3..], &[75.0, 600.0 / 7.0, 1200.0 / 18.5]);
}

#[test]
fn rsi_is_100_when_only_rising_and_0_when_only_falling() {
    assert_series(
        &rsi(&[1.0, 2.0, 3.0, 4.0], 2).unwrap(),
        &[NAN, NAN, 100.0, 100.0],
    );
    assert_series(
        &rsi(&[4.0, 3.0, 2.0, 1.0], 2).unwrap(),
        &[NAN, NAN, 0.0, 0.0],
    );
}

#[test]
fn rsi_of_a_flat_series_is_50() {
    assert_series(&rsi(&[5.0; 4], 2).unwrap(), &[NAN, NAN, 50.0, 50.0]);
}

#[test]
fn rsi_needs_more_values_than_its_period() {
    assert_series(&rsi(&[1.0, 2.0, 3.0], 3).unwrap(), &[NAN; 3]);
    assert!(rsi(&[], 14).unwrap().is_empty());
    assert_eq!(
        rsi(&[1.0], 0).unwrap_err().to_string(),
        "rsi period must be at least 1"
    );
}

#[test]
fn roc_is_the_percent_change_over_the_period() {
    let values = [10.0, 11.0, 12.0, 5.5, 13.2];
    let expected = [NAN, NAN, 20.0, -50.0, 10.0];
    assert_series(&roc(&values, 2).unwrap(), &expected);
}

#[test]
fn roc_is_nan_against_a_zero_base_and_all_warm_up_when_too_short() {
    assert_series(&roc(&[0.0, 5.0, 6.0], 1).unwrap(), &[NAN, NAN, 20.0]);
    assert_series(&roc(&[1.0, 2.0], 2).unwrap(), &[NAN, NAN]);
    assert!(roc(&[1.0], 0).is_err());
}

#[test]
fn macd_follows_ta_lib_seeding_and_alignment() {
    let close = [1.0, 2.0, 4.0, 7.0, 11.0, 10.0, 8.0];
    // fast 2 (alpha 2/3), slow 3 (alpha 1/2), signal 2 (alpha 2/3); both EMAs start at index 2
    let (fa, sa, ga) = (2.0 / 3.0, 0.5, 2.0 / 3.0);
    let mut slow = (1.0 + 2.0 + 4.0) / 3.0;
    let mut fast = (2.0 + 4.0) / 2.0; // the fast window ending at index 2, not the first two
    let mut line = vec![NAN, NAN, fast - slow];
    for value in &close[3..] {
        fast += fa * (value - fast);
        slow += sa * (value - slow);
        line.push(fast - slow);
    }
    let mut signal = vec![NAN, NAN, NAN, (line[2] + line[3]) / 2.0];
    for i in 4..7 {
        let previous = signal[i - 1];
        signal.push(previous + ga * (line[i] - previous));
    }
    let histogram: Vec<f64> = line.iter().zip(&signal).map(|(m, s)| m - s).collect();

    let out = macd(&close, 2, 3, 2).unwrap();
    assert_series(&out.macd, &line);
    assert_series(&out.signal, &signal);
    assert_series(&out.histogram, &histogram);
    // spot checks worked out as fractions
    assert_series(&out.macd[2..5], &[2.0 / 3.0, 1.0, 25.0 / 18.0]);
    assert_series(&out.signal[3..5], &[5.0 / 6.0, 65.0 / 54.0]);
}

#[test]
fn macd_fast_ema_is_not_the_standalone_ema() {
    let close = [1.0, 2.0, 4.0, 7.0];
    let standalone = ema(&close, 2).unwrap()[2] - ema(&close, 3).unwrap()[2];
    let line = macd(&close, 2, 3, 2).unwrap().macd[2];
    assert!((line - 2.0 / 3.0).abs() < 1e-12);
    assert!((standalone - line).abs() > 0.1);
}

#[test]
fn macd_with_signal_one_equals_its_line() {
    let out = macd(&[3.0, 1.0, 4.0, 1.0, 5.0], 1, 2, 1).unwrap();
    assert_series(&out.signal, &out.macd);
    assert_series(&out.histogram, &[NAN, 0.0, 0.0, 0.0, 0.0]);
}

#[test]
fn macd_shorter_than_slow_is_all_warm_up() {
    let out = macd(&[1.0, 2.0], 2, 3, 2).unwrap();
    assert_series(&out.macd, &[NAN, NAN]);
    assert_series(&out.signal, &[NAN, NAN]);
    let out = macd(&[1.0, 2.0, 3.0], 2, 3, 2).unwrap();
    assert_series(&out.macd, &[NAN, NAN, 2.5 - 2.0]);
    assert_series(&out.histogram, &[NAN; 3]);
}

#[test]
fn macd_rejects_bad_periods() {
    assert_eq!(
        macd(&[1.0], 26, 12, 9).unwrap_err().to_string(),
        "macd fast period must be less than slow period, got fast 26 and slow 12"
    );
    assert!(macd(&[1.0], 12, 12, 9).is_err());
    assert_eq!(
        macd(&[1.0], 12, 26, 0).unwrap_err().to_string(),
        "macd signal period must be at least 1"
    );
}

/// A price-like walk long enough to cross several of the kernels' 256-value blocks and end
/// inside one.
fn walk(n: usize) -> Vec<f64> {
    let mut x = 100.0;
    (0..n)
        .map(|i| {
            x += ((i * 7919) % 13) as f64 * 0.25 - 1.5;
            x
        })
        .collect()
}

#[test]
fn macd_matches_the_one_step_recursion_across_blocks() {
    let close = walk(1_037);
    let (fast, slow, sig) = (12, 26, 9);
    let (fa, sa, ga) = (2.0 / 13.0, 2.0 / 27.0, 2.0 / 10.0);
    let mut slow_ema = close[..slow].iter().sum::<f64>() / slow as f64;
    let mut fast_ema = close[slow - fast..slow].iter().sum::<f64>() / fast as f64;
    let mut line = vec![NAN; slow - 1];
    line.push(fast_ema - slow_ema);
    for value in &close[slow..] {
        fast_ema += fa * (value - fast_ema);
        slow_ema += sa * (value - slow_ema);
        line.push(fast_ema - slow_ema);
    }
    let signal_start = slow - 1 + sig - 1;
    let mut signal = vec![NAN; signal_start];
    signal.push(line[slow - 1..=signal_start].iter().sum::<f64>() / sig as f64);
    for value in &line[signal_start + 1..] {
        let previous = signal[signal.len() - 1];
        signal.push(previous + ga * (value - previous));
    }
    let histogram: Vec<f64> = line.iter().zip(&signal).map(|(m, s)| m - s).collect();

    let out = macd(&close, fast, slow, sig).unwrap();
    assert_series(&out.macd, &line);
    assert_series(&out.signal, &signal);
    assert_series(&out.histogram, &histogram);
}
