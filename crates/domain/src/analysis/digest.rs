//! What an LLM analyst is shown: a compact, numeric digest of the stored data, every figure
//! with its as-of date, so a model reasons over the database's numbers and never recalls
//! prices or financials from memory. Also the price levels a decision quotes.

use chrono::NaiveDate;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;

use super::decision::Action;
use super::signal::Input;
use crate::indicators::{atr, rsi, sma};
use crate::market::{DailyBar, DailyValuation, FinancialIndicators, Symbol};

/// The digest of one security as of one date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Digest {
    pub symbol: Symbol,
    pub as_of: NaiveDate,
    /// Every figure, named, with the date of the data it comes from.
    pub figures: Vec<Input>,
}

fn push(figures: &mut Vec<Input>, name: &str, value: Option<f64>, as_of: NaiveDate) {
    if let Some(v) = value.filter(|v| v.is_finite()) {
        figures.push(Input::new(name, (v * 1e4).round() / 1e4, as_of));
    }
}

impl Digest {
    /// Price figures from `bars` (ascending or not; later than `as_of` ignored): last close,
    /// returns over 1, 3, 6 and 12 months (21, 63, 126, 252 sessions), the 52-week range,
    /// SMA 50/200, RSI 14 and 20-day annualised volatility; the latest valuation multiples;
    /// the latest reported ratios.
    pub fn build(
        symbol: &Symbol,
        bars: &[DailyBar],
        valuation: Option<&DailyValuation>,
        indicators: Option<&FinancialIndicators>,
        as_of: NaiveDate,
    ) -> Digest {
        let mut usable: Vec<&DailyBar> = bars.iter().filter(|b| b.trade_date <= as_of).collect();
        usable.sort_by_key(|b| b.trade_date);
        let closes: Vec<f64> = usable.iter().filter_map(|b| b.close.to_f64()).collect();
        let mut figures = Vec::new();
        if let (Some(last), true) = (usable.last(), closes.len() == usable.len()) {
            let day = last.trade_date;
            let n = closes.len();
            let close = closes[n - 1];
            push(&mut figures, "close", Some(close), day);
            for (name, back) in [
                ("return_1m", 21),
                ("return_3m", 63),
                ("return_6m", 126),
                ("return_12m", 252),
            ] {
                if n > back {
                    push(
                        &mut figures,
                        name,
                        Some(close / closes[n - 1 - back] - 1.0),
                        day,
                    );
                }
            }
            let year = &closes[n.saturating_sub(252)..];
            push(
                &mut figures,
                "high_52w",
                year.iter().copied().reduce(f64::max),
                day,
            );
            push(
                &mut figures,
                "low_52w",
                year.iter().copied().reduce(f64::min),
                day,
            );
            let last_of = |v: Result<Vec<f64>, _>| v.ok().and_then(|v| v.last().copied());
            push(&mut figures, "sma_50", last_of(sma(&closes, 50)), day);
            push(&mut figures, "sma_200", last_of(sma(&closes, 200)), day);
            push(&mut figures, "rsi_14", last_of(rsi(&closes, 14)), day);
            if n > 21 {
                let rets: Vec<f64> = closes[n - 21..]
                    .windows(2)
                    .map(|w| w[1] / w[0] - 1.0)
                    .collect();
                let mean = rets.iter().sum::<f64>() / rets.len() as f64;
                let var =
                    rets.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (rets.len() - 1) as f64;
                push(
                    &mut figures,
                    "volatility_20d_annualised",
                    Some(var.sqrt() * 252f64.sqrt()),
                    day,
                );
            }
        }
        if let Some(v) = valuation.filter(|v| v.trade_date <= as_of) {
            let f = |x: Option<rust_decimal::Decimal>| x.and_then(|x| x.to_f64());
            push(
                &mut figures,
                "pe_ttm",
                f(v.pe_ttm).or(f(v.pe)),
                v.trade_date,
            );
            push(&mut figures, "pb", f(v.pb), v.trade_date);
            push(
                &mut figures,
                "ps_ttm",
                f(v.ps_ttm).or(f(v.ps)),
                v.trade_date,
            );
            push(
                &mut figures,
                "dividend_yield_pct",
                f(v.dividend_yield),
                v.trade_date,
            );
            push(
                &mut figures,
                "market_cap",
                f(v.total_market_cap),
                v.trade_date,
            );
        }
        if let Some(r) = indicators.filter(|r| r.report_date <= as_of) {
            let f = |x: Option<rust_decimal::Decimal>| x.and_then(|x| x.to_f64());
            for (name, value) in [
                ("roe", r.roe),
                ("gross_margin", r.gross_margin),
                ("net_margin", r.net_margin),
                ("operating_margin", r.operating_margin),
                ("revenue_growth", r.revenue_growth),
                ("earnings_growth", r.earnings_growth),
                ("debt_to_equity", r.debt_to_equity),
                ("current_ratio", r.current_ratio),
            ] {
                push(&mut figures, name, f(value), r.report_date);
            }
        }
        Digest {
            symbol: symbol.clone(),
            as_of,
            figures,
        }
    }

