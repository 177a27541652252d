//! The deterministic portfolio manager: turns the analysts' views of one security into a
//! buy, sell or hold, sized within the risk manager's limit. It never invents a view: with
//! no usable signal it holds and says so.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::risk::PositionLimit;
use super::signal::{AnalystSignal, Confidence, Signal};
use crate::market::Symbol;

crate::code_enum! {
    /// What to do with a security.
    pub enum Action as "action" {
        /// Open or add to a long position.
        Buy = "buy",
        /// Reduce, close or go short.
        Sell = "sell",
        /// Do nothing.
        Hold = "hold",
    }
}

/// How much each analyst counts, and how strong the vote must be to act.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionWeights {
    threshold: f64,
    weights: Vec<(String, f64)>,
}

/// A weight or threshold out of range; the message names it.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum InvalidDecisionWeights {
    /// Thresholds are fractions in [0, 1).
    #[error("threshold {0} must be in [0, 1)")]
    Threshold(f64),
    /// Weights are finite and not negative.
    #[error("weight {weight} of analyst '{analyst}' must be finite and not negative")]
    Weight {
        /// The analyst.
        analyst: String,
        /// The rejected weight.
        weight: f64,
    },
}

/// Default vote strength needed to act: as the technical analyst's own threshold.
pub const DEFAULT_DECISION_THRESHOLD: f64 = 0.2;

impl Default for DecisionWeights {
    /// Every analyst weighs 1; act when the vote exceeds ±0.2.
    fn default() -> DecisionWeights {
        DecisionWeights {
            threshold: DEFAULT_DECISION_THRESHOLD,
            weights: Vec::new(),
        }
    }
}

impl DecisionWeights {
    /// Every analyst weighs 1; act when the vote exceeds ±`threshold`.
    ///
    /// # Errors
    /// [`InvalidDecisionWeights::Threshold`] unless `threshold` is in [0, 1).
    pub fn new(threshold: f64) -> Result<DecisionWeights, InvalidDecisionWeights> {
        if !(0.0..1.0).contains(&threshold) {
            return Err(InvalidDecisionWeights::Threshold(threshold));
        }
        Ok(DecisionWeights {
            threshold,
            weights: Vec::new(),
        })
    }

    /// The same weights with `analyst` weighing `weight` (0 leaves it out of the vote).
    ///
    /// # Errors
    /// [`InvalidDecisionWeights::Weight`] for a negative or non-finite weight.
    pub fn with_weight(
        mut self,
        analyst: &str,
        weight: f64,
    ) -> Result<DecisionWeights, InvalidDecisionWeights> {
        if !(weight.is_finite() && weight >= 0.0) {
            return Err(InvalidDecisionWeights::Weight {
                analyst: analyst.to_owned(),
                weight,
            });
        }
        self.weights.retain(|(name, _)| name != analyst);
        self.weights.push((analyst.to_owned(), weight));
        Ok(self)
    }

    /// The weight of `analyst`: as set, else 1.
    pub fn weight_of(&self, analyst: &str) -> f64 {
        self.weights
            .iter()
            .find(|(name, _)| name == analyst)
            .map_or(1.0, |(_, weight)| *weight)
    }

    /// Vote strength needed to buy (or, negated, to sell).
    pub fn threshold(&self) -> f64 {
        self.threshold
    }
}

/// The portfolio manager's call on one security.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Decision {
    /// The security.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub symbol: Symbol,
    /// Buy, sell or hold.
    pub action: Action,
    /// `round(|vote| × 100)`; 0 when nobody had a view.
    #[cfg_attr(feature = "openapi", schema(value_type = u8, maximum = 100))]
    pub confidence: Confidence,
    /// Size of the trade as a fraction of the portfolio: the risk limit × confidence / 100
    /// for buy and sell, never above the limit; 0 for hold or without a limit.
    pub position_pct: f64,
    /// How the vote went.
    pub reasoning: String,
    /// Signals left out, missing or zero limits: what a reviewer should know.
    pub risk_warnings: Vec<String>,
    /// Each signal that voted, as `analyst: signal (confidence, weight)`.
    pub contributing: Vec<String>,
}

