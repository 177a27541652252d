//! Everything the analysts of one symbol read as of one date.
//!
//! A [`History`] holds what the store has of a symbol over a span of dates; [`History::as_of`]
//! is the one place that cuts it to what was known on a date. A research run loads the history
//! of its single date; a backtest loads each symbol's history once and cuts it at every
//! rebalance date, so both read exactly the same inputs for the same date.

use chrono::{Duration, NaiveDate};
use rust_decimal::prelude::ToPrimitive;
use stockpilot_domain::analysis::{Digest, PositionLimit};
use stockpilot_domain::market::{
    Adjust, AdjustmentFactor, DailyBar, DailyValuation, DateRange, FinancialIndicators,
    FinancialStatement, NewsArticle, ReportPeriod, StatementKind, Symbol, adjust_bars, known_on,
};

use crate::ports::{MarketDataStore, ResearchStore, StoreError};

/// Calendar days of bars loaded before `as_of` (enough for a 200-day average and a year of
/// volatility history).
pub const BAR_HISTORY_DAYS: i64 = 800;
/// Calendar days of valuations loaded (the valuation analyst's multiple history).
pub const VALUATION_HISTORY_DAYS: i64 = 3 * 365 + 10;
/// Calendar days of news before `as_of` the news analyst reads.
pub const NEWS_DAYS: i64 = 30;
/// Annual statements of each kind an analysis reads (the newest known at `as_of`).
pub const ANNUAL_STATEMENTS: usize = 8;
/// Indicator sets of each period an analysis reads (the newest known at `as_of`).
pub const INDICATOR_SETS: usize = 4;
/// News articles an analysis reads at most (the newest of the window).
pub const NEWS_ARTICLES: usize = 50;
/// Reports of each kind and period a history loads: all of them (decades of quarters).
const ALL_REPORTS: u64 = 1_000;
/// News articles a history loads at most: all of a span, for any realistic feed.
const ALL_ARTICLES: u64 = 10_000_000;

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
    /// Loads the symbol's data as of `as_of`.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn load(
        market: &dyn MarketDataStore,
        research: &dyn ResearchStore,
        symbol: &Symbol,
        as_of: NaiveDate,
    ) -> Result<SymbolData, StoreError> {
        Ok(History::load(market, research, symbol, as_of, as_of)
            .await?
            .as_of(as_of))
    }

    /// `(date, close)` pairs, for the risk analyst.
    pub fn closes(&self) -> Vec<(NaiveDate, f64)> {
        self.bars
            .iter()
            .filter_map(|b| b.close.to_f64().map(|c| (b.trade_date, c)))
            .collect()
    }
}

/// What the store has of one symbol for analyses dated `first` to `last`: bars, factors and
/// valuations from their look-back before `first` to `last`, every statement and indicator
/// set that any of those dates may read, news of the window. Rows are sorted by date.
#[derive(Debug, Clone)]
pub struct History {
    pub symbol: Symbol,
    /// Raw (unadjusted) bars.
    pub bars: Vec<DailyBar>,
    pub factors: Vec<AdjustmentFactor>,
    pub valuations: Vec<DailyValuation>,
    /// Annual statements of the three kinds.
    pub statements: Vec<FinancialStatement>,
    pub indicators: Vec<FinancialIndicators>,
    /// The first day each indicator set may be read, in the order of `indicators`.
    indicators_known: Vec<NaiveDate>,
    pub news: Vec<NewsArticle>,
}

