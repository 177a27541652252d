//! Where market data is kept: idempotent upserts and range queries.

use chrono::NaiveDate;
use stockpilot_domain::market::{
    AdjustmentFactor, DailyBar, DailyValuation, DateRange, Exchange, FinancialIndicators,
    FinancialStatement, InsiderTrade, Instrument, Market, NewsArticle, ReportPeriod, StatementKind,
    Symbol, TradingDay,
};

/// A storage failure. Adapters keep driver details out of the message shown to clients.
#[derive(Debug, thiserror::Error)]
#[error("storage error: {0}")]
pub struct StoreError(#[source] pub anyhow::Error);

impl StoreError {
    /// The database could not be reached or did not answer in time: the caller may retry
    /// later; nothing about the request itself was wrong.
    pub fn unavailable(cause: impl Into<anyhow::Error>) -> Self {
        Self(anyhow::Error::new(DatabaseUnavailable(cause.into())))
    }

    pub fn is_unavailable(&self) -> bool {
        is_database_unavailable(self.0.as_ref())
    }
}

/// Marks, anywhere in an error's chain, that the database was unreachable, refused
/// connections, or did not answer within its timeouts.
#[derive(Debug, thiserror::Error)]
#[error("the database is unavailable")]
pub struct DatabaseUnavailable(#[source] pub anyhow::Error);

/// Whether `error` or any of its causes is a [`DatabaseUnavailable`].
pub fn is_database_unavailable(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(e) = next {
        if e.is::<DatabaseUnavailable>() {
            return true;
        }
        next = e.source();
    }
    false
}

impl From<StoreError> for crate::AppError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            Self::DatabaseUnavailable(e.0)
        } else {
            Self::Internal(e.0)
        }
    }
}

/// Rows of one dataset from one provider, written together.
#[derive(Debug, Clone, PartialEq)]
pub enum DataBatch {
    Instruments(Vec<Instrument>),
    Calendar(Vec<TradingDay>),
    DailyBars(Vec<DailyBar>),
    AdjustmentFactors(Vec<AdjustmentFactor>),
    Valuations(Vec<DailyValuation>),
    Statements(Vec<FinancialStatement>),
    Indicators(Vec<FinancialIndicators>),
    News(Vec<NewsArticle>),
    InsiderTrades(Vec<InsiderTrade>),
}

impl DataBatch {
    pub fn len(&self) -> usize {
        match self {
            Self::Instruments(v) => v.len(),
            Self::Calendar(v) => v.len(),
            Self::DailyBars(v) => v.len(),
            Self::AdjustmentFactors(v) => v.len(),
            Self::Valuations(v) => v.len(),
            Self::Statements(v) => v.len(),
            Self::Indicators(v) => v.len(),
            Self::News(v) => v.len(),
            Self::InsiderTrades(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An instrument with where it came from and when it was last written.
#[derive(Debug, Clone, PartialEq)]
pub struct InstrumentRecord {
    pub instrument: Instrument,
    pub provider: String,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// One page of results.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
}

/// Rows with the provider that wrote them (the newest row's provider when several did).
#[derive(Debug, Clone, PartialEq)]
pub struct Sourced<T> {
    pub rows: Vec<T>,
    pub provider: Option<String>,
}

/// A stored bar with its numbers as they are printed: decimal strings without trailing zeros
/// (`"409.4"`, `"10793600"`), as `Decimal::normalize` and `Display` write them. Responses that
/// only print bars read these instead of [`DailyBar`]s, so a store that can produce the text
/// itself spares the decoding and formatting.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BarText {
    pub trade_date: NaiveDate,
    pub open: String,
    pub high: String,
    pub low: String,
    pub close: String,
    pub pre_close: Option<String>,
    pub change: Option<String>,
    pub pct_change: Option<String>,
    pub volume: String,
    pub amount: Option<String>,
}

impl From<&DailyBar> for BarText {
    fn from(b: &DailyBar) -> Self {
        let text = |d: rust_decimal::Decimal| d.normalize().to_string();
        Self {
            trade_date: b.trade_date,
            open: text(b.open),
            high: text(b.high),
            low: text(b.low),
            close: text(b.close),
            pre_close: b.pre_close.map(text),
            change: b.change.map(text),
            pct_change: b.pct_change.map(text),
            volume: text(b.volume),
            amount: b.amount.map(text),
        }
    }
}

impl Sourced<DailyBar> {
    /// The same bars as [`BarText`]s.
    pub fn into_text(self) -> Sourced<BarText> {
        Sourced {
            rows: self.rows.iter().map(BarText::from).collect(),
            provider: self.provider,
        }
    }
}

#[async_trait::async_trait]
pub trait MarketDataStore: Send + Sync {
    /// Inserts or replaces every row (keyed as the tables are); returns rows written.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails; nothing of the batch is written then.
    async fn upsert(&self, provider: &str, batch: &DataBatch) -> Result<u64, StoreError>;

    /// # Errors
    /// [`StoreError`].
    async fn instrument(&self, symbol: &Symbol) -> Result<Option<InstrumentRecord>, StoreError>;

    /// Instruments whose symbol or name contains `query` (case-insensitive), by symbol.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn search_instruments(
        &self,
        market: Option<Market>,
        query: Option<&str>,
        offset: u64,
        limit: u64,
    ) -> Result<Page<InstrumentRecord>, StoreError>;

    /// Every stored symbol of a market, ordered.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn symbols(&self, market: Market) -> Result<Vec<Symbol>, StoreError>;

    /// # Errors
    /// [`StoreError`].
    async fn daily_bars(
        &self,
        symbol: &Symbol,
        range: DateRange,
    ) -> Result<Sourced<DailyBar>, StoreError>;

    /// The bars of [`daily_bars`](Self::daily_bars) as text, the same strings
    /// [`BarText::from`] gives; by default converted from them.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn daily_bars_text(
        &self,
        symbol: &Symbol,
        range: DateRange,
    ) -> Result<Sourced<BarText>, StoreError> {
        Ok(self.daily_bars(symbol, range).await?.into_text())
    }

    /// The newest stored bar date of `symbol`.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn last_bar_date(&self, symbol: &Symbol) -> Result<Option<NaiveDate>, StoreError>;

    /// Factors within `range` plus the newest factor overall (the forward-adjust divisor).
    ///
    /// # Errors
    /// [`StoreError`].
    async fn adjustment_factors(
        &self,
        symbol: &Symbol,
        range: DateRange,
    ) -> Result<Vec<AdjustmentFactor>, StoreError>;

    /// # Errors
    /// [`StoreError`].
    async fn valuations(
        &self,
        symbol: &Symbol,
        range: DateRange,
    ) -> Result<Sourced<DailyValuation>, StoreError>;

    /// The newest `limit` statements, newest first.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn statements(
        &self,
        symbol: &Symbol,
        kind: StatementKind,
        period: ReportPeriod,
        limit: u64,
    ) -> Result<Sourced<FinancialStatement>, StoreError>;

    /// The newest `limit` indicator sets, newest first.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn financial_indicators(
        &self,
        symbol: &Symbol,
        period: ReportPeriod,
        limit: u64,
    ) -> Result<Sourced<FinancialIndicators>, StoreError>;

    /// # Errors
    /// [`StoreError`].
    async fn calendar(
        &self,
        exchange: Exchange,
        range: DateRange,
    ) -> Result<Sourced<TradingDay>, StoreError>;
}
