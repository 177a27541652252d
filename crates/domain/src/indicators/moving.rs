//! Moving averages, the building blocks of trend indicators and of MACD and Bollinger bands.

use super::error::{IndicatorError, check_period};

/// Simple moving average: the mean of the last `period` values, first at index `period - 1`.
///
/// A running sum, advanced by the difference between the entering and the leaving value and
/// multiplied by `1 / period` (within one rounding of dividing). Four steps are taken at a
/// time so that only one addition per four bars lies on the running sum's dependency chain.
///
/// # Errors
/// [`IndicatorError::ZeroPeriod`] when `period` is 0.
pub fn sma(values: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("sma", "period", period)?;
    let n = values.len();
    let mut out = Vec::with_capacity(n);
    if n < period {
        out.resize(n, f64::NAN);
        return Ok(out);
    }
    out.resize(period - 1, f64::NAN);
    let scale = 1.0 / period as f64;
    let mut sum: f64 = values[..period].iter().sum();
    out.push(sum * scale);
    let entering = &values[period..];
    let leaving = &values[..n - period];
    let mut entering_chunks = entering.chunks_exact(4);
    let mut leaving_chunks = leaving.chunks_exact(4);
    for (e, l) in (&mut entering_chunks).zip(&mut leaving_chunks) {
        // Partial sums of the four differences are independent of `sum`.
        let d1 = e[0] - l[0];
        let d2 = d1 + (e[1] - l[1]);
        let d3 = d2 + (e[2] - l[2]);
        let d4 = d3 + (e[3] - l[3]);
        out.extend_from_slice(&[
            (sum + d1) * scale,
            (sum + d2) * scale,
            (sum + d3) * scale,
            (sum + d4) * scale,
        ]);
        sum += d4;
    }
    for (e, l) in entering_chunks
        .remainder()
        .iter()
        .zip(leaving_chunks.remainder())
    {
        sum += e - l;
        out.push(sum * scale);
    }
    Ok(out)
}

/// Exponential moving average with `alpha = 2 / (period + 1)`, seeded (as TA-Lib does) with
/// the simple mean of the first `period` values at index `period - 1`.
///
/// # Errors
/// [`IndicatorError::ZeroPeriod`] when `period` is 0.
pub fn ema(values: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("ema", "period", period)?;
    let mut out = Vec::with_capacity(values.len());
    let Some(seed) = mean(values.get(..period)) else {
        out.resize(values.len(), f64::NAN);
        return Ok(out);
    };
    out.resize(period - 1, f64::NAN);
    out.push(seed);
    Smoother::ema(period).run(seed, &values[period..], &mut out);
    Ok(out)
}

/// EMA weight of the newest value for `period`.
pub(super) fn smoothing(period: usize) -> f64 {
    2.0 / (period as f64 + 1.0)
}

/// Mean of a window, `None` when the series was too short to provide it.
pub(super) fn mean(window: Option<&[f64]>) -> Option<f64> {
    window
        .filter(|w| !w.is_empty())
        .map(|w| w.iter().sum::<f64>() / w.len() as f64)
}

/// The recursion `s ← decay · s + gain · x` behind every exponential average here: EMA
/// (`decay = 1 − alpha`, `gain = alpha`) and Wilder's smoothing (`decay = (period − 1) /
/// period`, `gain = 1 / period`).
///
/// It is stepped four values at a time: `s₀ · decayʲ` plus a partial sum of the four inputs
/// that does not depend on `s₀`, so one multiply-add per four values lies on the dependency
/// chain instead of one per value. Each result is within a few units in the last place of
/// the one-at-a-time recursion.
#[derive(Debug, Clone, Copy)]
pub(super) struct Smoother {
    /// `decay`, `decay²`, `decay³`, `decay⁴`.
    decay: [f64; 4],
    gain: f64,
}

impl Smoother {
    fn new(decay: f64, gain: f64) -> Smoother {
        let decay2 = decay * decay;
        Smoother {
            decay: [decay, decay2, decay2 * decay, decay2 * decay2],
            gain,
        }
    }

    /// EMA with `alpha = 2 / (period + 1)`.
    pub(super) fn ema(period: usize) -> Smoother {
        let alpha = smoothing(period);
        Smoother::new(1.0 - alpha, alpha)
    }

