//! What a simulation needs from the store: the symbols' bars and adjustment factors over a
//! range, aligned on one calendar, as the domain simulator's [`Panel`].

use chrono::NaiveDate;
use rust_decimal::prelude::ToPrimitive;
use stockpilot_domain::backtest::{Board, Panel};
use stockpilot_domain::market::{DateRange, Exchange, Market, Symbol};

use crate::AppError;
use crate::ports::MarketDataStore;

mod replay;

pub use replay::{
    Backtest, BacktestRequest, BacktestService, DecisionRow, IcRow, LlmPlan, MAX_SYMBOLS, Timings,
};

/// Relative changes of an adjustment factor below this are rounding noise (stored factors keep
/// 8 decimals, and factors derived from an adjusted close carry its rounding), not ex-rights
/// dates: the previous factor is kept. The smallest real dividends move a factor by ~0.1 %.
pub const FACTOR_NOISE: f64 = 1e-5;

/// Builds a panel's factors one bar at a time, keeping the previous factor through noise.
#[derive(Debug, Default)]
pub struct FactorSmoother {
    last: Option<f64>,
}

impl FactorSmoother {
    /// The factor to use for a bar whose raw factor is `raw` (`None`: no factor, 1).
    pub fn next(&mut self, raw: Option<f64>) -> f64 {
        let raw = raw.filter(|f| f.is_finite() && *f > 0.0);
        let factor = match (self.last, raw) {
            (Some(last), Some(raw)) if (raw / last - 1.0).abs() < FACTOR_NOISE => last,
            (_, Some(raw)) => raw,
            (Some(last), None) => last,
            (None, None) => 1.0,
        };
        self.last = Some(factor);
        factor
    }
}

/// The A-share board of a symbol (ST when its name starts with `ST`, `*ST` or `S*ST`, as the
/// exchanges mark them), for the daily price limits; `None` for US symbols.
pub fn board_of(symbol: &Symbol, name: Option<&str>) -> Option<Board> {
    if symbol.market() != Market::Cn {
        return None;
    }
    let st = name.is_some_and(|n| {
        let n = n.trim_start().to_ascii_uppercase();
        ["ST", "*ST", "S*ST", "SST"]
            .iter()
            .any(|p| n.starts_with(p))
    });
    Board::of_code(symbol.as_str(), st)
}

/// Loads `symbols` over `range` from the store: the calendar is every day any of them has a
/// bar plus the `calendar` days given (an exchange's open days, on which none may trade), prices are the stored (unadjusted) open and close, factors the stored adjustment
/// factors (the one in effect on each day, smoothed through [`FACTOR_NOISE`]; 1 without any).
///
/// # Errors
/// `NotFound` for a symbol the store does not know; `Validation` for a symbol without a bar in
/// the range; storage errors.
pub async fn load_panel(
    store: &dyn MarketDataStore,
    symbols: &[Symbol],
    range: DateRange,
    calendar: &[NaiveDate],
) -> Result<Panel, AppError> {
    let mut rows = Vec::new();
    let mut names = Vec::with_capacity(symbols.len());
    for (s, symbol) in symbols.iter().enumerate() {
        let instrument = store.instrument(symbol).await?.ok_or_else(|| {
            AppError::NotFound(format!(
                "{symbol}: no such instrument in the store; sync it (POST /api/v1/sync/jobs) or, for the demo symbols (AAPL, IBM, MSFT, GOOG, FB), run `stockpilot data import-demo`"
            ))
        })?;
        let bars = store.daily_bars(symbol, range).await?.rows;
        if bars.is_empty() {
            return Err(AppError::invalid(
                "symbols",
                format!(
                    "{symbol} has no bars between {} and {}",
                    range.start(),
                    range.end()
                ),
            ));
        }
        // Every factor up to the end, so the one in effect on the first day is known too.
        let since = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(range.start());
        let all = DateRange::new(since.min(range.start()), range.end(), None)
            .map_err(|e| AppError::invalid("range", e.to_string()))?;
        let mut factors: Vec<(NaiveDate, f64)> = store
            .adjustment_factors(symbol, all)
            .await?
            .into_iter()
            .filter(|f| f.trade_date <= range.end())
            .filter_map(|f| Some((f.trade_date, f.factor.to_f64()?)))
            .collect();
        factors.sort_by_key(|f| f.0);
        let mut next_factor = 0;
        let mut in_effect = None;
        for bar in bars {
            while next_factor < factors.len() && factors[next_factor].0 <= bar.trade_date {
                in_effect = Some(factors[next_factor].1);
                next_factor += 1;
            }
            let (Some(open), Some(close)) = (bar.open.to_f64(), bar.close.to_f64()) else {
                continue;
            };
            rows.push(PanelRow {
                symbol: s,
                date: bar.trade_date,
                open,
                close,
                factor: in_effect,
            });
        }
        names.push(Some(instrument.instrument.name));
    }
    Ok(assemble(symbols, &names, rows, calendar))
}

