//! Deterministic quantitative analysts: pure functions from market data to an
//! [`AnalystSignal`], a [`PositionLimit`] or a [`Decision`], with every figure they used
//! recorded so a view can be audited. No I/O, no randomness, no clock.

mod decision;
mod digest;
mod fundamentals;
mod risk;
mod signal;
mod technical;
mod technical_figures;
mod valuation;

pub use decision::{
    Action, DEFAULT_DECISION_THRESHOLD, Decision, DecisionWeights, InvalidDecisionWeights, decide,
};
pub use digest::{Digest, PriceLevels, price_levels};
pub use fundamentals::{
    Better, FUNDAMENTAL_THRESHOLDS, FUNDAMENTALS_ANALYST, FUNDAMENTALS_SIGNAL_THRESHOLD,
    fundamentals,
};
pub use risk::{InvalidRiskParams, PositionLimit, RiskParams, risk_limits};
pub use signal::{AnalystSignal, Confidence, Input, InvalidConfidence, Signal};
pub use technical::{
    TECHNICAL_ANALYST, TECHNICAL_MIN_BARS, TECHNICAL_SIGNAL_THRESHOLD, TECHNICAL_WEIGHTS,
    technical, technical_description,
};
pub use valuation::{
    VALUATION_ANALYST, VALUATION_SIGNAL_THRESHOLD, ValuationParams, owner_earnings_dcf, valuation,
};

#[cfg(test)]
mod demo_data;
