//! Technical analyst checked on real AAPL history (demo file) against independently
//! computed indicators.

use super::*;
use crate::analysis::demo_data::{date, demo_bars};

const TOLERANCE: f64 = 1e-9;

fn aapl() -> (Symbol, Vec<DailyBar>) {
    (Symbol::parse("AAPL").unwrap(), demo_bars("AAPL"))
}

fn closes_up_to(bars: &[DailyBar], as_of: NaiveDate) -> Vec<f64> {
    bars.iter()
        .filter(|b| b.trade_date <= as_of)
        .map(|b| b.close.to_string().parse().unwrap())
        .collect()
}

/// Textbook EMA, written independently of the kernel: SMA seed, then alpha = 2 / (n + 1).
fn naive_ema(values: &[f64], period: usize) -> Vec<f64> {
    let alpha = 2.0 / (period as f64 + 1.0);
    let mut out = vec![f64::NAN; values.len()];
    let mut current = values[..period].iter().sum::<f64>() / period as f64;
    out[period - 1] = current;
    for i in period..values.len() {
        current = alpha * values[i] + (1.0 - alpha) * current;
        out[i] = current;
    }
    out
}

/// Wilder's RSI at the last value.
fn naive_rsi(values: &[f64], period: usize) -> f64 {
    let changes: Vec<f64> = values.windows(2).map(|w| w[1] - w[0]).collect();
    let (mut gain, mut loss) = (0.0, 0.0);
    for c in &changes[..period] {
        gain += c.max(0.0) / period as f64;
        loss += (-c).max(0.0) / period as f64;
    }
    for c in &changes[period..] {
        gain = (gain * (period as f64 - 1.0) + c.max(0.0)) / period as f64;
        loss = (loss * (period as f64 - 1.0) + (-c).max(0.0)) / period as f64;
    }
    100.0 * gain / (gain + loss)
}

/// Mean and population standard deviation of the last `n` values.
fn tail_moments(values: &[f64], n: usize) -> (f64, f64) {
    let tail = &values[values.len() - n..];
    let mean = tail.iter().sum::<f64>() / n as f64;
    let var = tail.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
    (mean, var.sqrt())
}

#[track_caller]
fn assert_input(signal: &AnalystSignal, name: &str, expected: f64) {
    let input = signal
        .input(name)
        .unwrap_or_else(|| panic!("no input {name}"));
    assert!(
        (input.value - expected).abs() <= TOLERANCE,
        "{name}: got {}, expected {expected}",
        input.value
    );
}

#[test]
fn refuses_with_fewer_than_200_bars_and_says_how_many_it_has() {
    let (symbol, bars) = aapl();
    let as_of = bars[198].trade_date;
    let signal = technical(&symbol, &bars, as_of);
    assert_eq!(signal.signal, Signal::InsufficientData);
    assert_eq!(signal.confidence, Confidence::ZERO);
    assert_eq!(
        signal.reasoning,
        format!("has 199 daily bars up to {as_of}, needs at least 200")
    );
    let enough = technical(&symbol, &bars, bars[199].trade_date);
    assert_ne!(
        enough.signal,
        Signal::InsufficientData,
        "{}",
        enough.reasoning
    );
}

#[test]
fn bars_after_as_of_and_input_order_change_nothing() {
    let (symbol, bars) = aapl();
    let as_of = date("2006-07-14");
    let cut = bars.iter().position(|b| b.trade_date > as_of).unwrap();
    let expected = technical(&symbol, &bars[..cut], as_of);
    assert_eq!(technical(&symbol, &bars, as_of), expected);
    let mut shuffled = bars.clone();
    shuffled.reverse();
    assert_eq!(technical(&symbol, &shuffled, as_of), expected);
    assert!(expected.inputs.iter().all(|i| i.as_of <= as_of));
}

#[test]
fn reports_the_golden_cross_state_from_the_day_after_ema50_crosses_ema200() {
    let (symbol, bars) = aapl();
    let closes = closes_up_to(&bars, date("2013-12-31"));
    let (fast, slow) = (naive_ema(&closes, 50), naive_ema(&closes, 200));
    let start = bars
        .iter()
        .position(|b| b.trade_date >= date("2003-01-01"))
        .unwrap();
    let cross = (start..closes.len())
        .find(|&i| fast[i - 1] <= slow[i - 1] && fast[i] > slow[i])
        .unwrap();

    let before = technical(&symbol, &bars, bars[cross - 1].trade_date);
    let after = technical(&symbol, &bars, bars[cross + 1].trade_date);

    assert_input(&before, "long_trend_state", -1.0);
    assert_input(&after, "long_trend_state", 1.0);
    assert_input(&after, "ema_50", fast[cross + 1]);
    assert_input(&after, "ema_200", slow[cross + 1]);
    assert!(
        after.reasoning.contains("golden-cross state"),
        "{}",
        after.reasoning
    );
}