impl History {
    /// Loads the symbol's history for analyses dated `first` to `last`.
    ///
    /// # Errors
    /// Storage errors; `first` after `last`.
    pub async fn load(
        market: &dyn MarketDataStore,
        research: &dyn ResearchStore,
        symbol: &Symbol,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<History, StoreError> {
        let range = |days: i64| {
            DateRange::new(first - Duration::days(days), last, None)
                .map_err(|e| StoreError(anyhow::anyhow!(e)))
        };
        let bar_range = range(BAR_HISTORY_DAYS)?;
        let bars = market.daily_bars(symbol, bar_range).await?.rows;
        // Every factor up to `last`: where factors are stored only on their change dates, the
        // one in effect on the window's first day may be years older.
        let since = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(first);
        let all_factors = DateRange::new(since.min(first), last, None)
            .map_err(|e| StoreError(anyhow::anyhow!(e)))?;
        let factors = market.adjustment_factors(symbol, all_factors).await?;
        let valuations = market
            .valuations(symbol, range(VALUATION_HISTORY_DAYS)?)
            .await?
            .rows;
        // Every stored report: the store gives the newest N, and reports published after
        // `last` must not crowd out those an early date reads (a few hundred rows at most).
        let mut statements = Vec::new();
        for kind in [
            StatementKind::Income,
            StatementKind::Balance,
            StatementKind::CashFlow,
        ] {
            statements.extend(
                market
                    .statements(symbol, kind, ReportPeriod::Annual, ALL_REPORTS)
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
            indicators.extend(
                market
                    .financial_indicators(symbol, period, ALL_REPORTS)
                    .await?
                    .rows,
            );
        }
        let news = research
            .news(
                symbol,
                first - Duration::days(NEWS_DAYS),
                last,
                ALL_ARTICLES,
            )
            .await?;
        Ok(History::new(
            symbol.clone(),
            bars,
            factors,
            valuations,
            statements,
            indicators,
            news,
        ))
    }

    /// A history of these rows (in any order): sorts them by date and works out once when
    /// each indicator set became known.
    pub fn new(
        symbol: Symbol,
        mut bars: Vec<DailyBar>,
        mut factors: Vec<AdjustmentFactor>,
        mut valuations: Vec<DailyValuation>,
        mut statements: Vec<FinancialStatement>,
        mut indicators: Vec<FinancialIndicators>,
        mut news: Vec<NewsArticle>,
    ) -> History {
        bars.sort_by_key(|b| b.trade_date);
        factors.sort_by_key(|f| f.trade_date);
        valuations.sort_by_key(|v| v.trade_date);
        statements.sort_by_key(|s| (s.report_date, s.kind.as_str()));
        indicators.sort_by_key(|i| i.report_date);
        news.sort_by_key(|n| n.published_on);
        let indicators_known = indicators
            .iter()
            .map(|i| indicators_known_on(i, &statements, &indicators))
            .collect();
        History {
            symbol,
            bars,
            factors,
            valuations,
            statements,
            indicators,
            indicators_known,
            news,
        }
    }

    /// What was known of the symbol on `as_of`: every input is dated on or before it — bars,
    /// factors and valuations by trade date, statements and indicators by the day they became
    /// known ([`known_on`]), news by publication date.
    pub fn as_of(&self, as_of: NaiveDate) -> SymbolData {
        let window = |days: i64| as_of - Duration::days(days);
        let bars = &self.bars[dated(&self.bars, window(BAR_HISTORY_DAYS), as_of, |b| {
            b.trade_date
        })];
        // Forward adjustment is relative to the newest factor known on `as_of`; factors before
        // the window only matter as the one in effect on its first day.
        let factors = {
            let end = self.factors.partition_point(|f| f.trade_date <= as_of);
            let start = self.factors[..end]
                .partition_point(|f| f.trade_date < window(BAR_HISTORY_DAYS))
                .saturating_sub(1);
            &self.factors[start..end]
        };
        let bars = if factors.is_empty() {
            bars.to_vec()
        } else {
            adjust_bars(bars, factors, Adjust::Forward)
        };
        let valuations = self.valuations[dated(
            &self.valuations,
            window(VALUATION_HISTORY_DAYS),
            as_of,
            |v| v.trade_date,
        )]
        .to_vec();
        let mut statements = Vec::new();
        for kind in [
            StatementKind::Income,
            StatementKind::Balance,
            StatementKind::CashFlow,
        ] {
            statements.extend(
                self.statements
                    .iter()
                    .rev()
                    .filter(|s| s.kind == kind && s.known_on() <= as_of)
                    .take(ANNUAL_STATEMENTS)
                    .cloned(),
            );
        }
        let mut indicators = Vec::new();
        for period in [
            ReportPeriod::Ttm,
            ReportPeriod::Annual,
            ReportPeriod::Quarterly,
        ] {
            indicators.extend(
                self.indicators
                    .iter()
                    .zip(&self.indicators_known)
                    .rev()
                    .filter(|(i, known)| i.period == period && **known <= as_of)
                    .take(INDICATOR_SETS)
                    .map(|(i, _)| i.clone()),
            );
        }
        let news: Vec<NewsArticle> = self.news
            [dated(&self.news, window(NEWS_DAYS), as_of, |n| n.published_on)]
        .iter()
        .rev()
        .take(NEWS_ARTICLES)
        .cloned()
        .collect();
        let latest_valuation = valuations.last();
        let latest_indicators = indicators.iter().max_by_key(|i| i.report_date);
        let digest = Digest::build(
            &self.symbol,
            &bars,
            latest_valuation,
            latest_indicators,
            as_of,
        );
        SymbolData {
            symbol: self.symbol.clone(),
            as_of,
            bars,
            valuations,
            statements,
            indicators,
            news,
            digest,
            risk_limit: None,
        }
    }
}

/// The first day an indicator set may be read: the announcement of a statement of the same
/// period end when one is stored, else the publication lag after the period end — the
/// annual one for a quarterly or TTM set ending where a fiscal year ends (its figures come
/// with the annual report).
fn indicators_known_on(
    i: &FinancialIndicators,
    statements: &[FinancialStatement],
    indicators: &[FinancialIndicators],
) -> NaiveDate {
    let announced = statements
        .iter()
        .filter(|s| s.report_date == i.report_date)
        .filter_map(|s| s.announced_date)
        .min();
    let year_end = statements
        .iter()
        .any(|s| s.report_date == i.report_date && s.period == ReportPeriod::Annual)
        || indicators
            .iter()
            .any(|x| x.report_date == i.report_date && x.period == ReportPeriod::Annual);
    let period = if year_end {
        ReportPeriod::Annual
    } else {
        i.period
    };
    known_on(period, i.report_date, announced)
}

/// The index range of `rows` (sorted by `date`) dated within `[from, to]`.
fn dated<T>(
    rows: &[T],
    from: NaiveDate,
    to: NaiveDate,
    date: impl Fn(&T) -> NaiveDate,
) -> std::ops::Range<usize> {
    let start = rows.partition_point(|r| date(r) < from);
    let end = rows.partition_point(|r| date(r) <= to).max(start);
    start..end
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;
    use stockpilot_domain::market::FinancialLineItems;

    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn statement(report: NaiveDate, announced: Option<NaiveDate>) -> FinancialStatement {
        FinancialStatement {
            symbol: Symbol::parse("AAPL").unwrap(),
            kind: StatementKind::Income,
            period: ReportPeriod::Annual,
            report_date: report,
            announced_date: announced,
            currency: "USD".into(),
            items: FinancialLineItems::default(),
            raw: "{}".into(),
        }
    }

    fn indicators(report: NaiveDate, period: ReportPeriod) -> FinancialIndicators {
        FinancialIndicators {
            roe: Some(Decimal::ONE),
            ..FinancialIndicators::empty(Symbol::parse("AAPL").unwrap(), report, period)
        }
    }

    fn history() -> History {
        let symbol = Symbol::parse("AAPL").unwrap();
        let bar = |d: NaiveDate, close: i64| DailyBar {
            symbol: symbol.clone(),
            trade_date: d,
            open: Decimal::from(close),
            high: Decimal::from(close),
            low: Decimal::from(close),
            close: Decimal::from(close),
            pre_close: None,
            change: None,
            pct_change: None,
            volume: Decimal::ONE,
            amount: None,
        };
        let factor = |d: NaiveDate, f: i64| AdjustmentFactor {
            symbol: symbol.clone(),
            trade_date: d,
            factor: Decimal::from(f),
        };
        let news = |d: NaiveDate| NewsArticle {
            symbol: symbol.clone(),
            title: format!("news of {d}"),
            source: None,
            author: None,
            published_on: d,
            url: format!("https://n.example/{d}"),
            sentiment: None,
        };
        History::new(
            symbol.clone(),
            // A 2:1 split on 2021-03-02: raw prices halve, the factor doubles.
            vec![
                bar(day(2021, 3, 1), 100),
                bar(day(2021, 3, 2), 50),
                bar(day(2021, 3, 3), 51),
            ],
            vec![
                factor(day(2021, 3, 1), 1),
                factor(day(2021, 3, 2), 2),
                factor(day(2021, 3, 3), 2),
            ],
            vec![
                DailyValuation::empty(symbol.clone(), day(2021, 3, 1)),
                DailyValuation::empty(symbol.clone(), day(2021, 3, 2)),
            ],
            vec![
                // Announced 2021-02-10; the next one has no announcement date: known 120 days
                // after its period end (2021-04-30).
                statement(day(2019, 12, 31), Some(day(2020, 2, 10))),
                statement(day(2020, 12, 31), None),
            ],
            vec![
                indicators(day(2019, 12, 31), ReportPeriod::Annual),
                indicators(day(2020, 12, 31), ReportPeriod::Annual),
                // Known 62 days after the quarter: 2021-02-01.
                indicators(day(2020, 12, 1), ReportPeriod::Quarterly),
                // A quarter ending with the fiscal year: known with the annual report's lag
                // (2021-04-30), not 62 days after (2021-03-03).
                indicators(day(2020, 12, 31), ReportPeriod::Quarterly),
            ],
            vec![
                news(day(2021, 2, 1)),
                news(day(2021, 3, 2)),
                news(day(2021, 3, 3)),
            ],
        )
    }

    #[test]
    fn the_cut_holds_only_what_was_dated_or_known_on_the_day() {
        let h = history();
        let d = h.as_of(day(2021, 3, 1));
        assert_eq!(d.bars.len(), 1);
        // Adjusted to the factor in effect on the day (1): the later split does not show.
        assert_eq!(d.bars[0].close, Decimal::from(100));
        assert_eq!(d.valuations.len(), 1);
        assert_eq!(
            d.statements
                .iter()
                .map(|s| s.report_date)
                .collect::<Vec<_>>(),
            vec![day(2019, 12, 31)]
        );
        assert_eq!(
            d.indicators
                .iter()
                .map(|i| i.report_date)
                .collect::<Vec<_>>(),
            vec![day(2019, 12, 31), day(2020, 12, 1)]
        );
        assert_eq!(d.news.len(), 1, "news of the last 30 days up to the day");
        assert_eq!(h.as_of(day(2021, 3, 10)).indicators.len(), 2);

        let d = h.as_of(day(2021, 3, 2));
        // After the split: the day's price as traded, the one before halved.
        assert_eq!(
            d.bars.iter().map(|b| b.close).collect::<Vec<_>>(),
            vec![Decimal::from(50), Decimal::from(50)]
        );
        assert_eq!(d.news.len(), 2);

        let d = h.as_of(day(2021, 4, 30));
        assert_eq!(d.statements.len(), 2, "known on its 120th day");
        assert_eq!(d.indicators.len(), 4);
        assert_eq!(d.news.len(), 0, "nothing in the 30 days before");
        let d = h.as_of(day(2021, 4, 29));
        assert_eq!(d.statements.len(), 1);
        assert_eq!(d.indicators.len(), 2);
        assert_eq!(
            d.indicators
                .iter()
                .map(|i| i.report_date)
                .collect::<Vec<_>>(),
            vec![day(2019, 12, 31), day(2020, 12, 1)]
        );
    }
}
