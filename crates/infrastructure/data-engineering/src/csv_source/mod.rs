//! CSV adapter: daily bars (and adjustment factors, when an adjusted close is given) read from
//! every `*.csv` and `*.csv.gz` file directly inside one directory, or from files held in
//! memory such as the demo dataset built into the binary
//! (`data/demo/us-equities-daily-2000-2013.csv.gz`).
//!
//! # Column mapping
//!
//! Headers are matched case-insensitively, after trimming, with spaces and dashes read as
//! underscores (`Adj Close` = `adj_close`). Other columns are ignored.
//!
//! | field | accepted headers | required | format and unit |
//! |---|---|---|---|
//! | symbol | `ticker`, `symbol`, `ts_code` | no¹ | `AAPL`, `BRK.B`, `600519.SH` (stockpilot spelling, case-sensitive) |
//! | date | `date`, `trade_date` | yes | `YYYY-MM-DD` or `YYYYMMDD` |
//! | open, high, low, close | `open`, `high`, `low`, `close` | yes | decimal, currency units, unadjusted |
//! | volume | `volume`, `vol` | yes | shares (a Tushare export's `vol` is in lots: multiply by 100 first) |
//! | amount | `amount` | no | currency units (a Tushare export's `amount` is in thousands: multiply by 1000 first) |
//! | pre_close | `pre_close` | no | previous close; when absent, the previous row's close |
//! | adjusted close | `adj_close`, `adj close` | no | gives the factor `adj_close / close`, rounded to 8 places |
//! | name | `name` | no | instrument name; defaults to the symbol |
//!
//! ¹ A file without a symbol column holds one symbol, taken from its name: `AAPL.csv`,
//! `600519.SH.csv.gz`.
//!
//! # Behaviour
//!
//! - Loaded lazily on first use, once per instance, and indexed by symbol; rows sorted by date.
//!   Files are read in name order; a repeated (symbol, date) row replaces the earlier one
//!   ("last wins") and is counted in [`CsvSummary::duplicates`] with a warning.
//! - Strict: the first bad header, unparsable cell or bar failing `DailyBar::validate`
//!   (high below low, open/close outside the range, negatives) fails the load with
//!   `Malformed` naming file, line and column; nothing is skipped silently. An unreadable
//!   directory or file is `Transient` (mount it and retry).
//! - `pre_close`, `change` and `pct_change` (percent, 4 places) come from the previous row of
//!   the same symbol, so the first row has none unless the file gives `pre_close`.
//! - `instruments(market)`: one per symbol of that market (told by symbol shape), status
//!   listed, no listing dates. `trading_calendar(exchange)`: the union of dates of that
//!   exchange's symbols, all open, `pretrade_date` the previous date of the union.
//! - `markets()` is [`CsvSettings::markets`]: both by default, or one via `serving`.
//! - Valuations, statements, indicators, news and insider trades are `Unsupported`.

mod load;

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use stockpilot_application::ports::{Dataset, MarketDataSource, SourceError};
use stockpilot_domain::market::{
    AdjustmentFactor, DailyBar, DailyValuation, DateRange, Exchange, FinancialIndicators,
    FinancialStatement, Instrument, Market, ReportPeriod, StatementKind, Symbol, TradingDay,
};
use tokio::sync::OnceCell;

pub use load::CsvSummary;
use load::Index;

use crate::num::{change_against, round};
use crate::settings::CsvSettings;

/// Provider name reported in errors and metrics.
pub const PROVIDER: &str = "csv";

/// Decimal places of adjustment factors derived from an adjusted close.
pub const FACTOR_SCALE: u32 = 8;

/// The CSV directory adapter.
#[derive(Debug)]
pub struct CsvSource {
    settings: CsvSettings,
    index: OnceCell<Arc<Index>>,
}

impl CsvSource {
    /// An adapter over `settings.origin`; nothing is read until the first call.
    pub fn new(settings: CsvSettings) -> CsvSource {
        CsvSource {
            settings,
            index: OnceCell::new(),
        }
    }

    /// Loads the directory if not done yet and tells what was found.
    ///
    /// # Errors
    /// As every other method: `Malformed` for bad content, `Transient` for unreadable files.
    pub async fn summary(&self) -> Result<CsvSummary, SourceError> {
        Ok(self.index().await?.summary)
    }

    async fn index(&self) -> Result<Arc<Index>, SourceError> {
        self.index
            .get_or_try_init(|| async {
                let origin = self.settings.origin.clone();
                let loaded = tokio::task::spawn_blocking(move || load::load(&origin))
                    .await
                    .map_err(|e| SourceError::Transient {
                        provider: PROVIDER,
                        message: format!("CSV loader task failed: {e}"),
                    })??;
                tracing::info!(
                    origin = %self.settings.origin,
                    files = loaded.summary.files,
                    rows = loaded.summary.rows,
                    symbols = loaded.summary.symbols,
                    "CSV directory loaded"
                );
                Ok(Arc::new(loaded))
            })
            .await
            .cloned()
    }
}