    /// Wilder's smoothing, `(s × (period − 1) + x) / period`.
    pub(super) fn wilder(period: usize) -> Smoother {
        let weight = period as f64;
        Smoother::new((weight - 1.0) / weight, 1.0 / weight)
    }

    /// One step.
    #[inline(always)]
    pub(super) fn step(&self, state: f64, x: f64) -> f64 {
        state * self.decay[0] + self.gain * x
    }

    /// Four steps; the states after each.
    #[inline(always)]
    pub(super) fn step4(&self, state: f64, x: [f64; 4]) -> [f64; 4] {
        let [d1, d2, d3, d4] = self.decay;
        let q1 = self.gain * x[0];
        let q2 = q1 * d1 + self.gain * x[1];
        let q3 = q2 * d1 + self.gain * x[2];
        let q4 = q3 * d1 + self.gain * x[3];
        [
            state * d1 + q1,
            state * d2 + q2,
            state * d3 + q3,
            state * d4 + q4,
        ]
    }

    /// Steps through `xs` from `state`, appending every state to `out`; returns the last.
    pub(super) fn run(&self, mut state: f64, xs: &[f64], out: &mut Vec<f64>) -> f64 {
        let mut chunks = xs.chunks_exact(4);
        for x in &mut chunks {
            let states = self.step4(state, [x[0], x[1], x[2], x[3]]);
            out.extend_from_slice(&states);
            state = states[3];
        }
        for &x in chunks.remainder() {
            state = self.step(state, x);
            out.push(state);
        }
        state
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{NAN, assert_series};
    use super::*;

    const SERIES: [f64; 7] = [2.0, 4.0, 6.0, 8.0, 10.0, 9.0, 7.0];

    #[test]
    fn sma_averages_the_last_period_values_after_warm_up() {
        let expected = [NAN, NAN, 4.0, 6.0, 8.0, 9.0, (10.0 + 9.0 + 7.0) / 3.0];
        assert_series(&sma(&SERIES, 3).unwrap(), &expected);
    }

    #[test]
    fn sma_of_period_one_is_the_series() {
        assert_series(&sma(&SERIES, 1).unwrap(), &SERIES);
    }

    #[test]
    fn sma_longer_than_the_series_is_all_warm_up() {
        assert_series(&sma(&SERIES, 8).unwrap(), &[NAN; 7]);
        assert_series(&sma(&SERIES, 7).unwrap()[6..], &[46.0 / 7.0]);
        assert!(sma(&[], 3).unwrap().is_empty());
    }

    #[test]
    fn ema_seeds_with_the_sma_then_smooths() {
        // period 3: alpha = 0.5, seed = (2 + 4 + 6) / 3 = 4
        let e3 = 4.0 + 0.5 * (8.0 - 4.0);
        let e4 = e3 + 0.5 * (10.0 - e3);
        let e5 = e4 + 0.5 * (9.0 - e4);
        let e6 = e5 + 0.5 * (7.0 - e5);
        assert_series(&ema(&SERIES, 3).unwrap(), &[NAN, NAN, 4.0, e3, e4, e5, e6]);
        assert_series(&[e3, e4, e5, e6], &[6.0, 8.0, 8.5, 7.75]);
    }

    #[test]
    fn ema_with_a_non_trivial_alpha() {
        // period 4: alpha = 0.4, seed = 5
        let e4 = 5.0 + 0.4 * (10.0 - 5.0);
        let e5 = e4 + 0.4 * (9.0 - e4);
        let e6 = e5 + 0.4 * (7.0 - e5);
        assert_series(&ema(&SERIES, 4).unwrap(), &[NAN, NAN, NAN, 5.0, e4, e5, e6]);
        assert!((e6 - 7.48).abs() < 1e-12);
    }

    #[test]
    fn ema_of_period_one_is_the_series_and_too_long_is_all_warm_up() {
        assert_series(&ema(&SERIES, 1).unwrap(), &SERIES);
        assert_series(&ema(&SERIES[..2], 3).unwrap(), &[NAN, NAN]);
        assert!(ema(&[], 1).unwrap().is_empty());
    }

    #[test]
    fn rejects_a_zero_period() {
        let err = sma(&SERIES, 0).unwrap_err();
        assert_eq!(err.to_string(), "sma period must be at least 1");
        assert_eq!(
            ema(&SERIES, 0).unwrap_err(),
            IndicatorError::ZeroPeriod {
                indicator: "ema",
                parameter: "period"
            }
        );
    }
}
