//! One requested indicator (`rsi:14`, `macd`): parsing with defaults and limits, the canonical
//! spelling used as a response key, and dispatch to the kernels.

use std::fmt;
use std::str::FromStr;

use super::spec_error::IndicatorSpecError;
use super::{Bollinger, IndicatorError, Macd, atr, bollinger, ema, macd, rsi, sma};

/// Longest period a request may ask for; bounds the history a request makes the server load.
pub const MAX_PERIOD: usize = 500;
/// Most indicators one request may compute.
pub const MAX_INDICATORS: usize = 16;
/// Widest Bollinger multiplier accepted; wider bands carry no information.
pub const MAX_MULTIPLIER: f64 = 10.0;

/// One indicator with all parameters filled in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum IndicatorSpec {
    /// Simple moving average of the close (default period 20).
    Sma {
        /// Window length.
        period: usize,
    },
    /// Exponential moving average of the close (default period 20).
    Ema {
        /// Window length.
        period: usize,
    },
    /// Relative strength index of the close (default period 14).
    Rsi {
        /// Smoothing length.
        period: usize,
    },
    /// MACD of the close (default 12:26:9).
    Macd {
        /// Fast EMA length.
        fast: usize,
        /// Slow EMA length, greater than `fast`.
        slow: usize,
        /// Signal EMA length.
        signal: usize,
    },
    /// Bollinger bands of the close (default 20:2).
    Bollinger {
        /// Window length.
        period: usize,
        /// Band width in standard deviations.
        k: f64,
    },
    /// Average true range (default period 14).
    Atr {
        /// Smoothing length.
        period: usize,
    },
}

/// What one indicator computes: a single line or a named group of lines.
#[derive(Debug, Clone, PartialEq)]
pub enum IndicatorOutput {
    /// One value per bar.
    Line(Vec<f64>),
    /// MACD line, signal and histogram.
    Macd(Macd),
    /// Middle, upper and lower band.
    Bollinger(Bollinger),
}

impl IndicatorOutput {
    /// The output's series with stable names (`value`; `macd`, `signal`, `histogram`;
    /// `middle`, `upper`, `lower`) for flattening into a response.
    pub fn columns(&self) -> Vec<(&'static str, &[f64])> {
        match self {
            IndicatorOutput::Line(values) => vec![("value", values)],
            IndicatorOutput::Macd(m) => {
                vec![
                    ("macd", &m.macd),
                    ("signal", &m.signal),
                    ("histogram", &m.histogram),
                ]
            }
            IndicatorOutput::Bollinger(b) => {
                vec![
                    ("middle", &b.middle),
                    ("upper", &b.upper),
                    ("lower", &b.lower),
                ]
            }
        }
    }
}

