//! Where market data comes from (`MarketDataSource`, one adapter per provider).

use std::time::Duration;

use stockpilot_domain::market::{
    AdjustmentFactor, DailyBar, DailyValuation, DateRange, Exchange, FinancialIndicators,
    FinancialStatement, InsiderTrade, Instrument, Market, NewsArticle, ReportPeriod, StatementKind,
    Symbol, TradingDay,
};

stockpilot_domain::code_enum! {
    /// The datasets a provider may offer; also the unit of sync jobs and of the failure ledger.
    pub enum Dataset as "dataset" {
        /// Instrument lists.
        Instruments = "instruments",
        /// Trading calendars.
        Calendar = "calendar",
        /// Daily bars.
        DailyBars = "daily_bars",
        /// Adjustment factors.
        AdjustmentFactors = "adjustment_factors",
        /// Daily valuation metrics.
        Valuations = "valuations",
        /// Financial statements.
        Financials = "financials",
        /// Financial indicators as the provider computes them.
        FinancialIndicators = "financial_indicators",
        /// News articles.
        News = "news",
        /// Insider trades.
        InsiderTrades = "insider_trades",
    }
}

/// Why a provider call failed, classified so the sync engine knows what to do next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// Bad or missing credentials. Never retried; the message says which setting to fix.
    #[error("{provider}: authentication failed: {message}")]
    Auth {
        provider: &'static str,
        message: String,
    },
    /// The account may not use this dataset (e.g. Tushare points tier). Never retried.
    #[error("{provider}: permission denied: {message}")]
    Permission {
        provider: &'static str,
        message: String,
    },
    /// Short-term rate limit still hit after the adapter's own waits and retries.
    #[error("{provider}: rate limited: {message}")]
    RateLimited {
        provider: &'static str,
        retry_after: Duration,
        message: String,
    },
    /// A daily (or longer) quota is used up: stop the job, resume it later.
    #[error("{provider}: quota exhausted: {message}")]
    QuotaExhausted {
        provider: &'static str,
        message: String,
    },
    /// The provider answered with something that is not the documented shape.
    #[error("{provider}: malformed response: {message}")]
    Malformed {
        provider: &'static str,
        message: String,
    },
    /// Timeouts, connection failures, 5xx: worth retrying later.
    #[error("{provider}: temporarily unavailable: {message}")]
    Transient {
        provider: &'static str,
        message: String,
    },
    /// This provider does not offer the dataset (or not for this market).
    #[error("{provider} does not provide {dataset}")]
    Unsupported {
        provider: &'static str,
        dataset: &'static str,
    },
}

impl SourceError {
    /// Whether trying the same call again later may succeed.
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. } | Self::Transient { .. } | Self::QuotaExhausted { .. }
        )
    }

    /// Every value [`SourceError::kind`] returns.
    pub const KINDS: [&'static str; 7] = [
        "auth",
        "permission",
        "rate_limited",
        "quota_exhausted",
        "malformed",
        "transient",
        "unsupported",
    ];

    /// A stable snake_case name of the kind, for the failure ledger and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Auth { .. } => "auth",
            Self::Permission { .. } => "permission",
            Self::RateLimited { .. } => "rate_limited",
            Self::QuotaExhausted { .. } => "quota_exhausted",
            Self::Malformed { .. } => "malformed",
            Self::Transient { .. } => "transient",
            Self::Unsupported { .. } => "unsupported",
        }
    }
}

/// One market data provider. Adapters throttle themselves to the provider's configured limits
/// (shared by every caller of the same adapter instance), apply timeouts, and retry retryable
/// failures with exponential backoff and jitter before returning an error.
///
/// Every method returns rows in ascending date order with units normalised as documented on
/// the domain types (shares, currency units). "No data" (e.g. HTTP 404) is an empty `Vec`,
/// not an error.
#[async_trait::async_trait]
pub trait MarketDataSource: Send + Sync {
    /// Stable provider name: `tushare`, `financial_datasets`, `csv`.
    fn provider(&self) -> &'static str;

    /// The markets this provider covers.
    fn markets(&self) -> &'static [Market];

    /// The datasets this provider serves; a job for any other is refused when it is
    /// submitted instead of failing later (the methods of the others answer `Unsupported`).
    fn datasets(&self) -> &'static [Dataset];

    /// Listed (and, where the provider reports them, delisted) instruments.
    ///
    /// # Errors
    /// Any [`SourceError`]; `Unsupported` if the provider has no instrument list.
    async fn instruments(&self, market: Market) -> Result<Vec<Instrument>, SourceError>;

    /// Calendar days (open and closed) of one exchange within `range`.
    ///
    /// # Errors
    /// Any [`SourceError`].
    async fn trading_calendar(
        &self,
        exchange: Exchange,
        range: DateRange,
    ) -> Result<Vec<TradingDay>, SourceError>;

    /// Unadjusted daily bars of one symbol within `range`.
    ///
    /// # Errors
    /// Any [`SourceError`].
    async fn daily_bars(
        &self,
        symbol: &Symbol,
        range: DateRange,
    ) -> Result<Vec<DailyBar>, SourceError>;

    /// Cumulative adjustment factors of one symbol within `range`.
    ///
    /// # Errors
    /// Any [`SourceError`].
    async fn adjustment_factors(
        &self,
        symbol: &Symbol,
        range: DateRange,
    ) -> Result<Vec<AdjustmentFactor>, SourceError>;

    /// Daily valuation metrics of one symbol within `range`.
    ///
    /// # Errors
    /// Any [`SourceError`].
    async fn daily_valuations(
        &self,
        symbol: &Symbol,
        range: DateRange,
    ) -> Result<Vec<DailyValuation>, SourceError>;

    /// Statements of one kind whose period ends within `range`.
    ///
    /// # Errors
    /// Any [`SourceError`].
    async fn financial_statements(
        &self,
        symbol: &Symbol,
        kind: StatementKind,
        period: ReportPeriod,
        range: DateRange,
    ) -> Result<Vec<FinancialStatement>, SourceError>;

    /// Provider-computed indicators for periods ending within `range`.
    ///
    /// # Errors
    /// Any [`SourceError`].
    async fn financial_indicators(
        &self,
        symbol: &Symbol,
        period: ReportPeriod,
        range: DateRange,
    ) -> Result<Vec<FinancialIndicators>, SourceError>;

    /// News published within `range`, newest provider limit applied.
    ///
    /// # Errors
    /// Any [`SourceError`]; `Unsupported` by default.
    async fn news(
        &self,
        symbol: &Symbol,
        range: DateRange,
    ) -> Result<Vec<NewsArticle>, SourceError> {
        let _ = (symbol, range);
        Err(SourceError::Unsupported {
            provider: self.provider(),
            dataset: "news",
        })
    }

    /// Insider trades filed within `range`.
    ///
    /// # Errors
    /// Any [`SourceError`]; `Unsupported` by default.
    async fn insider_trades(
        &self,
        symbol: &Symbol,
        range: DateRange,
    ) -> Result<Vec<InsiderTrade>, SourceError> {
        let _ = (symbol, range);
        Err(SourceError::Unsupported {
            provider: self.provider(),
            dataset: "insider_trades",
        })
    }
}
