//! The risk manager: how large a position in each security may be, from its recent
//! volatility and its correlation with the rest of the book. Deterministic and
//! direction-blind; the decision step sizes trades within these limits.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::technical_figures::sample_std_dev;
use crate::market::Symbol;

/// How position limits are derived; built through [`RiskParams::new`] or `default()`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RiskParams {
    base_limit_pct: f64,
    target_daily_vol: f64,
    lookback: usize,
    max_correlation_penalty: f64,
}

/// A risk parameter out of range; the message names it and its value.
#[derive(Debug, Clone, Copy, PartialEq, Error)]
pub enum InvalidRiskParams {
    /// The base limit must be a fraction of the portfolio in (0, 1].
    #[error("base limit {0} must be in (0, 1]")]
    BaseLimit(f64),
    /// The target daily volatility must be positive and finite.
    #[error("target daily volatility {0} must be positive")]
    TargetVol(f64),
    /// At least two returns are needed for a standard deviation.
    #[error("lookback of {0} returns is too short; at least 2 are needed")]
    Lookback(usize),
    /// The correlation penalty must be in [0, 1].
    #[error("correlation penalty {0} must be in [0, 1]")]
    CorrelationPenalty(f64),
}

impl Default for RiskParams {
    /// 20 % base limit, 2 % target daily volatility, 60 returns, penalty up to 50 %.
    fn default() -> RiskParams {
        RiskParams {
            base_limit_pct: 0.20,
            target_daily_vol: 0.02,
            lookback: 60,
            max_correlation_penalty: 0.5,
        }
    }
}

impl RiskParams {
    /// `base_limit_pct`: largest position as a fraction of the portfolio for a calm,
    /// uncorrelated security; `target_daily_vol`: daily volatility at which that limit still
    /// applies in full; `lookback`: number of daily returns used; `max_correlation_penalty`:
    /// the share of the limit removed for an average correlation of 1.
    ///
    /// # Errors
    /// [`InvalidRiskParams`] naming the first parameter out of range.
    pub fn new(
        base_limit_pct: f64,
        target_daily_vol: f64,
        lookback: usize,
        max_correlation_penalty: f64,
    ) -> Result<RiskParams, InvalidRiskParams> {
        if !(base_limit_pct > 0.0 && base_limit_pct <= 1.0) {
            return Err(InvalidRiskParams::BaseLimit(base_limit_pct));
        }
        if !(target_daily_vol > 0.0 && target_daily_vol.is_finite()) {
            return Err(InvalidRiskParams::TargetVol(target_daily_vol));
        }
        if lookback < 2 {
            return Err(InvalidRiskParams::Lookback(lookback));
        }
        if !(0.0..=1.0).contains(&max_correlation_penalty) {
            return Err(InvalidRiskParams::CorrelationPenalty(
                max_correlation_penalty,
            ));
        }
        Ok(RiskParams {
            base_limit_pct,
            target_daily_vol,
            lookback,
            max_correlation_penalty,
        })
    }

    /// Number of daily returns the limits look back over.
    pub fn lookback(&self) -> usize {
        self.lookback
    }
}

/// The largest position allowed in one security.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PositionLimit {
    /// The security.
    pub symbol: Symbol,
    /// Largest position as a fraction of the portfolio (0.15 = 15 %); 0 without history.
    pub max_position_pct: f64,
    /// `portfolio_value × max_position_pct`, rounded to 2 decimal places.
    pub max_position_value: Decimal,
    /// Sample standard deviation of the daily returns; `None` without enough history.
    pub daily_vol: Option<f64>,
    /// Mean Pearson correlation of its returns with each other security's; `None` when
    /// there was nothing to correlate with.
    pub avg_correlation: Option<f64>,
    /// How the limit was reached, or what history is missing.
    pub reasoning: String,
}

/// Pairs of return series must share at least this share of the lookback to be correlated.
const MIN_OVERLAP_SHARE: f64 = 0.5;

