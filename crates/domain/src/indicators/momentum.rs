//! Momentum oscillators: how fast and how one-sidedly price has been moving.

use super::error::{IndicatorError, check_period};
use super::moving::{Smoother, mean};

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
    let n = close.len();
    let mut out = Vec::with_capacity(n);
    if n <= period {
        out.resize(n, f64::NAN);
        return Ok(out);
    }
    out.resize(period, f64::NAN);
    let weight = period as f64;
    let (mut gain, mut loss) = (0.0, 0.0);
    for pair in close[..=period].windows(2) {
        let (up, down) = split_change(pair[1] - pair[0]);
        gain += up;
        loss += down;
    }
    (gain, loss) = (gain / weight, loss / weight);
    out.push(relative_strength(gain, loss));
    let smoother = Smoother::wilder(period);
    let today = &close[period + 1..];
    let previous = &close[period..n - 1];
    let mut today_chunks = today.chunks_exact(4);
    let mut previous_chunks = previous.chunks_exact(4);
    for (t, p) in (&mut today_chunks).zip(&mut previous_chunks) {
        let (u0, d0) = split_change(t[0] - p[0]);
        let (u1, d1) = split_change(t[1] - p[1]);
        let (u2, d2) = split_change(t[2] - p[2]);
        let (u3, d3) = split_change(t[3] - p[3]);
        let gains = smoother.step4(gain, [u0, u1, u2, u3]);
        let losses = smoother.step4(loss, [d0, d1, d2, d3]);
        out.extend_from_slice(&[
            relative_strength(gains[0], losses[0]),
            relative_strength(gains[1], losses[1]),
            relative_strength(gains[2], losses[2]),
            relative_strength(gains[3], losses[3]),
        ]);
        (gain, loss) = (gains[3], losses[3]);
    }
    for (t, p) in today_chunks
        .remainder()
        .iter()
        .zip(previous_chunks.remainder())
    {
        let (up, down) = split_change(t - p);
        gain = smoother.step(gain, up);
        loss = smoother.step(loss, down);
        out.push(relative_strength(gain, loss));
    }
    Ok(out)
}

/// A change as (gain, loss), both non-negative. Plain arithmetic, exact in floating point
/// (doubling and halving are exact), because a comparison here gets compiled into a branch
/// that real prices, rising and falling at random, mispredict half the time. A NaN change
/// poisons both, as the module doc says.
#[inline(always)]
fn split_change(change: f64) -> (f64, f64) {
    let size = change.abs();
    ((size + change) * 0.5, (size - change) * 0.5)
}

/// RSI from the smoothed gain and loss; 50 when there was no movement at all.
#[inline(always)]
fn relative_strength(gain: f64, loss: f64) -> f64 {
    let total = gain + loss;
    if total > 0.0 {
        100.0 * gain / total
    } else {
        50.0
    }
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

/// Values computed into a stack buffer between two appends to an output vector (a multiple
/// of 4, 2 KiB: well inside the L1 cache).
const BLOCK: usize = 256;

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
    let (Some(slow_seed), Some(fast_seed)) =
        (mean(close.get(..slow)), mean(close.get(slow - fast..slow)))
    else {
        return Ok(Macd {
            macd: vec![f64::NAN; n],
            signal: vec![f64::NAN; n],
            histogram: vec![f64::NAN; n],
        });
    };
    let start = slow - 1;
    // Outputs are appended to vectors of the right capacity: zeroed vectors (`vec![0.0; n]`)
    // would cost a pass of stores each whenever the allocator hands back reused memory, as
    // mimalloc does for the server's repeated calls. The loops write into a small buffer on
    // the stack, appended once per block: a `Vec` append per step would keep the smoothers'
    // states and constants out of registers.
    let mut line = Vec::with_capacity(n);
    line.resize(start, f64::NAN);
    line.push(fast_seed - slow_seed);
    let (fast_smoother, slow_smoother) = (Smoother::ema(fast), Smoother::ema(slow));
    let (mut fast_ema, mut slow_ema) = (fast_seed, slow_seed);
    let mut buf = [0.0; BLOCK];
    for block in close[slow..].chunks(BLOCK) {
        let buf = &mut buf[..block.len()];
        let mut outs = buf.chunks_exact_mut(4);
        let mut ins = block.chunks_exact(4);
        for (out, x) in (&mut outs).zip(&mut ins) {
            let x = [x[0], x[1], x[2], x[3]];
            let f = fast_smoother.step4(fast_ema, x);
            let s = slow_smoother.step4(slow_ema, x);
            out.copy_from_slice(&[f[0] - s[0], f[1] - s[1], f[2] - s[2], f[3] - s[3]]);
            (fast_ema, slow_ema) = (f[3], s[3]);
        }
        for (out, &x) in outs.into_remainder().iter_mut().zip(ins.remainder()) {
            fast_ema = fast_smoother.step(fast_ema, x);
            slow_ema = slow_smoother.step(slow_ema, x);
            *out = fast_ema - slow_ema;
        }
        line.extend_from_slice(buf);
    }
    let signal_start = start + signal - 1;
    let mut signal_line = Vec::with_capacity(n);
    let mut histogram = Vec::with_capacity(n);
    if let Some(seed) = mean(line.get(start..=signal_start)) {
        signal_line.resize(signal_start, f64::NAN);
        histogram.resize(signal_start, f64::NAN);
        signal_line.push(seed);
        histogram.push(line[signal_start] - seed);
        // The signal line and the histogram in one pass over the MACD line.
        let smoother = Smoother::ema(signal);
        let mut state = seed;
        let (mut sig_buf, mut hist_buf) = ([0.0; BLOCK], [0.0; BLOCK]);
        for block in line[signal_start + 1..].chunks(BLOCK) {
            let sig_buf = &mut sig_buf[..block.len()];
            let hist_buf = &mut hist_buf[..block.len()];
            let mut sig = sig_buf.chunks_exact_mut(4);
            let mut hist = hist_buf.chunks_exact_mut(4);
            let mut ins = block.chunks_exact(4);
            for ((s, h), l) in (&mut sig).zip(&mut hist).zip(&mut ins) {
                let l = [l[0], l[1], l[2], l[3]];
                let states = smoother.step4(state, l);
                s.copy_from_slice(&states);
                h.copy_from_slice(&[
                    l[0] - states[0],
                    l[1] - states[1],
                    l[2] - states[2],
                    l[3] - states[3],
                ]);
                state = states[3];
            }
            let rest = sig
                .into_remainder()
                .iter_mut()
                .zip(hist.into_remainder())
                .zip(ins.remainder());
            for ((s, h), &l) in rest {
                state = smoother.step(state, l);
                *s = state;
                *h = l - state;
            }
            signal_line.extend_from_slice(sig_buf);
            histogram.extend_from_slice(hist_buf);
        }
    } else {
        signal_line.resize(n, f64::NAN);
        histogram.resize(n, f64::NAN);
    }
    Ok(Macd {
        macd: line,
        signal: signal_line,
        histogram,
    })
}

#[cfg(test)]
#[path = "momentum_tests.rs"]
mod tests;