#[test]
fn aapl_after_the_2003_rally_has_a_bullish_trend_and_traceable_inputs() {
    let (symbol, bars) = aapl();
    let as_of = date("2003-12-31");
    let closes = closes_up_to(&bars, as_of);
    let last = closes.len() - 1;

    let signal = technical(&symbol, &bars, as_of);

    assert_input(&signal, "close", closes[last]);
    assert_input(&signal, "long_trend_state", 1.0);
    assert!(signal.input("trend_score").unwrap().value > 0.0);
    for period in [8, 21, 50, 200] {
        assert_input(
            &signal,
            &format!("ema_{period}"),
            naive_ema(&closes, period)[last],
        );
    }
    assert_input(&signal, "rsi_14", naive_rsi(&closes, 14));
    let (mean50, sd50) = tail_moments(&closes, 50);
    assert_input(&signal, "sma_50", mean50);
    assert_input(&signal, "zscore_50", (closes[last] - mean50) / sd50);
    let (mean20, sd20) = tail_moments(&closes, 20);
    let lower = mean20 - 2.0 * sd20;
    assert_input(&signal, "percent_b", (closes[last] - lower) / (4.0 * sd20));
    assert_input(
        &signal,
        "roc_20",
        (closes[last] / closes[last - 20] - 1.0) * 100.0,
    );
    let returns: Vec<f64> = closes[last - 20..]
        .windows(2)
        .map(|w| w[1] / w[0] - 1.0)
        .collect();
    let mean = returns.iter().sum::<f64>() / 20.0;
    let var = returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / 19.0;
    assert_input(&signal, "realised_vol_20", var.sqrt());
    assert_eq!(signal.input("ema_50").unwrap().as_of, as_of);
}

#[test]
fn the_signal_follows_the_weighted_component_scores_and_threshold() {
    let (symbol, bars) = aapl();
    for as_of in ["2003-12-31", "2008-10-31", "2011-06-30", "2012-09-21"] {
        let signal = technical(&symbol, &bars, date(as_of));
        let weighted: f64 = TECHNICAL_WEIGHTS
            .iter()
            .map(|(name, w)| w * signal.input(&format!("{name}_score")).unwrap().value)
            .sum();
        assert_input(&signal, "weighted_score", weighted);
        let damping = signal.input("confidence_damping").unwrap().value;
        let expected = if weighted > 0.2 {
            Signal::Bullish
        } else if weighted < -0.2 {
            Signal::Bearish
        } else {
            Signal::Neutral
        };
        assert_eq!(signal.signal, expected, "{as_of}: {}", signal.reasoning);
        assert_eq!(
            signal.confidence.value(),
            (weighted.abs() * damping * 100.0).round() as u8
        );
    }
}

#[test]
fn aapl_in_the_2008_crash_is_in_the_death_cross_state_and_bearish() {
    let (symbol, bars) = aapl();
    let signal = technical(&symbol, &bars, date("2008-10-31"));
    assert_input(&signal, "long_trend_state", -1.0);
    assert!(signal.input("trend_score").unwrap().value < 0.0);
    assert_eq!(signal.signal, Signal::Bearish, "{}", signal.reasoning);
    assert!(signal.input("confidence_damping").unwrap().value < 1.0);
}

#[test]
fn weights_sum_to_one() {
    let total: f64 = TECHNICAL_WEIGHTS.iter().map(|(_, w)| w).sum();
    assert!((total - 1.0).abs() < 1e-12);
}

/// The input names carry the periods the code uses, and the catalogue sentence states them.
#[test]
fn input_names_and_the_description_follow_the_parameters() {
    let (symbol, bars) = aapl();
    let signal = technical(&symbol, &bars, date("2012-12-31"));
    for name in [
        format!("ema_{}", EMA_SHORT.0),
        format!("ema_{}", EMA_SHORT.1),
        format!("ema_{}", EMA_LONG.0),
        format!("ema_{}", EMA_LONG.1),
        format!("adx_{ADX_PERIOD}"),
        format!("rsi_{RSI_PERIOD}"),
        format!("roc_{}", ROC_PERIODS.0),
        format!("roc_{}", ROC_PERIODS.1),
        format!("sma_{ZSCORE_WINDOW}"),
        format!("zscore_{ZSCORE_WINDOW}"),
        format!("bollinger_upper_{}_{}", BOLLINGER.0, BOLLINGER.1),
        format!("realised_vol_{VOL_WINDOW}"),
    ] {
        assert!(signal.input(&name).is_some(), "no input {name}");
    }
    assert_eq!(
        technical_description(),
        "Trend (EMA 8/21 and EMA 50/200 crossovers, ADX 14), momentum (RSI 14, MACD 12/26/9, \
         20- and 60-day rate of change), mean reversion (z-score of the close over 50 bars, \
         position in the Bollinger 20/2 bands) and volatility regime (20-day realised volatility \
         against its 252-bar median), weighted 0.35/0.30/0.20/0.15; above 0.2 bullish, below \
         −0.2 bearish; needs 200 bars"
    );
}