    /// One line per figure, `name = value (as of date)`, for a prompt.
    pub fn to_prompt(&self) -> String {
        let mut text = format!(
            "Security: {}. Analysis date: {}.\n",
            self.symbol, self.as_of
        );
        if self.figures.is_empty() {
            text.push_str("No stored data.\n");
        }
        for f in &self.figures {
            text.push_str(&format!("{} = {} (as of {})\n", f.name, f.value, f.as_of));
        }
        text
    }

    /// Whether the digest has any price figure.
    pub fn has_prices(&self) -> bool {
        self.figures.iter().any(|f| f.name == "close")
    }
}

/// Where a trade would be taken, stopped out and taken profit on.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PriceLevels {
    /// Last close on or before `as_of`.
    pub reference_price: f64,
    /// `reference ± 3 × ATR(14)`, in the trade's direction.
    pub target_price: f64,
    /// `reference ∓ 2 × ATR(14)`, against it.
    pub stop_price: f64,
    /// The 14-day average true range used.
    pub atr_14: f64,
    pub as_of: NaiveDate,
}

/// Target and stop for a buy or a sell, from the 14-day ATR; `None` for hold or with fewer
/// than 15 usable bars.
pub fn price_levels(action: Action, bars: &[DailyBar], as_of: NaiveDate) -> Option<PriceLevels> {
    let direction = match action {
        Action::Buy => 1.0,
        Action::Sell => -1.0,
        Action::Hold => return None,
    };
    let mut usable: Vec<&DailyBar> = bars.iter().filter(|b| b.trade_date <= as_of).collect();
    usable.sort_by_key(|b| b.trade_date);
    let mut series = [Vec::new(), Vec::new(), Vec::new()];
    for b in &usable {
        series[0].push(b.high.to_f64()?);
        series[1].push(b.low.to_f64()?);
        series[2].push(b.close.to_f64()?);
    }
    let atr_14 = *atr(&series[0], &series[1], &series[2], 14).ok()?.last()?;
    if !atr_14.is_finite() {
        return None;
    }
    let reference_price = *series[2].last()?;
    let round = |v: f64| (v * 100.0).round() / 100.0;
    Some(PriceLevels {
        reference_price,
        target_price: round(reference_price + direction * 3.0 * atr_14),
        stop_price: round(reference_price - direction * 2.0 * atr_14),
        atr_14: round(atr_14),
        as_of: usable.last()?.trade_date,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::demo_data::{date, demo_bars};

    #[test]
    fn the_digest_of_aapl_shows_figures_computed_by_hand_from_the_file() {
        let bars = demo_bars("AAPL");
        let as_of = date("2012-12-31");
        let digest = Digest::build(&Symbol::parse("AAPL").unwrap(), &bars, None, None, as_of);
        let usable: Vec<&DailyBar> = bars.iter().filter(|b| b.trade_date <= as_of).collect();
        let close = |i: usize| usable[i].close.to_f64().unwrap();
        let n = usable.len();
        let get = |name: &str| digest.figures.iter().find(|f| f.name == name).unwrap();
        assert_eq!(get("close").value, close(n - 1));
        assert_eq!(get("close").as_of, date("2012-12-31"));
        let expected = ((close(n - 1) / close(n - 22) - 1.0) * 1e4).round() / 1e4;
        assert_eq!(get("return_1m").value, expected);
        assert!(digest.to_prompt().contains("close = "));
        assert!(digest.figures.iter().all(|f| f.as_of <= as_of));
    }

    #[test]
    fn levels_follow_the_direction_and_hold_has_none() {
        let bars = demo_bars("MSFT");
        let as_of = date("2012-12-31");
        assert_eq!(price_levels(Action::Hold, &bars, as_of), None);
        let buy = price_levels(Action::Buy, &bars, as_of).unwrap();
        let sell = price_levels(Action::Sell, &bars, as_of).unwrap();
        assert!(buy.target_price > buy.reference_price && buy.stop_price < buy.reference_price);
        assert!(sell.target_price < sell.reference_price && sell.stop_price > sell.reference_price);
        let width = buy.target_price - buy.reference_price;
        assert!(
            (width - 3.0 * buy.atr_14).abs() < 0.02,
            "{width} vs {}",
            buy.atr_14
        );
    }
}
