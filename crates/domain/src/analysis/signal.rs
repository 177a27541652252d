//! What every analyst hands the portfolio manager: a direction, how sure it is, why, and the
//! exact figures it looked at, so a view can always be traced back to data.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::market::Symbol;

crate::code_enum! {
    /// An analyst's view of a security; `insufficient_data` when it could not form one.
    pub enum Signal as "signal" {
        /// Expects the price to rise.
        Bullish = "bullish",
        /// Expects the price to fall.
        Bearish = "bearish",
        /// Looked at the data and sees no edge either way.
        Neutral = "neutral",
        /// Could not form a view: the data it needs is missing. Never disguised as neutral.
        InsufficientData = "insufficient_data",
    }
}

impl Signal {
    /// Bullish above `threshold`, bearish below `−threshold`, neutral in between.
    pub(crate) fn from_score(score: f64, threshold: f64) -> Signal {
        if score > threshold {
            Signal::Bullish
        } else if score < -threshold {
            Signal::Bearish
        } else {
            Signal::Neutral
        }
    }
}

/// How sure a view is, from 0 (no conviction) to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Confidence(u8);

/// A confidence above 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("confidence {0} is above 100")]
pub struct InvalidConfidence(pub u8);

impl Confidence {
    /// No conviction at all; the confidence of every `InsufficientData` signal.
    pub const ZERO: Confidence = Confidence(0);

    /// # Errors
    /// [`InvalidConfidence`] naming the value when it is above 100.
    pub fn new(value: u8) -> Result<Confidence, InvalidConfidence> {
        if value <= 100 {
            Ok(Confidence(value))
        } else {
            Err(InvalidConfidence(value))
        }
    }

    /// `round(|fraction| × 100)`, capped at 100; NaN gives 0.
    pub fn from_fraction(fraction: f64) -> Confidence {
        let percent = (fraction.abs() * 100.0).round();
        if percent.is_nan() {
            return Confidence::ZERO;
        }
        // Clamped to [0, 100] first, so the cast cannot truncate.
        Confidence(percent.clamp(0.0, 100.0) as u8)
    }

    /// The value, 0 to 100.
    pub fn value(self) -> u8 {
        self.0
    }

    /// The value as a fraction, 0.0 to 1.0.
    pub fn fraction(self) -> f64 {
        f64::from(self.0) / 100.0
    }
}

impl TryFrom<u8> for Confidence {
    type Error = InvalidConfidence;
    fn try_from(value: u8) -> Result<Confidence, InvalidConfidence> {
        Confidence::new(value)
    }
}

impl From<Confidence> for u8 {
    fn from(confidence: Confidence) -> u8 {
        confidence.0
    }
}

/// One figure an analyst used, with the date of the data it came from.
//
// `value` is an `f64`: the technical and risk figures are computed in `f64` kernels anyway,
// and fundamentals (`Decimal` ratios) are converted once here because an `Input` is an
// explanation, not a stored amount. Analysts only record finite values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Input {
    /// What the figure is, e.g. `ema_50` or `roe`.
    pub name: String,
    /// The figure.
    pub value: f64,
    /// Date of the bar, report or valuation it was computed from.
    pub as_of: NaiveDate,
}

impl Input {
    /// A named figure as of a date.
    pub fn new(name: impl Into<String>, value: f64, as_of: NaiveDate) -> Input {
        Input {
            name: name.into(),
            value,
            as_of,
        }
    }
}

/// One analyst's view of one security.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnalystSignal {
    /// The analyst's name, e.g. `technical`; decision weights are keyed by it.
    pub analyst: String,
    /// The security.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub symbol: Symbol,
    /// The view.
    pub signal: Signal,
    /// How sure; 0 for `InsufficientData`.
    #[cfg_attr(feature = "openapi", schema(value_type = u8, maximum = 100))]
    pub confidence: Confidence,
    /// Why, in words; for `InsufficientData`, what is missing.
    pub reasoning: String,
    /// Every figure the view rests on.
    pub inputs: Vec<Input>,
}

impl AnalystSignal {
    /// A refusal to form a view: `InsufficientData`, confidence 0, `missing` as reasoning.
    pub fn insufficient(
        analyst: impl Into<String>,
        symbol: Symbol,
        missing: impl Into<String>,
        inputs: Vec<Input>,
    ) -> AnalystSignal {
        AnalystSignal {
            analyst: analyst.into(),
            symbol,
            signal: Signal::InsufficientData,
            confidence: Confidence::ZERO,
            reasoning: missing.into(),
            inputs,
        }
    }

    /// The view as a number in [−1, 1]: `+confidence` bullish, `−confidence` bearish, 0
    /// neutral; `None` when there is no view at all.
    pub fn score(&self) -> Option<f64> {
        match self.signal {
            Signal::Bullish => Some(self.confidence.fraction()),
            Signal::Bearish => Some(-self.confidence.fraction()),
            Signal::Neutral => Some(0.0),
            Signal::InsufficientData => None,
        }
    }

    /// The recorded input called `name`, if any.
    pub fn input(&self, name: &str) -> Option<&Input> {
        self.inputs.iter().find(|input| input.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_accepts_0_to_100_and_names_a_bad_value() {
        assert_eq!(Confidence::new(100).unwrap().value(), 100);
        assert_eq!(Confidence::new(0).unwrap(), Confidence::ZERO);
        let err = Confidence::new(101).unwrap_err();
        assert_eq!(err.to_string(), "confidence 101 is above 100");
    }

    #[test]
    fn confidence_from_a_fraction_rounds_and_caps() {
        assert_eq!(Confidence::from_fraction(0.444).value(), 44);
        assert_eq!(Confidence::from_fraction(-0.445).value(), 45);
        assert_eq!(Confidence::from_fraction(3.0).value(), 100);
        assert_eq!(Confidence::from_fraction(f64::NAN).value(), 0);
    }

    #[test]
    fn signals_serialise_as_snake_case_and_confidence_as_a_checked_number() {
        assert_eq!(
            serde_json::to_string(&Signal::InsufficientData).unwrap(),
            "\"insufficient_data\""
        );
        assert_eq!(serde_json::to_string(&Confidence(42)).unwrap(), "42");
        assert!(serde_json::from_str::<Confidence>("101").is_err());
    }

    #[test]
    fn an_insufficient_signal_has_no_score_and_zero_confidence() {
        let symbol = Symbol::parse("AAPL").unwrap();
        let signal = AnalystSignal::insufficient("technical", symbol, "no bars", vec![]);
        assert_eq!(signal.signal, Signal::InsufficientData);
        assert_eq!(signal.confidence, Confidence::ZERO);
        assert_eq!(signal.score(), None);
    }
}
