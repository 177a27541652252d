//! Moving averages, the building blocks of trend indicators and of MACD and Bollinger bands.

use super::error::{IndicatorError, check_period};

/// Simple moving average: the mean of the last `period` values, first at index `period - 1`.
///
/// # Errors
/// [`IndicatorError::ZeroPeriod`] when `period` is 0.
pub fn sma(values: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("sma", "period", period)?;
    let mut out = vec![f64::NAN; values.len()];
    let divisor = period as f64;
    let mut sum = 0.0;
    for (i, value) in values.iter().enumerate() {
        sum += value;
        if let Some(leaving) = i.checked_sub(period).map(|j| values[j]) {
            sum -= leaving;
        }
        if i + 1 >= period {
            out[i] = sum / divisor;
        }
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
    let mut out = vec![f64::NAN; values.len()];
    let Some(mut current) = mean(values.get(..period)) else {
        return Ok(out);
    };
    let alpha = smoothing(period);
    out[period - 1] = current;
    for (slot, value) in out.iter_mut().zip(values).skip(period) {
        current += alpha * (value - current);
        *slot = current;
    }
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