/// Decides on `symbol` from `signals` by weighted vote.
///
/// Each signal scores `+confidence` (bullish), `−confidence` (bearish) or 0 (neutral), as a
/// fraction; the vote is `Σ weight × score / Σ weight` over the signals that count, in
/// [−1, 1]. `InsufficientData` signals, signals about another symbol and weight-0 analysts
/// do not count and are listed in `risk_warnings`. Buy above `threshold`, sell below
/// `−threshold`, hold otherwise; if no signal counts, hold with confidence 0.
pub fn decide(
    symbol: &Symbol,
    signals: &[AnalystSignal],
    limit: Option<&PositionLimit>,
    weights: &DecisionWeights,
) -> Decision {
    let mut warnings = Vec::new();
    let mut contributing = Vec::new();
    let (mut weighted, mut total) = (0.0, 0.0);
    for signal in signals {
        let weight = weights.weight_of(&signal.analyst);
        let name = &signal.analyst;
        match signal.score() {
            _ if signal.symbol != *symbol => warnings.push(format!(
                "{name}: signal is about {}, not {symbol}; ignored",
                signal.symbol
            )),
            None => warnings.push(format!("{name}: insufficient data ({})", signal.reasoning)),
            Some(_) if weight == 0.0 => warnings.push(format!("{name}: weight 0; ignored")),
            Some(score) => {
                weighted += weight * score;
                total += weight;
                contributing.push(format!(
                    "{name}: {} ({}, weight {weight})",
                    signal.signal,
                    signal.confidence.value()
                ));
            }
        }
    }
    if total == 0.0 {
        warnings.push(format!("no analyst has a usable view of {symbol}; holding"));
        return Decision {
            symbol: symbol.clone(),
            action: Action::Hold,
            confidence: Confidence::ZERO,
            position_pct: 0.0,
            reasoning: format!("no usable signal for {symbol}: no view, no trade"),
            risk_warnings: warnings,
            contributing,
        };
    }
    let vote = weighted / total;
    let action = match Signal::from_score(vote, weights.threshold) {
        Signal::Bullish => Action::Buy,
        Signal::Bearish => Action::Sell,
        _ => Action::Hold,
    };
    let confidence = Confidence::from_fraction(vote);
    let position_pct = match action {
        Action::Hold => 0.0,
        Action::Buy | Action::Sell => size(symbol, limit, confidence, &mut warnings),
    };
    Decision {
        symbol: symbol.clone(),
        action,
        confidence,
        position_pct,
        reasoning: format!(
            "weighted vote {vote:+.3} of {} signal(s) against a threshold of ±{:.2}: {action:?}, \
             position {:.2} % of the portfolio",
            contributing.len(),
            weights.threshold,
            position_pct * 100.0
        ),
        risk_warnings: warnings,
        contributing,
    }
}

/// `limit × confidence`, or 0 with a warning when there is no usable limit.
fn size(
    symbol: &Symbol,
    limit: Option<&PositionLimit>,
    confidence: Confidence,
    warnings: &mut Vec<String>,
) -> f64 {
    match limit {
        None => {
            warnings.push(format!("no risk limit for {symbol}; position not sized"));
            0.0
        }
        Some(limit) if limit.symbol != *symbol => {
            warnings.push(format!(
                "risk limit is for {}, not {symbol}; position not sized",
                limit.symbol
            ));
            0.0
        }
        Some(limit) if limit.max_position_pct <= 0.0 => {
            warnings.push(format!("risk limit is 0: {}", limit.reasoning));
            0.0
        }
        Some(limit) => (limit.max_position_pct * confidence.fraction()).min(limit.max_position_pct),
    }
}

#[cfg(test)]
#[path = "decision_tests.rs"]
mod tests;