fn unsupported(dataset: Dataset) -> SourceError {
    SourceError::Unsupported {
        provider: PROVIDER,
        dataset: dataset.as_str(),
    }
}

#[async_trait]
impl MarketDataSource for CsvSource {
    fn provider(&self) -> &'static str {
        PROVIDER
    }

    fn markets(&self) -> &'static [Market] {
        self.settings.markets
    }

    fn datasets(&self) -> &'static [Dataset] {
        &[
            Dataset::Instruments,
            Dataset::Calendar,
            Dataset::DailyBars,
            Dataset::AdjustmentFactors,
        ]
    }

    async fn instruments(&self, market: Market) -> Result<Vec<Instrument>, SourceError> {
        let index = self.index().await?;
        Ok(index
            .series
            .iter()
            .filter(|(symbol, _)| symbol.market() == market)
            .map(|(symbol, series)| {
                let name = series.name.clone().unwrap_or_else(|| symbol.to_string());
                Instrument::new(symbol.clone(), name)
            })
            .collect())
    }

    async fn trading_calendar(
        &self,
        exchange: Exchange,
        range: DateRange,
    ) -> Result<Vec<TradingDay>, SourceError> {
        let index = self.index().await?;
        let dates: BTreeSet<NaiveDate> = index
            .series
            .iter()
            .filter(|(symbol, _)| symbol.exchange() == exchange)
            .flat_map(|(_, series)| series.rows.iter().map(|r| r.date))
            .collect();
        let mut previous: Option<NaiveDate> = dates.range(..range.start()).next_back().copied();
        let mut days = Vec::new();
        for date in dates.range(range.start()..=range.end()) {
            days.push(TradingDay {
                exchange,
                date: *date,
                is_open: true,
                pretrade_date: previous,
            });
            previous = Some(*date);
        }
        Ok(days)
    }

    async fn daily_bars(
        &self,
        symbol: &Symbol,
        range: DateRange,
    ) -> Result<Vec<DailyBar>, SourceError> {
        let index = self.index().await?;
        let Some(series) = index.series.get(symbol) else {
            return Ok(Vec::new());
        };
        let mut previous_close: Option<Decimal> = None;
        let mut bars = Vec::new();
        for row in &series.rows {
            let pre_close = row.pre_close.or(previous_close);
            previous_close = Some(row.close);
            if !range.contains(row.date) {
                continue;
            }
            let (change, pct_change) = match pre_close.map(|p| change_against(row.close, p)) {
                Some((change, pct)) => (Some(change), pct),
                None => (None, None),
            };
            bars.push(DailyBar {
                symbol: symbol.clone(),
                trade_date: row.date,
                open: row.open,
                high: row.high,
                low: row.low,
                close: row.close,
                pre_close,
                change,
                pct_change,
                volume: row.volume,
                amount: row.amount,
            });
        }
        Ok(bars)
    }

    async fn adjustment_factors(
        &self,
        symbol: &Symbol,
        range: DateRange,
    ) -> Result<Vec<AdjustmentFactor>, SourceError> {
        let index = self.index().await?;
        let Some(series) = index.series.get(symbol) else {
            return Ok(Vec::new());
        };
        Ok(series
            .rows
            .iter()
            .filter(|row| range.contains(row.date))
            .filter_map(|row| {
                // A zero close has no meaningful factor; such a day is left without one.
                let factor = row.adj_close?.checked_div(row.close)?;
                Some(AdjustmentFactor {
                    symbol: symbol.clone(),
                    trade_date: row.date,
                    factor: round(factor, FACTOR_SCALE).normalize(),
                })
            })
            .collect())
    }

    async fn daily_valuations(
        &self,
        _symbol: &Symbol,
        _range: DateRange,
    ) -> Result<Vec<DailyValuation>, SourceError> {
        Err(unsupported(Dataset::Valuations))
    }

    async fn financial_statements(
        &self,
        _symbol: &Symbol,
        _kind: StatementKind,
        _period: ReportPeriod,
        _range: DateRange,
    ) -> Result<Vec<FinancialStatement>, SourceError> {
        Err(unsupported(Dataset::Financials))
    }

    async fn financial_indicators(
        &self,
        _symbol: &Symbol,
        _period: ReportPeriod,
        _range: DateRange,
    ) -> Result<Vec<FinancialIndicators>, SourceError> {
        Err(unsupported(Dataset::FinancialIndicators))
    }
}
