//! Technical indicator kernels over `f64` series, with TA-Lib's definitions, plus the parser
//! for the indicator sets API callers ask for.
//!
//! Every kernel returns one value per input, `f64::NAN` until enough input has been seen
//! (the warm-up, see [`IndicatorSpec::lookback`]), so outputs line up index for index with
//! the bars they came from. Inputs are expected to be finite: a NaN input poisons the
//! running state of the kernels that carry one.

mod error;
mod momentum;
mod moving;
mod set;
mod spec;
mod spec_error;
mod trend;
mod volatility;

pub use error::IndicatorError;
pub use momentum::{Macd, macd, roc, rsi};
pub use moving::{ema, sma};
pub use set::IndicatorSet;
pub use spec::{IndicatorOutput, IndicatorSpec, MAX_INDICATORS, MAX_MULTIPLIER, MAX_PERIOD};
pub use spec_error::IndicatorSpecError;
pub use trend::adx;
pub use volatility::{Bollinger, atr, bollinger, zscore};

#[cfg(test)]
mod test_support;
