//! Volatility measures: how widely price moves, in absolute terms (ATR), around its mean
//! (Bollinger bands) or in units of its own dispersion (z-score).

use super::error::{IndicatorError, check_hlc, check_period};
use super::moving::Smoother;

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
    let warm_up = (period - 1).min(n);
    let mut out = Bollinger {
        middle: Vec::with_capacity(n),
        upper: Vec::with_capacity(n),
        lower: Vec::with_capacity(n),
    };
    // Means into `middle` and variances into `upper` by a loop that holds its running
    // moments in registers; then square roots and bands in one pass the compiler vectorises.
    // Zeroed rather than NaN-filled: fresh pages from the kernel are zero already (memory the
    // allocator reuses costs one pass of stores; appending, as MACD and ATR do, would avoid
    // it, but `window_moments` writes into slices).
    out.middle = vec![0.0; n];
    out.upper = vec![0.0; n];
    out.middle[..warm_up].fill(f64::NAN);
    out.upper[..warm_up].fill(f64::NAN);
    window_moments(
        close,
        period,
        &mut out.middle[warm_up..],
        &mut out.upper[warm_up..],
    );
    out.lower.resize(warm_up, f64::NAN);
    out.lower.extend(
        out.middle[warm_up..]
            .iter()
            .zip(&mut out.upper[warm_up..])
            .map(|(&mean, upper)| {
                let width = k * upper.max(0.0).sqrt();
                *upper = mean + width;
                mean - width
            }),
    );
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
    let n = values.len();
    let warm_up = (period - 1).min(n);
    let mut out = vec![f64::NAN; n];
    let mut variances = vec![0.0; n - warm_up];
    window_moments(values, period, &mut out[warm_up..], &mut variances);
    for ((z, variance), value) in out[warm_up..]
        .iter_mut()
        .zip(&variances)
        .zip(&values[warm_up..])
    {
        let std_dev = variance.max(0.0).sqrt();
        *z = if std_dev > 0.0 {
            (value - *z) / std_dev
        } else {
            0.0
        };
    }
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
    let n = close.len();
    let mut out = Vec::with_capacity(n);
    if n <= period {
        out.resize(n, f64::NAN);
        return Ok(out);
    }
    out.resize(period, f64::NAN);
    let mut average = 0.0;
    for i in 1..=period {
        average += true_range(high[i], low[i], close[i - 1]);
    }
    average /= period as f64;
    out.push(average);
    // Four true ranges at a time, smoothed as they are computed: one pass over the inputs,
    // one store per value.
    let smoother = Smoother::wilder(period);
    let (h, l, c) = (
        &high[period + 1..],
        &low[period + 1..],
        &close[period..n - 1],
    );
    let mut hs = h.chunks_exact(4);
    let mut ls = l.chunks_exact(4);
    let mut cs = c.chunks_exact(4);
    for ((h4, l4), c4) in (&mut hs).zip(&mut ls).zip(&mut cs) {
        let tr = [
            true_range(h4[0], l4[0], c4[0]),
            true_range(h4[1], l4[1], c4[1]),
            true_range(h4[2], l4[2], c4[2]),
            true_range(h4[3], l4[3], c4[3]),
        ];
        let states = smoother.step4(average, tr);
        out.extend_from_slice(&states);
        average = states[3];
    }
    for ((&h1, &l1), &c1) in hs
        .remainder()
        .iter()
        .zip(ls.remainder())
        .zip(cs.remainder())
    {
        average = smoother.step(average, true_range(h1, l1, c1));
        out.push(average);
    }
    Ok(out)
}

/// The session's range widened to include a gap from the previous close.
///
/// Written as comparisons rather than `f64::max`, whose NaN handling costs three extra
/// instructions per call on x86-64; for finite inputs the result is the same.
#[inline(always)]
pub(super) fn true_range(high: f64, low: f64, previous_close: f64) -> f64 {
    let mut range = high - low;
    let gap_up = (high - previous_close).abs();
    if gap_up > range {
        range = gap_up;
    }
    let gap_down = (low - previous_close).abs();
    if gap_down > range {
        range = gap_down;
    }
    range
}

/// Writes the mean and the population variance of each full window of `period` values, the
/// first for the window ending at index `period − 1`; both slices hold one slot per window
/// (`values.len() − period + 1`, or none when the series is shorter).
///
/// Moments slide with Welford's update in O(1) per step and are recomputed exactly from the
/// window every `period` steps (amortised O(1)), so rounding error cannot accumulate over a
/// long series; it stays far below TA-Lib's running sum of squares. A window of identical
/// values is detected exactly and reported with its value as mean and a variance of 0,
/// which floating-point sliding alone cannot promise. Otherwise the variance may come out a
/// hair below 0 through rounding; callers clamp it before taking its square root.
fn window_moments(values: &[f64], period: usize, means: &mut [f64], variances: &mut [f64]) {
    let windows = (values.len() + 1).saturating_sub(period);
    debug_assert!(means.len() == windows && variances.len() == windows);
    if windows == 0 {
        return;
    }
    let scale = 1.0 / period as f64;
    // Length of the run of equal values ending at the current window's last index.
    let mut equal_run = 1 + values[..period]
        .windows(2)
        .rev()
        .take_while(|pair| pair[1] == pair[0])
        .count();
    // Blocks of `period` windows: the first one's moments exact, the others slid to.
    for first in (0..windows).step_by(period) {
        let end = (first + period).min(windows);
        let last = first + period - 1;
        if first > 0 {
            equal_run = if values[last] == values[last - 1] {
                equal_run + 1
            } else {
                1
            };
        }
        let (mut mean, mut m2) = exact_moments(&values[first..=last]);
        (means[first], variances[first]) = if equal_run >= period {
            (values[last], 0.0)
        } else {
            (mean, m2 * scale)
        };
        let entering = &values[last + 1..end + period - 1];
        let previous = &values[last..end + period - 2];
        let leaving = &values[first..end - 1];
        let slots = means[first + 1..end]
            .iter_mut()
            .zip(&mut variances[first + 1..end]);
        for ((((mean_slot, variance_slot), &value), &before), &left) in
            slots.zip(entering).zip(previous).zip(leaving)
        {
            equal_run = if value == before { equal_run + 1 } else { 1 };
            let previous_mean = mean;
            mean += (value - left) * scale;
            m2 += (value - left) * (value - mean + left - previous_mean);
            (*mean_slot, *variance_slot) = if equal_run >= period {
                (value, 0.0)
            } else {
                (mean, m2 * scale)
            };
        }
    }
}

/// Mean and sum of squared deviations of a non-empty window, by two passes, each summing
/// four lanes so that a pass is not one long chain of dependent additions.
fn exact_moments(window: &[f64]) -> (f64, f64) {
    let mean = lane_sum(window, |x| x) / window.len() as f64;
    let m2 = lane_sum(window, |x| (x - mean) * (x - mean));
    (mean, m2)
}

#[inline(always)]
fn lane_sum(values: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    let mut chunks = values.chunks_exact(4);
    let (mut a, mut b, mut c, mut d) = (0.0, 0.0, 0.0, 0.0);
    for x in &mut chunks {
        a += f(x[0]);
        b += f(x[1]);
        c += f(x[2]);
        d += f(x[3]);
    }
    for &x in chunks.remainder() {
        a += f(x);
    }
    (a + b) + (c + d)
}

#[cfg(test)]
#[path = "volatility_tests.rs"]
mod tests;
