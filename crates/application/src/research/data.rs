//! Everything the analysts of one symbol read, loaded once per symbol per run.

use chrono::{Duration, NaiveDate};
use rust_decimal::prelude::ToPrimitive;
use stockpilot_domain::analysis::{Digest, PositionLimit};
use stockpilot_domain::market::{
    Adjust, DailyBar, DailyValuation, DateRange, FinancialIndicators, FinancialStatement,
    NewsArticle, ReportPeriod, StatementKind, Symbol, adjust_bars,
};

use crate::ports::{MarketDataStore, ResearchStore, StoreError};

/// Calendar days of bars loaded before `as_of` (enough for a 200-day average and a year of
/// volatility history).
pub const BAR_HISTORY_DAYS: i64 = 800;
/// Calendar days of valuations loaded (the valuation analyst's multiple history).
pub const VALUATION_HISTORY_DAYS: i64 = 3 * 365 + 10;
/// Calendar days of news before `as_of` the news analyst reads.
pub const NEWS_DAYS: i64 = 30;

/// The stored data of one symbol up to `as_of` (nothing later is loaded).
#[derive(Debug, Clone)]
pub struct SymbolData {
    pub symbol: Symbol,
    pub as_of: NaiveDate,
    /// Adjusted for splits and dividends relative to `as_of` (prices on `as_of` are as traded).
    pub bars: Vec<DailyBar>,
    pub valuations: Vec<DailyValuation>,
    pub statements: Vec<FinancialStatement>,
    pub indicators: Vec<FinancialIndicators>,
    pub news: Vec<NewsArticle>,
    pub digest: Digest,
    /// Set by the run once every symbol's data is loaded (it depends on the others).
    pub risk_limit: Option<PositionLimit>,
}

impl SymbolData {
    /// Loads the symbol's data.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn load(
        market: &dyn MarketDataStore,
        research: &dyn ResearchStore,
        symbol: &Symbol,
        as_of: NaiveDate,
    ) -> Result<SymbolData, StoreError> {
        let range = |days: i64| DateRange::new(as_of - Duration::days(days), as_of, None);
        let invalid =
            |e: stockpilot_domain::market::InvalidDateRange| StoreError(anyhow::anyhow!(e));
        let bar_range = range(BAR_HISTORY_DAYS).map_err(invalid)?;
        let raw = market.daily_bars(symbol, bar_range).await?.rows;
        let factors: Vec<_> = market
            .adjustment_factors(symbol, bar_range)
            .await?
            .into_iter()
            .filter(|f| f.trade_date <= as_of)
            .collect();
        let bars = if factors.is_empty() {
            raw
        } else {
            adjust_bars(&raw, &factors, Adjust::Forward)
        };
        let valuations = market
            .valuations(symbol, range(VALUATION_HISTORY_DAYS).map_err(invalid)?)
            .await?
            .rows;
        let mut statements = Vec::new();
        for kind in [
            StatementKind::Income,
            StatementKind::Balance,
            StatementKind::CashFlow,
        ] {
            statements.extend(
                market
                    .statements(symbol, kind, ReportPeriod::Annual, 8)
                    .await?
                    .rows,
            );
        }
        let mut indicators = Vec::new();
        for period in [
            ReportPeriod::Ttm,
            ReportPeriod::Annual,
            ReportPeriod::Quarterly,
        ] {
            indicators.extend(market.financial_indicators(symbol, period, 4).await?.rows);
        }
        // Reports are dated by period end; one unpublished at `as_of` must not be read.
        indicators.retain(|i| i.report_date <= as_of);
        let news = research
            .news(symbol, as_of - Duration::days(NEWS_DAYS), as_of, 50)
            .await?;
        let latest_valuation = valuations.iter().max_by_key(|v| v.trade_date);
        let latest_indicators = indicators.iter().max_by_key(|i| i.report_date);
        let digest = Digest::build(symbol, &bars, latest_valuation, latest_indicators, as_of);
        Ok(SymbolData {
            symbol: symbol.clone(),
            as_of,
            bars,
            valuations,
            statements,
            indicators,
            news,
            digest,
            risk_limit: None,
        })
    }

    /// `(date, close)` pairs, for the risk analyst.
    pub fn closes(&self) -> Vec<(NaiveDate, f64)> {
        self.bars
            .iter()
            .filter_map(|b| b.close.to_f64().map(|c| (b.trade_date, c)))
            .collect()
    }
}
