//! Trend strength: whether price is trending at all, whatever the direction.

use super::error::{IndicatorError, check_hlc, check_period};
use super::volatility::true_range;

/// TA-Lib's threshold below which a smoothed sum counts as zero (`TA_IS_ZERO`).
const TA_LIB_ZERO: f64 = 1e-8;

/// Average directional index with Wilder's smoothing, exactly as TA-Lib's `ADX` computes it;
/// first value at index `2 × period − 1`, between 0 and 100.
///
/// Directional movement at index i: up = high − previous high, down = previous low − low;
/// +DM = up when up > down and up > 0, −DM = down when down > up and down > 0, else 0.
/// Smoothed +DM, −DM and true range start as plain sums over indices 1..period−1 and then
/// follow `s = s − s / period + today` (TA-Lib's seeding, one value shorter than Wilder's
/// book). DX = 100 × |+DI − −DI| / (+DI + −DI); the first ADX is the mean of the DX of
/// indices period..=2·period−1, each later one `(ADX × (period − 1) + DX) / period`. When
/// there is no range or no directional movement, DX is undefined and ADX carries over.
///
/// # Errors
/// [`IndicatorError::ZeroPeriod`] when `period` is 0; [`IndicatorError::LengthMismatch`]
/// unless the three series have the same length.
pub fn adx(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    period: usize,
) -> Result<Vec<f64>, IndicatorError> {
    check_period("adx", "period", period)?;
    check_hlc("adx", high, low, close)?;
    let mut out = vec![f64::NAN; close.len()];
    let first_output = 2 * period - 1;
    if close.len() <= first_output {
        return Ok(out);
    }
    let weight = period as f64;
    let (mut plus_dm, mut minus_dm, mut range) = (0.0, 0.0, 0.0);
    let (mut dx_sum, mut average) = (0.0, 0.0);
    for i in 1..close.len() {
        let (plus, minus) = directional_movement(high[i] - high[i - 1], low[i - 1] - low[i]);
        let today_range = true_range(high[i], low[i], close[i - 1]);
        if i < period {
            plus_dm += plus;
            minus_dm += minus;
            range += today_range;
            continue;
        }
        // Same operation order as TA-Lib, so results agree to the last bit.
        plus_dm = plus_dm - plus_dm / weight + plus;
        minus_dm = minus_dm - minus_dm / weight + minus;
        range = range - range / weight + today_range;
        let dx = directional_index(plus_dm, minus_dm, range);
        if i < first_output {
            dx_sum += dx.unwrap_or(0.0);
            continue;
        }
        average = if i == first_output {
            (dx_sum + dx.unwrap_or(0.0)) / weight
        } else {
            dx.map_or(average, |dx| (average * (weight - 1.0) + dx) / weight)
        };
        out[i] = average;
    }
    Ok(out)
}

/// (+DM, −DM) for one step; at most one of them is non-zero.
fn directional_movement(up: f64, down: f64) -> (f64, f64) {
    if down > 0.0 && up < down {
        (0.0, down)
    } else if up > 0.0 && up > down {
        (up, 0.0)
    } else {
        (0.0, 0.0)
    }
}

/// DX from the smoothed sums, `None` when TA-Lib would skip it as 0/0.
fn directional_index(plus_dm: f64, minus_dm: f64, range: f64) -> Option<f64> {
    if range.abs() < TA_LIB_ZERO {
        return None;
    }
    let plus_di = 100.0 * plus_dm / range;
    let minus_di = 100.0 * minus_dm / range;
    let total = plus_di + minus_di;
    (total.abs() >= TA_LIB_ZERO).then(|| 100.0 * (minus_di - plus_di).abs() / total)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{NAN, assert_series};
    use super::*;

    const HIGH: [f64; 6] = [10.0, 11.0, 12.0, 11.5, 13.0, 12.5];
    const LOW: [f64; 6] = [9.0, 10.0, 10.5, 10.0, 11.5, 11.0];
    const CLOSE: [f64; 6] = [9.5, 10.5, 11.5, 10.5, 12.5, 11.5];

    #[test]
    fn follows_ta_lib_seeding_and_smoothing() {
        // period 2. Moves from index 1: +DM 1, +DM 1, −DM 0.5, +DM 1.5, −DM 0.5.
        // Index 1 seeds the sums (+1, −0); then s = s − s/2 + today.
        let (p2, m2) = (1.0 - 0.5 + 1.0, 0.0);
        let (p3, m3) = (p2 - p2 / 2.0, m2 - m2 / 2.0 + 0.5);
        let (p4, m4) = (p3 - p3 / 2.0 + 1.5, m3 - m3 / 2.0);
        let (p5, m5) = (p4 - p4 / 2.0, m4 - m4 / 2.0 + 0.5);
        // The true range cancels out of DX, which depends on the DM ratio only.
        let dx = |p: f64, m: f64| 100.0 * (p - m).abs() / (p + m);
        let adx3 = (dx(p2, m2) + dx(p3, m3)) / 2.0;
        let adx4 = (adx3 + dx(p4, m4)) / 2.0;
        let adx5 = (adx4 + dx(p5, m5)) / 2.0;
        assert_series(
            &adx(&HIGH, &LOW, &CLOSE, 2).unwrap(),
            &[NAN, NAN, NAN, adx3, adx4, adx5],
        );
        assert_series(&[dx(p2, m2), dx(p3, m3), adx3], &[100.0, 20.0, 60.0]);
    }

    #[test]
    fn is_zero_without_any_movement() {
        let flat = [5.0; 6];
        assert_series(
            &adx(&flat, &flat, &flat, 2).unwrap(),
            &[NAN, NAN, NAN, 0.0, 0.0, 0.0],
        );
    }

    #[test]
    fn counts_an_undefined_dx_as_zero_in_the_first_average() {
        // Inside-range bars until index 4 have range but no directional movement.
        let high = [11.0, 11.0, 11.0, 11.0, 12.0, 12.0];
        let low = [10.0; 6];
        let close = [10.5; 6];
        // DX undefined at 2 and 3 → first ADX 0; index 4: +DM only → DX 100 → ADX 50;
        // index 5: smoothed +DM still positive, −DM 0 → DX 100 → ADX 75.
        assert_series(
            &adx(&high, &low, &close, 2).unwrap(),
            &[NAN, NAN, NAN, 0.0, 50.0, 75.0],
        );
    }

    #[test]
    fn needs_two_periods_of_bars() {
        assert_series(
            &adx(&HIGH[..3], &LOW[..3], &CLOSE[..3], 2).unwrap(),
            &[NAN; 3],
        );
        assert!(adx(&[], &[], &[], 14).unwrap().is_empty());
    }

    #[test]
    fn rejects_bad_parameters() {
        assert_eq!(
            adx(&HIGH, &LOW, &CLOSE, 0).unwrap_err().to_string(),
            "adx period must be at least 1"
        );
        assert!(matches!(
            adx(&HIGH[..5], &LOW, &CLOSE, 2),
            Err(IndicatorError::LengthMismatch {
                indicator: "adx",
                ..
            })
        ));
    }
}
