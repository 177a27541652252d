//! Why an indicator set from an API query was refused; every message names the indicator,
//! the parameter and what is allowed, because it is shown to the caller as is.

use thiserror::Error;

use super::spec::{MAX_INDICATORS, MAX_MULTIPLIER, MAX_PERIOD};
use crate::text::excerpt;

/// A malformed indicator set such as `sma:0,foo`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IndicatorSpecError {
    /// Nothing was asked for.
    #[error("no indicators requested; expected a comma-separated list such as sma:20,rsi:14")]
    Empty,
    /// Two commas in a row, or a trailing comma.
    #[error("indicator {position} of the list is empty")]
    EmptyItem {
        /// 1-based position in the list.
        position: usize,
    },
    /// A name outside the supported set.
    #[error("unknown indicator '{}'; allowed: sma, ema, rsi, macd, bollinger, atr", excerpt(.name))]
    Unknown {
        /// The rejected name.
        name: String,
    },
    /// More `:`-separated parameters than the indicator takes.
    #[error("too many parameters in '{}'; {indicator} takes {usage}", excerpt(.input))]
    TooManyParameters {
        /// The indicator.
        indicator: &'static str,
        /// Its full form, e.g. `macd:FAST:SLOW:SIGNAL`.
        usage: &'static str,
        /// The rejected item.
        input: String,
    },
    /// A period that is not a plain whole number.
    #[error(
        "{indicator} {parameter} must be a whole number between 1 and {max}, got '{}'",
        excerpt(.input), max = MAX_PERIOD
    )]
    PeriodNotANumber {
        /// The indicator.
        indicator: &'static str,
        /// The parameter, e.g. `period` or `slow period`.
        parameter: &'static str,
        /// The rejected text.
        input: String,
    },
    /// A period outside `1..=MAX_PERIOD`.
    #[error(
        "{indicator} {parameter} must be between 1 and {max}, got {}",
        excerpt(.value), max = MAX_PERIOD
    )]
    PeriodOutOfRange {
        /// The indicator.
        indicator: &'static str,
        /// The parameter.
        parameter: &'static str,
        /// The rejected digits, as given (they may not fit any integer type).
        value: String,
    },
    /// A Bollinger multiplier that is not a plain decimal in `(0, MAX_MULTIPLIER]`.
    #[error(
        "bollinger multiplier must be a number greater than 0 and at most {max}, got '{}'",
        excerpt(.input), max = MAX_MULTIPLIER
    )]
    InvalidMultiplier {
        /// The rejected text.
        input: String,
    },
    /// MACD periods in the wrong order.
    #[error("macd fast period must be less than slow period, got fast {fast} and slow {slow}")]
    FastNotBelowSlow {
        /// The fast period.
        fast: usize,
        /// The slow period.
        slow: usize,
    },
    /// More indicators than one request may compute.
    #[error("at most {max} indicators per set, got {count}", max = MAX_INDICATORS)]
    TooMany {
        /// How many were asked for.
        count: usize,
    },
    /// The same indicator with the same parameters twice (defaults filled in first).
    #[error("indicator '{spec}' is listed more than once")]
    Duplicate {
        /// The canonical form, e.g. `sma:20`.
        spec: String,
    },
}
