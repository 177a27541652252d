//! Why a kernel refused its parameters; the kernels themselves never fail on data.

use thiserror::Error;

/// Parameters a kernel cannot compute with. A period longer than the series is not an error:
/// the output is then all warm-up (NaN).
#[derive(Debug, Clone, PartialEq, Error)]
pub enum IndicatorError {
    /// A period of zero.
    #[error("{indicator} {parameter} must be at least 1")]
    ZeroPeriod {
        /// The kernel, e.g. `sma`.
        indicator: &'static str,
        /// The period parameter, e.g. `period` or `slow period`.
        parameter: &'static str,
    },
    /// A band multiplier that is zero, negative or not finite.
    #[error("{indicator} multiplier must be a finite number greater than 0, got {value}")]
    InvalidMultiplier {
        /// The kernel.
        indicator: &'static str,
        /// The rejected multiplier.
        value: f64,
    },
    /// MACD's fast average is not faster than its slow one.
    #[error("macd fast period must be less than slow period, got fast {fast} and slow {slow}")]
    FastNotBelowSlow {
        /// The fast period given.
        fast: usize,
        /// The slow period given.
        slow: usize,
    },
    /// High, low and close series of different lengths.
    #[error("{indicator} needs high, low and close of equal length, got {high}, {low} and {close}")]
    LengthMismatch {
        /// The kernel.
        indicator: &'static str,
        /// Length of `high`.
        high: usize,
        /// Length of `low`.
        low: usize,
        /// Length of `close`.
        close: usize,
    },
}

pub(super) fn check_period(
    indicator: &'static str,
    parameter: &'static str,
    period: usize,
) -> Result<(), IndicatorError> {
    if period == 0 {
        return Err(IndicatorError::ZeroPeriod {
            indicator,
            parameter,
        });
    }
    Ok(())
}

pub(super) fn check_hlc(
    indicator: &'static str,
    high: &[f64],
    low: &[f64],
    close: &[f64],
) -> Result<(), IndicatorError> {
    if high.len() != close.len() || low.len() != close.len() {
        return Err(IndicatorError::LengthMismatch {
            indicator,
            high: high.len(),
            low: low.len(),
            close: close.len(),
        });
    }
    Ok(())
}
