//! Price adjustment for corporate actions (splits, dividends): turns raw bars into series whose
//! returns are comparable across ex-rights dates, the way Tushare's `pro_bar` does.

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use super::bars::DailyBar;
use super::symbol::Symbol;
use crate::code_enum;

/// Decimal places adjusted prices keep: enough that a 1/1000 factor ratio on a cent price
/// survives, few enough that stored and recomputed values compare equal.
pub const ADJUSTED_PRICE_SCALE: u32 = 6;

/// A provider's cumulative adjustment factor for one security on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdjustmentFactor {
    /// The security.
    pub symbol: Symbol,
    /// The session the factor applies to.
    pub trade_date: NaiveDate,
    /// Cumulative factor; grows at each ex-rights date. Must be positive to be used.
    pub factor: Decimal,
}

code_enum! {
    /// How bar prices are adjusted for corporate actions; raw prices unless asked otherwise.
    pub enum Adjust as "adjustment" {
        /// Raw prices as traded.
        None = "none",
        /// Latest prices stay as traded; earlier ones are scaled down to match (前复权).
        Forward = "forward",
        /// Earliest prices stay as traded; later ones are scaled up (后复权).
        Backward = "backward",
    }
}

impl Default for Adjust {
    /// Raw prices.
    fn default() -> Self {
        Adjust::None
    }
}

/// Adjusts `bars` with `factors` and returns them in the same order.
///
/// - `Backward`: price × factor of the bar's date.
/// - `Forward`: price × factor / latest factor, the latest being the one with the greatest
///   date among `factors` for that symbol, so forward prices depend on the slice given.
/// - A date without a factor uses the most recent earlier one, or the first later one when
///   there is none earlier; a symbol without any factor is left unadjusted.
/// - `open`, `high`, `low`, `close`, `pre_close` and `change` are scaled and rounded half away
///   from zero to [`ADJUSTED_PRICE_SCALE`] places; `volume`, `amount` and `pct_change` are
///   unchanged (pct_change is a ratio of two prices scaled alike).
/// - Factors that are zero or negative are ignored: no provider sends them, and a zero
///   would make forward adjustment divide by zero.
///
/// Bars and factors may hold several symbols, in any order.
pub fn adjust_bars(bars: &[DailyBar], factors: &[AdjustmentFactor], mode: Adjust) -> Vec<DailyBar> {
    if mode == Adjust::None {
        return bars.to_vec();
    }
    let mut usable: Vec<&AdjustmentFactor> = factors
        .iter()
        .filter(|f| f.factor > Decimal::ZERO)
        .collect();
    usable.sort_by(|a, b| (&a.symbol, a.trade_date).cmp(&(&b.symbol, b.trade_date)));

    // The factors of the symbol of the previous bar: bars usually come one symbol at a time.
    let mut current: Option<(&Symbol, &[&AdjustmentFactor])> = None;
    bars.iter()
        .map(|bar| {
            let of_symbol = match current {
                Some((symbol, of_symbol)) if *symbol == bar.symbol => of_symbol,
                _ => {
                    let from = usable.partition_point(|f| f.symbol < bar.symbol);
                    let to = usable.partition_point(|f| f.symbol <= bar.symbol);
                    let of_symbol = usable.get(from..to).unwrap_or_default();
                    current = Some((&bar.symbol, of_symbol));
                    of_symbol
                }
            };
            let (Some(factor), Some(latest)) =
                (factor_on(of_symbol, bar.trade_date), of_symbol.last())
            else {
                return bar.clone();
            };
            let divisor = match mode {
                Adjust::Forward => latest.factor,
                Adjust::None | Adjust::Backward => Decimal::ONE,
            };
            scale_prices(bar, factor, divisor)
        })
        .collect()
}

fn factor_on(of_symbol: &[&AdjustmentFactor], date: NaiveDate) -> Option<Decimal> {
    let after = of_symbol.partition_point(|f| f.trade_date <= date);
    let chosen = match after.checked_sub(1) {
        Some(on_or_before) => of_symbol.get(on_or_before),
        None => of_symbol.first(),
    };
    chosen.map(|f| f.factor)
}

fn scale_prices(bar: &DailyBar, factor: Decimal, divisor: Decimal) -> DailyBar {
    // Multiplying first keeps the result exact before the single rounding. Overflow needs a
    // product beyond 7.9e28, which no price times factor reaches; should it happen anyway,
    // the raw price is kept rather than panicking inside a request.
    let scale = |price: Decimal| {
        price
            .checked_mul(factor)
            .and_then(|p| p.checked_div(divisor))
            .map_or(price, |p| {
                p.round_dp_with_strategy(
                    ADJUSTED_PRICE_SCALE,
                    RoundingStrategy::MidpointAwayFromZero,
                )
            })
    };
    DailyBar {
        open: scale(bar.open),
        high: scale(bar.high),
        low: scale(bar.low),
        close: scale(bar.close),
        pre_close: bar.pre_close.map(scale),
        change: bar.change.map(scale),
        ..bar.clone()
    }
}

#[cfg(test)]
#[path = "adjust_tests.rs"]
mod tests;
