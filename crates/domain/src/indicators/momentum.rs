//! Momentum oscillators: how fast and how one-sidedly price has been moving.

use super::error::{IndicatorError, check_period};
use super::moving::{mean, smoothing};

/// Relative strength index with Wilder's smoothing, first value at index `period`.
///
/// The first average gain and loss are the simple means of the first `period` changes; each
/// later one is `(previous × (period − 1) + current) / period`. RSI is
/// `100 × gain / (gain + loss)`. A window without any movement yields 50, where TA-Lib
/// yields 0: a flat series is neither overbought nor oversold, and 0 would read as the
/// strongest "oversold" signal there is.
///
/// # Errors
/// [`IndicatorError::ZeroPeriod`] when `period` is 0.
pub fn rsi(close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("rsi", "period", period)?;
    let mut out = vec![f64::NAN; close.len()];
    if close.len() <= period {
        return Ok(out);
    }
    let weight = period as f64;
    let (mut gain, mut loss) = (0.0, 0.0);
    for (i, pair) in close.windows(2).enumerate() {
        let change = pair[1] - pair[0];
        let (up, down) = if change > 0.0 {
            (change, 0.0)
        } else {
            (0.0, -change)
        };
        let today = i + 1;
        if today < period {
            gain += up;
            loss += down;
            continue;
        }
        if today == period {
            gain = (gain + up) / weight;
            loss = (loss + down) / weight;
        } else {
            gain = (gain * (weight - 1.0) + up) / weight;
            loss = (loss * (weight - 1.0) + down) / weight;
        }
        let total = gain + loss;
        out[today] = if total > 0.0 {
            100.0 * gain / total
        } else {
            50.0
        };
    }
    Ok(out)
}

/// Rate of change in percent against `period` values earlier: `(x / x[−period] − 1) × 100`,
/// first value at index `period`. NaN where the earlier value is 0 (TA-Lib writes 0 there,
/// which would claim "no change" for an undefined ratio).
///
/// # Errors
/// [`IndicatorError::ZeroPeriod`] when `period` is 0.
pub fn roc(values: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("roc", "period", period)?;
    let mut out = vec![f64::NAN; values.len()];
    for i in period..values.len() {
        let before = values[i - period];
        if before != 0.0 {
            out[i] = (values[i] / before - 1.0) * 100.0;
        }
    }
    Ok(out)
}

/// The three MACD series, each as long as the input.
#[derive(Debug, Clone, PartialEq)]
pub struct Macd {
    /// Fast EMA minus slow EMA; first value at index `slow − 1`.
    pub macd: Vec<f64>,
    /// EMA of the MACD line over `signal`; first value at index `slow + signal − 2`.
    pub signal: Vec<f64>,
    /// MACD line minus signal; same warm-up as `signal`.
    pub histogram: Vec<f64>,
}

/// Moving average convergence/divergence, computed as TA-Lib does.
///
/// Both EMAs start at index `slow − 1`: the slow one seeded with the mean of the first `slow`
/// values, the fast one with the mean of the `fast` values ending there (not of the first
/// `fast` values, so the line differs slightly from `ema(fast) − ema(slow)` at first). The
/// signal is an EMA of the line seeded with the mean of its first `signal` values. From index
/// `slow + signal − 2` on, all three match TA-Lib's `MACD`; TA-Lib hides the line before
/// that index, here it is shown from `slow − 1` because it is already final there.
///
/// # Errors
/// [`IndicatorError::ZeroPeriod`] for a zero period; [`IndicatorError::FastNotBelowSlow`]
/// unless `fast < slow`.
pub fn macd(
    close: &[f64],
    fast: usize,
    slow: usize,
    signal: usize,
) -> Result<Macd, IndicatorError> {
    check_period("macd", "fast period", fast)?;
    check_period("macd", "slow period", slow)?;
    check_period("macd", "signal period", signal)?;
    if fast >= slow {
        return Err(IndicatorError::FastNotBelowSlow { fast, slow });
    }
    let n = close.len();
    let mut out = Macd {
        macd: vec![f64::NAN; n],
        signal: vec![f64::NAN; n],
        histogram: vec![f64::NAN; n],
    };
    let start = slow - 1;
    let (Some(mut slow_ema), Some(mut fast_ema)) =
        (mean(close.get(..slow)), mean(close.get(slow - fast..slow)))
    else {
        return Ok(out);
    };
    let (fast_alpha, slow_alpha, signal_alpha) =
        (smoothing(fast), smoothing(slow), smoothing(signal));
    let signal_start = start + signal - 1;
    let mut signal_line = 0.0;
    for (i, value) in close.iter().enumerate().skip(start) {
        if i > start {
            fast_ema += fast_alpha * (value - fast_ema);
            slow_ema += slow_alpha * (value - slow_ema);
        }
        let line = fast_ema - slow_ema;
        out.macd[i] = line;
        if i < signal_start {
            signal_line += line;
            continue;
        }
        if i == signal_start {
            signal_line = (signal_line + line) / signal as f64;
        } else {
            signal_line += signal_alpha * (line - signal_line);
        }
        out.signal[i] = signal_line;
        out.histogram[i] = line - signal_line;
    }
    Ok(out)
}

#[cfg(test)]
#[path = "momentum_tests.rs"]
mod tests;
