//! Volatility measures: how widely price moves, in absolute terms (ATR), around its mean
//! (Bollinger bands) or in units of its own dispersion (z-score).

use super::error::{IndicatorError, check_hlc, check_period};

/// Bollinger bands, each as long as the input; first values at index `period − 1`.
#[derive(Debug, Clone, PartialEq)]
pub struct Bollinger {
    /// Simple moving average of the window.
    pub middle: Vec<f64>,
    /// Middle plus `k` population standard deviations.
    pub upper: Vec<f64>,
    /// Middle minus `k` population standard deviations.
    pub lower: Vec<f64>,
}

/// Bollinger bands over `period` values at `k` population standard deviations (TA-Lib's
/// `BBANDS` with equal up and down multipliers and a simple moving average).
///
/// # Errors
/// [`IndicatorError::ZeroPeriod`] when `period` is 0; [`IndicatorError::InvalidMultiplier`]
/// unless `k` is finite and positive.
pub fn bollinger(close: &[f64], period: usize, k: f64) -> Result<Bollinger, IndicatorError> {
    check_period("bollinger", "period", period)?;
    if !(k.is_finite() && k > 0.0) {
        return Err(IndicatorError::InvalidMultiplier {
            indicator: "bollinger",
            value: k,
        });
    }
    let n = close.len();
    let mut out = Bollinger {
        middle: vec![f64::NAN; n],
        upper: vec![f64::NAN; n],
        lower: vec![f64::NAN; n],
    };
    for_each_window(close, period, |i, mean, std_dev| {
        out.middle[i] = mean;
        out.upper[i] = mean + k * std_dev;
        out.lower[i] = mean - k * std_dev;
    });
    Ok(out)
}

/// Distance of each value from the mean of the last `period` values, in population standard
/// deviations; first value at index `period − 1`. A window whose values are all equal gives
/// 0 rather than 0/0.
///
/// # Errors
/// [`IndicatorError::ZeroPeriod`] when `period` is 0.
pub fn zscore(values: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("zscore", "period", period)?;
    let mut out = vec![f64::NAN; values.len()];
    for_each_window(values, period, |i, mean, std_dev| {
        out[i] = if std_dev > 0.0 {
            (values[i] - mean) / std_dev
        } else {
            0.0
        };
    });
    Ok(out)
}

/// Average true range with Wilder's smoothing (TA-Lib's `ATR`).
///
/// True range from index 1 on is the largest of high − low, |high − previous close| and
/// |low − previous close|. The first ATR, at index `period`, is the mean of the first
/// `period` true ranges; each later one is `(previous × (period − 1) + TR) / period`.
///
/// # Errors
/// [`IndicatorError::ZeroPeriod`] when `period` is 0; [`IndicatorError::LengthMismatch`]
/// unless the three series have the same length.
pub fn atr(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    period: usize,
) -> Result<Vec<f64>, IndicatorError> {
    check_period("atr", "period", period)?;
    check_hlc("atr", high, low, close)?;
    let mut out = vec![f64::NAN; close.len()];
    let weight = period as f64;
    let mut average = 0.0;
    for i in 1..close.len() {
        let range = true_range(high[i], low[i], close[i - 1]);
        if i < period {
            average += range;
            continue;
        }
        average = if i == period {
            (average + range) / weight
        } else {
            (average * (weight - 1.0) + range) / weight
        };
        out[i] = average;
    }
    Ok(out)
}

/// The session's range widened to include a gap from the previous close.
pub(super) fn true_range(high: f64, low: f64, previous_close: f64) -> f64 {
    (high - low)
        .max((high - previous_close).abs())
        .max((low - previous_close).abs())
}

/// Calls `emit(index, mean, population_std_dev)` for each full window of `period` values.
///
/// Moments slide with Welford's update in O(1) per step and are recomputed exactly from the
/// window every `period` steps (amortised O(1)), so rounding error cannot accumulate over a
/// long series; it stays far below TA-Lib's running sum of squares. A window of identical
/// values is detected exactly and reported with a standard deviation of 0, which
/// floating-point sliding alone cannot promise.
fn for_each_window(values: &[f64], period: usize, mut emit: impl FnMut(usize, f64, f64)) {
    let size = period as f64;
    let (mut mean, mut m2, mut equal_run) = (0.0, 0.0, 0_usize);
    for (i, &value) in values.iter().enumerate() {
        equal_run = if i > 0 && value == values[i - 1] {
            equal_run + 1
        } else {
            1
        };
        let Some(start) = (i + 1).checked_sub(period) else {
            continue;
        };
        if (i + 1) % period == 0 {
            (mean, m2) = exact_moments(&values[start..=i]);
        } else {
            // Not a multiple of `period`, so this is not the first window and start >= 1.
            let leaving = values[start - 1];
            let previous_mean = mean;
            mean += (value - leaving) / size;
            m2 += (value - leaving) * (value - mean + leaving - previous_mean);
        }
        if equal_run >= period {
            emit(i, value, 0.0);
        } else {
            emit(i, mean, (m2 / size).max(0.0).sqrt());
        }
    }
}

/// Mean and sum of squared deviations of a non-empty window, by two passes.
fn exact_moments(window: &[f64]) -> (f64, f64) {
    let mean = window.iter().sum::<f64>() / window.len() as f64;
    let m2 = window.iter().map(|x| (x - mean) * (x - mean)).sum();
    (mean, m2)
}

#[cfg(test)]
#[path = "volatility_tests.rs"]
mod tests;