impl IndicatorSpec {
    /// Parses one item such as `rsi`, `rsi:14`, `macd:12:26:9` or `bollinger:20:2.5`;
    /// omitted trailing parameters take their defaults.
    ///
    /// # Errors
    /// [`IndicatorSpecError`] naming the indicator, the parameter and the allowed range.
    pub fn parse(item: &str) -> Result<IndicatorSpec, IndicatorSpecError> {
        let mut parts = item.split(':');
        let name = parts.next().unwrap_or_default();
        let params: Vec<&str> = parts.collect();
        let (indicator, usage, max_params) = match name {
            "sma" => ("sma", "sma:PERIOD", 1),
            "ema" => ("ema", "ema:PERIOD", 1),
            "rsi" => ("rsi", "rsi:PERIOD", 1),
            "atr" => ("atr", "atr:PERIOD", 1),
            "macd" => ("macd", "macd:FAST:SLOW:SIGNAL", 3),
            "bollinger" => ("bollinger", "bollinger:PERIOD:K", 2),
            _ => {
                return Err(IndicatorSpecError::Unknown {
                    name: name.to_owned(),
                });
            }
        };
        if params.len() > max_params {
            return Err(IndicatorSpecError::TooManyParameters {
                indicator,
                usage,
                input: item.to_owned(),
            });
        }
        let period = |i: usize, parameter: &'static str, default: usize| {
            params
                .get(i)
                .map_or(Ok(default), |text| parse_period(indicator, parameter, text))
        };
        Ok(match indicator {
            "sma" => IndicatorSpec::Sma {
                period: period(0, "period", 20)?,
            },
            "ema" => IndicatorSpec::Ema {
                period: period(0, "period", 20)?,
            },
            "rsi" => IndicatorSpec::Rsi {
                period: period(0, "period", 14)?,
            },
            "atr" => IndicatorSpec::Atr {
                period: period(0, "period", 14)?,
            },
            "macd" => {
                let fast = period(0, "fast period", 12)?;
                let slow = period(1, "slow period", 26)?;
                let signal = period(2, "signal period", 9)?;
                if fast >= slow {
                    return Err(IndicatorSpecError::FastNotBelowSlow { fast, slow });
                }
                IndicatorSpec::Macd { fast, slow, signal }
            }
            _ => IndicatorSpec::Bollinger {
                period: period(0, "period", 20)?,
                k: params
                    .get(1)
                    .map_or(Ok(2.0), |text| parse_multiplier(text))?,
            },
        })
    }

    /// The indicator's name as written in a set.
    pub fn name(&self) -> &'static str {
        match self {
            IndicatorSpec::Sma { .. } => "sma",
            IndicatorSpec::Ema { .. } => "ema",
            IndicatorSpec::Rsi { .. } => "rsi",
            IndicatorSpec::Macd { .. } => "macd",
            IndicatorSpec::Bollinger { .. } => "bollinger",
            IndicatorSpec::Atr { .. } => "atr",
        }
    }

    /// Leading NaNs in the output: bars needed before the first complete value. For MACD
    /// this is the signal's warm-up; its line starts `signal − 1` bars earlier. EMA, RSI,
    /// ATR and MACD also depend on how far back the input starts, so for values that do not
    /// change with the requested range, load a fixed amount of extra history.
    pub fn lookback(&self) -> usize {
        match *self {
            IndicatorSpec::Sma { period }
            | IndicatorSpec::Ema { period }
            | IndicatorSpec::Bollinger { period, .. } => period - 1,
            IndicatorSpec::Rsi { period } | IndicatorSpec::Atr { period } => period,
            IndicatorSpec::Macd { slow, signal, .. } => slow + signal - 2,
        }
    }

    /// Runs the indicator; all but ATR read `close` only.
    ///
    /// # Errors
    /// [`IndicatorError`] for a spec built by hand with invalid parameters, or for ATR when
    /// the three series differ in length. Parsed specs only fail on the latter.
    pub fn compute(
        &self,
        high: &[f64],
        low: &[f64],
        close: &[f64],
    ) -> Result<IndicatorOutput, IndicatorError> {
        Ok(match *self {
            IndicatorSpec::Sma { period } => IndicatorOutput::Line(sma(close, period)?),
            IndicatorSpec::Ema { period } => IndicatorOutput::Line(ema(close, period)?),
            IndicatorSpec::Rsi { period } => IndicatorOutput::Line(rsi(close, period)?),
            IndicatorSpec::Atr { period } => IndicatorOutput::Line(atr(high, low, close, period)?),
            IndicatorSpec::Macd { fast, slow, signal } => {
                IndicatorOutput::Macd(macd(close, fast, slow, signal)?)
            }
            IndicatorSpec::Bollinger { period, k } => {
                IndicatorOutput::Bollinger(bollinger(close, period, k)?)
            }
        })
    }
}

fn parse_period(
    indicator: &'static str,
    parameter: &'static str,
    text: &str,
) -> Result<usize, IndicatorSpecError> {
    // `usize::from_str` would also take "+5"; only plain digits are a period.
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IndicatorSpecError::PeriodNotANumber {
            indicator,
            parameter,
            input: text.to_owned(),
        });
    }
    text.parse::<usize>()
        .ok()
        .filter(|p| (1..=MAX_PERIOD).contains(p))
        .ok_or_else(|| IndicatorSpecError::PeriodOutOfRange {
            indicator,
            parameter,
            value: text.to_owned(),
        })
}

fn parse_multiplier(text: &str) -> Result<f64, IndicatorSpecError> {
    // `f64::from_str` would also take "inf", "NaN", "1e1" and "+2"; only DIGITS[.DIGITS] is.
    let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    let plain = match text.split_once('.') {
        Some((whole, fraction)) => all_digits(whole) && all_digits(fraction),
        None => all_digits(text),
    };
    text.parse::<f64>()
        .ok()
        .filter(|k| plain && *k > 0.0 && *k <= MAX_MULTIPLIER)
        .ok_or_else(|| IndicatorSpecError::InvalidMultiplier {
            input: text.to_owned(),
        })
}

impl fmt::Display for IndicatorSpec {
    /// The canonical form with every parameter spelled out, e.g. `macd:12:26:9`; equal specs
    /// always print alike, so it serves as a response key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            IndicatorSpec::Sma { period }
            | IndicatorSpec::Ema { period }
            | IndicatorSpec::Rsi { period }
            | IndicatorSpec::Atr { period } => write!(f, "{}:{period}", self.name()),
            IndicatorSpec::Macd { fast, slow, signal } => write!(f, "macd:{fast}:{slow}:{signal}"),
            IndicatorSpec::Bollinger { period, k } => write!(f, "bollinger:{period}:{k}"),
        }
    }
}

impl FromStr for IndicatorSpec {
    type Err = IndicatorSpecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IndicatorSpec::parse(s)
    }
}

#[cfg(test)]
#[path = "spec_tests.rs"]
mod tests;