/// Position limits for each security of `series` (closes, any order, later than `as_of`
/// ignored), in the order given.
///
/// `max_position_pct = base × min(1, target_vol / daily_vol) × (1 − penalty × max(0,
/// avg_correlation))`, with `daily_vol` the sample standard deviation of the last
/// `lookback` simple daily returns and `avg_correlation` the mean Pearson correlation with
/// every other security that has enough history, over the dates both have returns on
/// (pairs sharing fewer than half the lookback, or with a flat series, are left out). A
/// security with fewer than `lookback + 1` closes, or a non-positive close in the window,
/// gets a limit of 0 saying why. A non-positive portfolio value gives values of 0.
pub fn risk_limits(
    portfolio_value: Decimal,
    series: &[(Symbol, Vec<(NaiveDate, f64)>)],
    as_of: NaiveDate,
    params: &RiskParams,
) -> Vec<PositionLimit> {
    let windows: Vec<Result<Vec<(NaiveDate, f64)>, String>> = series
        .iter()
        .map(|(_, closes)| returns_window(closes, as_of, params.lookback))
        .collect();
    let min_overlap = ((params.lookback as f64 * MIN_OVERLAP_SHARE).ceil() as usize).max(2);
    series
        .iter()
        .zip(&windows)
        .enumerate()
        .map(|(i, ((symbol, _), window))| {
            let returns = match window {
                Ok(returns) => returns,
                Err(missing) => return refuse(symbol, missing.clone()),
            };
            let values: Vec<f64> = returns.iter().map(|(_, r)| *r).collect();
            let daily_vol = sample_std_dev(&values);
            let correlations: Vec<f64> = windows
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .filter_map(|(_, other)| other.as_ref().ok())
                .filter_map(|other| correlation(returns, other, min_overlap))
                .collect();
            let avg_correlation = (!correlations.is_empty())
                .then(|| correlations.iter().sum::<f64>() / correlations.len() as f64);
            let vol_scale = if daily_vol > 0.0 {
                (params.target_daily_vol / daily_vol).min(1.0)
            } else {
                1.0
            };
            let penalty = params.max_correlation_penalty * avg_correlation.unwrap_or(0.0).max(0.0);
            let pct = params.base_limit_pct * vol_scale * (1.0 - penalty);
            let reasoning = format!(
                "daily volatility {:.2} % over {} returns to {} scales the {:.0} % base limit \
                 by {vol_scale:.3}; {}; limit {:.2} % of the portfolio",
                daily_vol * 100.0,
                values.len(),
                returns.last().map_or(as_of, |(d, _)| *d),
                params.base_limit_pct * 100.0,
                match avg_correlation {
                    Some(avg) => format!(
                        "average correlation {avg:.3} with {} other(s) removes {:.1} %",
                        correlations.len(),
                        penalty * 100.0
                    ),
                    None => "no other security to correlate with".to_owned(),
                },
                pct * 100.0,
            );
            PositionLimit {
                symbol: symbol.clone(),
                max_position_pct: pct,
                max_position_value: value_of(portfolio_value, pct),
                daily_vol: Some(daily_vol),
                avg_correlation,
                reasoning,
            }
        })
        .collect()
}

/// The last `lookback` daily returns up to `as_of`, each dated by its later close.
fn returns_window(
    closes: &[(NaiveDate, f64)],
    as_of: NaiveDate,
    lookback: usize,
) -> Result<Vec<(NaiveDate, f64)>, String> {
    let mut usable: Vec<(NaiveDate, f64)> = closes
        .iter()
        .copied()
        .filter(|(d, _)| *d <= as_of)
        .collect();
    usable.sort_by_key(|(d, _)| *d);
    usable.dedup_by_key(|(d, _)| *d);
    let returns = usable.len().saturating_sub(1);
    if returns < lookback {
        return Err(format!(
            "has {returns} daily returns up to {as_of}, needs {lookback}; no position allowed"
        ));
    }
    let window = &usable[usable.len() - lookback - 1..];
    if let Some((d, c)) = window.iter().find(|(_, c)| !(c.is_finite() && *c > 0.0)) {
        return Err(format!(
            "close {c} on {d} is not a positive price; no position allowed"
        ));
    }
    Ok(window
        .windows(2)
        .map(|p| (p[1].0, p[1].1 / p[0].1 - 1.0))
        .collect())
}

/// Pearson correlation over the dates both series have; `None` if too few or one is flat.
fn correlation(a: &[(NaiveDate, f64)], b: &[(NaiveDate, f64)], min_overlap: usize) -> Option<f64> {
    let pairs: Vec<(f64, f64)> = a
        .iter()
        .filter_map(|(d, x)| b.iter().find(|(e, _)| e == d).map(|(_, y)| (*x, *y)))
        .collect();
    if pairs.len() < min_overlap {
        return None;
    }
    let n = pairs.len() as f64;
    let (mx, my) = pairs
        .iter()
        .fold((0.0, 0.0), |(sx, sy), (x, y)| (sx + x, sy + y));
    let (mx, my) = (mx / n, my / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in &pairs {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

fn value_of(portfolio_value: Decimal, pct: f64) -> Decimal {
    // pct is within [0, 1], so the product cannot exceed the portfolio value; checked anyway.
    Decimal::from_f64(pct)
        .and_then(|pct| portfolio_value.max(Decimal::ZERO).checked_mul(pct))
        .map_or(Decimal::ZERO, |value| value.round_dp(2))
}

fn refuse(symbol: &Symbol, missing: String) -> PositionLimit {
    PositionLimit {
        symbol: symbol.clone(),
        max_position_pct: 0.0,
        max_position_value: Decimal::ZERO,
        daily_vol: None,
        avg_correlation: None,
        reasoning: missing,
    }
}

#[cfg(test)]
#[path = "risk_tests.rs"]
mod tests;
