//! Daily OHLCV bars, the core price record, and the sanity rules a bar must satisfy before it
//! is stored, so that a provider glitch is caught at ingestion rather than in a chart.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::symbol::Symbol;

/// One trading day of one security, unadjusted unless it came out of
/// [`adjust_bars`](super::adjust_bars).
///
/// Units are fixed here so that adapters convert once: Tushare reports volume in lots of 100
/// shares and amount in thousands of CNY, and both must be scaled on the way in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailyBar {
    /// The security.
    pub symbol: Symbol,
    /// The session date (exchange local).
    pub trade_date: NaiveDate,
    /// Opening price, in the instrument's currency.
    pub open: Decimal,
    /// Highest price of the session.
    pub high: Decimal,
    /// Lowest price of the session.
    pub low: Decimal,
    /// Closing price.
    pub close: Decimal,
    /// Previous session's close as the exchange reports it (already ex-rights adjusted).
    pub pre_close: Option<Decimal>,
    /// `close - pre_close`, in currency units.
    pub change: Option<Decimal>,
    /// Change against `pre_close` in percent (1.5 means +1.5 %).
    pub pct_change: Option<Decimal>,
    /// Traded volume in shares.
    pub volume: Decimal,
    /// Traded value in currency units.
    pub amount: Option<Decimal>,
}

/// What is wrong with a bar.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BarProblem {
    /// A price field is below zero.
    #[error("{field} {value} is negative")]
    NegativePrice {
        /// Name of the field (`open`, `pre_close`, …).
        field: &'static str,
        /// Its value.
        value: Decimal,
    },
    /// Volume or amount is below zero.
    #[error("{field} {value} is negative")]
    NegativeQuantity {
        /// `volume` or `amount`.
        field: &'static str,
        /// Its value.
        value: Decimal,
    },
    /// The session's high is below its low.
    #[error("high {high} is below low {low}")]
    HighBelowLow {
        /// The reported high.
        high: Decimal,
        /// The reported low.
        low: Decimal,
    },
    /// Open or close lies outside the session's range.
    #[error("{field} {value} is outside the day's range [{low}, {high}]")]
    OutsideRange {
        /// `open` or `close`.
        field: &'static str,
        /// Its value.
        value: Decimal,
        /// The session low.
        low: Decimal,
        /// The session high.
        high: Decimal,
    },
}

/// A bar that failed [`DailyBar::validate`], with the bar it came from for the sync log.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid daily bar {symbol} {trade_date}: {problem}")]
pub struct InvalidBar {
    /// The bar's security.
    pub symbol: Symbol,
    /// The bar's date.
    pub trade_date: NaiveDate,
    /// The first rule the bar broke.
    pub problem: BarProblem,
}

impl DailyBar {
    /// Checks that prices and quantities are non-negative, `low <= high`, and open and close
    /// lie within `[low, high]`. Zero is allowed: some providers report 0 for no trade.
    ///
    /// # Errors
    /// [`InvalidBar`] with the first rule broken, in the order above.
    pub fn validate(&self) -> Result<(), InvalidBar> {
        self.find_problem().map_or(Ok(()), |problem| {
            Err(InvalidBar {
                symbol: self.symbol.clone(),
                trade_date: self.trade_date,
                problem,
            })
        })
    }

    fn find_problem(&self) -> Option<BarProblem> {
        let prices = [
            ("open", Some(self.open)),
            ("high", Some(self.high)),
            ("low", Some(self.low)),
            ("close", Some(self.close)),
            ("pre_close", self.pre_close),
        ];
        for (field, value) in prices {
            if let Some(value) = value.filter(|v| *v < Decimal::ZERO) {
                return Some(BarProblem::NegativePrice { field, value });
            }
        }
        for (field, value) in [("volume", Some(self.volume)), ("amount", self.amount)] {
            if let Some(value) = value.filter(|v| *v < Decimal::ZERO) {
                return Some(BarProblem::NegativeQuantity { field, value });
            }
        }
        if self.high < self.low {
            return Some(BarProblem::HighBelowLow {
                high: self.high,
                low: self.low,
            });
        }
        [("open", self.open), ("close", self.close)]
            .into_iter()
            .find(|(_, value)| *value < self.low || *value > self.high)
            .map(|(field, value)| BarProblem::OutsideRange {
                field,
                value,
                low: self.low,
                high: self.high,
            })
    }
}

#[cfg(test)]
#[path = "bars_tests.rs"]
mod tests;