/// The open days of `exchange` within `range` as the store has them (empty when it has none).
///
/// # Errors
/// Storage errors.
pub async fn open_days(
    store: &dyn MarketDataStore,
    exchange: Exchange,
    range: DateRange,
) -> Result<Vec<NaiveDate>, AppError> {
    Ok(store
        .calendar(exchange, range)
        .await?
        .rows
        .into_iter()
        .filter(|d| d.is_open)
        .map(|d| d.date)
        .collect())
}

/// One bar of one symbol for [`assemble`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PanelRow {
    /// Index into the symbols.
    pub symbol: usize,
    pub date: NaiveDate,
    /// Real (unadjusted) prices.
    pub open: f64,
    pub close: f64,
    /// The raw adjustment factor in effect, if any.
    pub factor: Option<f64>,
}

/// The panel of `symbols` from their bars: the calendar is every day any of them has a bar and
/// every day of `calendar`, factors are smoothed through [`FACTOR_NOISE`] per symbol, boards come from the symbols and
/// their `names` (ST), for the price limits.
pub fn assemble(
    symbols: &[Symbol],
    names: &[Option<String>],
    mut rows: Vec<PanelRow>,
    calendar: &[NaiveDate],
) -> Panel {
    rows.sort_by_key(|r| (r.symbol, r.date));
    let mut dates: Vec<NaiveDate> = rows.iter().map(|r| r.date).collect();
    dates.extend_from_slice(calendar);
    dates.sort_unstable();
    dates.dedup();
    let mut panel = Panel::new(
        dates.clone(),
        symbols.iter().map(|s| s.as_str().to_owned()).collect(),
    );
    let mut smoothers: Vec<FactorSmoother> =
        symbols.iter().map(|_| FactorSmoother::default()).collect();
    for r in rows {
        let day = dates.binary_search(&r.date).unwrap_or_default();
        let factor = smoothers[r.symbol].next(r.factor);
        panel.set(day, r.symbol, r.open, r.close, factor);
    }
    for (s, symbol) in symbols.iter().enumerate() {
        let name = names.get(s).and_then(Option::as_deref);
        panel.set_board(s, board_of(symbol, name));
    }
    panel
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_keeps_the_factor_and_an_ex_date_changes_it() {
        let mut s = FactorSmoother::default();
        assert_eq!(s.next(None), 1.0);
        assert_eq!(s.next(Some(0.047_045_32)), 0.047_045_32);
        assert_eq!(
            s.next(Some(0.047_045_33)),
            0.047_045_32,
            "8th-decimal noise"
        );
        assert_eq!(s.next(Some(0.094_090_64)), 0.094_090_64, "a 2:1 split");
        assert_eq!(s.next(None), 0.094_090_64);
        assert_eq!(s.next(Some(-1.0)), 0.094_090_64);
    }

    #[test]
    fn boards_only_for_a_shares_with_st_from_the_name() {
        let cn = Symbol::parse("600001.SH").unwrap();
        assert_eq!(board_of(&cn, Some("*ST 海航")), Some(Board::MainSt));
        assert_eq!(board_of(&cn, Some("浦发银行")), Some(Board::Main));
        assert_eq!(
            board_of(&Symbol::parse("AAPL").unwrap(), Some("Apple")),
            None
        );
    }
}
