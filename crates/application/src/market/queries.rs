//! The read use cases behind `/api/v1/instruments/…` and `/api/v1/calendar/…`.

use std::sync::Arc;
use std::time::Duration;

use chrono::{Duration as ChronoDuration, NaiveDate};
use serde::{Deserialize, Serialize};
use stockpilot_domain::indicators::IndicatorSet;
use stockpilot_domain::market::{
    Adjust, DailyValuation, DateRange, Exchange, FinancialIndicators, FinancialStatement, Market,
    ReportPeriod, StatementKind, Symbol, TradingDay, adjust_bars,
};

use crate::AppError;
use crate::ports::{BarText, Cache, Clock, InstrumentRecord, MarketDataStore, Page};

pub use crate::ports::Sourced;

#[derive(Debug, Clone)]
pub struct QuerySettings {
    /// Longest date range one request may ask for.
    pub max_range_days: u32,
    /// How long bar responses are cached (0 = no cache).
    pub cache_ttl: Duration,
}

crate::settings! {
    /// `api`: read requests.
    pub struct QueryConfig {
        /// Longest date range one read request may ask for (days).
        max_range_days: u32 = 366 * 30; range = (1.0, 36_600.0),
        /// How long bar responses are cached (seconds; 0 = off); each response carries its
        /// as-of date.
        cache_ttl_secs: u64 = 60,
    }
}

impl QuerySettings {
    /// The settings `config` declares.
    pub fn configured(config: &QueryConfig) -> Self {
        Self {
            max_range_days: config.max_range_days,
            cache_ttl: Duration::from_secs(config.cache_ttl_secs),
        }
    }
}

impl Default for QuerySettings {
    fn default() -> Self {
        Self::configured(&QueryConfig::default())
    }
}

/// Bars with what a report needs to never present stale numbers as current.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BarsView {
    pub symbol: Symbol,
    pub adjust: Adjust,
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// Date of the newest bar returned.
    pub as_of: Option<NaiveDate>,
    pub provider: Option<String>,
    /// The bars as they are printed (unadjusted bars as the store gives them, adjusted ones
    /// computed and then printed).
    pub bars: Vec<BarText>,
}

/// One indicator series.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IndicatorColumn {
    /// `sma:20`, `macd:12:26:9.signal`, …
    pub name: String,
    /// One value per date; `null` during the indicator's warm-up.
    pub values: Vec<Option<f64>>,
}

/// Indicators computed over stored bars, one value per date.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IndicatorsView {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub symbol: Symbol,
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// Date of the newest bar used.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub as_of: Option<NaiveDate>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub provider: Option<String>,
    pub dates: Vec<NaiveDate>,
    /// Close of each date.
    pub close: Vec<f64>,
    pub columns: Vec<IndicatorColumn>,
}

/// The cache key whose value changes whenever new bars or factors of `symbol` are written;
/// cached bar responses include it in their key, so a sync makes them unreachable at once.
pub fn bars_generation_key(symbol: &Symbol) -> String {
    format!("bars:gen:{symbol}")
}

/// Every `(op, outcome)` of `stockpilot_cache_operations_total`.
pub const CACHE_OPERATIONS: [(&str, &str); 5] = [
    ("get", "hit"),
    ("get", "miss"),
    ("get", "error"),
    ("set", "ok"),
    ("set", "error"),
];

/// Registers the bars cache counters at zero, so `rate()` works from the first scrape.
pub fn register_metrics() {
    for (op, outcome) in CACHE_OPERATIONS {
        metrics::counter!("stockpilot_cache_operations_total", "op" => op, "outcome" => outcome)
            .increment(0);
    }
}

pub struct MarketQueries {
    store: Arc<dyn MarketDataStore>,
    cache: Arc<dyn Cache>,
    clock: Arc<dyn Clock>,
    settings: QuerySettings,
}

impl MarketQueries {
    pub fn new(
        store: Arc<dyn MarketDataStore>,
        cache: Arc<dyn Cache>,
        clock: Arc<dyn Clock>,
        settings: QuerySettings,
    ) -> Self {
        Self {
            store,
            cache,
            clock,
            settings,
        }
    }

    /// A symbol is known when it has an instrument row or any stored bar.
    async fn known(&self, symbol: &Symbol) -> Result<(), AppError> {
        if self.store.last_bar_date(symbol).await?.is_some() {
            return Ok(());
        }
        self.instrument(symbol).await.map(|_| ())
    }

    /// # Errors
    /// `NotFound` naming the symbol.
    pub async fn instrument(&self, symbol: &Symbol) -> Result<InstrumentRecord, AppError> {
        self.store.instrument(symbol).await?.ok_or_else(|| {
            AppError::NotFound(format!(
                "instrument {symbol} is not known; sync instruments for market {} first",
                symbol.market()
            ))
        })
    }

    /// # Errors
    /// Storage errors.
    pub async fn search(
        &self,
        market: Option<Market>,
        query: Option<&str>,
        page: u64,
        page_size: u64,
    ) -> Result<Page<InstrumentRecord>, AppError> {
        Ok(self
            .store
            .search_instruments(market, query, page.saturating_sub(1) * page_size, page_size)
            .await?)
    }

    /// The requested range, or the year up to the newest stored bar when no end is given.
    async fn range(
        &self,
        symbol: &Symbol,
        start: Option<NaiveDate>,
        end: Option<NaiveDate>,
    ) -> Result<DateRange, AppError> {
        let end = match end {
            Some(e) => e,
            None => self
                .store
                .last_bar_date(symbol)
                .await?
                .unwrap_or_else(|| self.clock.today()),
        };
        self.bounded_range(start, end)
    }

    /// `start..=end` (start defaulting to a year before `end`) within `api.max_range_days`;
    /// the error names the field at fault.
    fn bounded_range(
        &self,
        start: Option<NaiveDate>,
        end: NaiveDate,
    ) -> Result<DateRange, AppError> {
        let start = start.unwrap_or(end - ChronoDuration::days(365));
        DateRange::new(start, end, Some(self.settings.max_range_days)).map_err(|e| {
            let field = if start > end { "start" } else { "end" };
            AppError::invalid(field, e.to_string())
        })
    }

    /// Bars of one symbol (unadjusted or adjusted with the stored factors) as the response
    /// body `render` writes, cached as those bytes: a cache hit is
    /// one read and no parsing or re-serialisation. `format` names the rendering (it is part
    /// of the cache key, so a changed body shape never meets an old entry).
    ///
    /// # Errors
    /// `NotFound` for an unknown symbol, `Validation` for a bad range, `Internal` when
    /// `render` fails.
    #[tracing::instrument(name = "market.bars", skip_all, fields(symbol = %symbol, adjust = adjust.as_str()))]
    pub async fn bars_body(
        &self,
        symbol: &Symbol,
        start: Option<NaiveDate>,
        end: Option<NaiveDate>,
        adjust: Adjust,
        format: &str,
        render: impl FnOnce(BarsView) -> Result<Vec<u8>, String>,
    ) -> Result<Vec<u8>, AppError> {
        let range = self.range(symbol, start, end).await?;
        let render = |view| {
            render(view).map_err(|e| AppError::Internal(anyhow::anyhow!("rendering bars: {e}")))
        };
        // With the cache off there is no key to build: its generation is a cache read too.
        if self.settings.cache_ttl.is_zero() {
            return render(self.load_bars(symbol, range, adjust).await?);
        }
        let key = format!(
            "bars:body:{format}:{symbol}:{}:{}:{}:{}",
            self.generation(symbol).await,
            range.start(),
            range.end(),
            adjust.as_str()
        );
        if let Some(hit) = self.cached_bytes(&key).await {
            return Ok(hit);
        }
        let body = render(self.load_bars(symbol, range, adjust).await?)?;
        self.store_bytes(&key, &body).await;
        Ok(body)
    }

    /// The symbol's cache generation (bumped by every sync that writes its bars).
    async fn generation(&self, symbol: &Symbol) -> String {
        match self.cache.get(&bars_generation_key(symbol)).await {
            Ok(Some(g)) => String::from_utf8_lossy(&g).into_owned(),
            _ => "0".to_owned(),
        }
    }

    async fn load_bars(
        &self,
        symbol: &Symbol,
        range: DateRange,
        adjust: Adjust,
    ) -> Result<BarsView, AppError> {
        // Unadjusted bars are only printed: the store hands them over as text.
        let stored = match adjust {
            Adjust::None => self.store.daily_bars_text(symbol, range).await?,
            mode => {
                let stored = self.store.daily_bars(symbol, range).await?;
                let factors = if stored.rows.is_empty() {
                    Vec::new()
                } else {
                    self.store.adjustment_factors(symbol, range).await?
                };
                Sourced {
                    rows: adjust_bars(&stored.rows, &factors, mode),
                    provider: stored.provider,
                }
                .into_text()
            }
        };
        if stored.rows.is_empty() {
            self.known(symbol).await?;
        }
        Ok(BarsView {
            symbol: symbol.clone(),
            adjust,
            start: range.start(),
            end: range.end(),
            as_of: stored.rows.last().map(|b| b.trade_date),
            provider: stored.provider,
            bars: stored.rows,
        })
    }

    async fn cached_bytes(&self, key: &str) -> Option<Vec<u8>> {
        if self.settings.cache_ttl.is_zero() {
            return None;
        }
        let (outcome, hit) = match self.cache.get(key).await {
            Ok(Some(bytes)) => ("hit", Some(bytes)),
            Ok(None) => ("miss", None),
            Err(e) => {
                tracing::warn!(error = %e, "cache read failed; reading from the database");
                ("error", None)
            }
        };
        metrics::counter!("stockpilot_cache_operations_total", "op" => "get", "outcome" => outcome)
            .increment(1);
        debug_assert!(CACHE_OPERATIONS.contains(&("get", outcome)));
        hit
    }

    async fn store_bytes(&self, key: &str, bytes: &[u8]) {
        if self.settings.cache_ttl.is_zero() {
            return;
        }
        let outcome = match self.cache.set(key, bytes, self.settings.cache_ttl).await {
            Ok(()) => "ok",
            Err(e) => {
                tracing::warn!(error = %e, "cache write failed");
                "error"
            }
        };
        metrics::counter!("stockpilot_cache_operations_total", "op" => "set", "outcome" => outcome)
            .increment(1);
        debug_assert!(CACHE_OPERATIONS.contains(&("set", outcome)));
    }

    /// # Errors
    /// `NotFound` for an unknown symbol, `Validation` for a bad range.
    pub async fn valuations(
        &self,
        symbol: &Symbol,
        start: Option<NaiveDate>,
        end: Option<NaiveDate>,
    ) -> Result<(DateRange, Sourced<DailyValuation>), AppError> {
        self.known(symbol).await?;
        let range = self.range(symbol, start, end).await?;
        Ok((range, self.store.valuations(symbol, range).await?))
    }

    /// # Errors
    /// `NotFound` for an unknown symbol.
    pub async fn financials(
        &self,
        symbol: &Symbol,
        kind: StatementKind,
        period: ReportPeriod,
        limit: u64,
    ) -> Result<Sourced<FinancialStatement>, AppError> {
        self.known(symbol).await?;
        Ok(self.store.statements(symbol, kind, period, limit).await?)
    }

    /// # Errors
    /// `NotFound` for an unknown symbol.
    pub async fn financial_indicators(
        &self,
        symbol: &Symbol,
        period: ReportPeriod,
        limit: u64,
    ) -> Result<Sourced<FinancialIndicators>, AppError> {
        self.known(symbol).await?;
        Ok(self
            .store
            .financial_indicators(symbol, period, limit)
            .await?)
    }

    /// Indicators over the range, computed on closes that start well before it so values
    /// do not depend on where the requested range begins.
    ///
    /// # Errors
    /// `NotFound` for an unknown symbol, `Validation` for a bad range.
    pub async fn indicators(
        &self,
        symbol: &Symbol,
        start: Option<NaiveDate>,
        end: Option<NaiveDate>,
        set: &IndicatorSet,
    ) -> Result<IndicatorsView, AppError> {
        self.known(symbol).await?;
        let range = self.range(symbol, start, end).await?;
        // Warm-up: several lookbacks of trading days (as calendar days) before the start.
        let warmup_days =
            i64::try_from(set.max_lookback().max(50) * 3 * 7 / 5 + 10).unwrap_or(i64::MAX);
        let from = range.start() - ChronoDuration::days(warmup_days);
        let wide = DateRange::new(from, range.end(), None)
            .map_err(|e| AppError::invalid("start", e.to_string()))?;
        let stored = self.store.daily_bars(symbol, wide).await?;
        let high: Vec<f64> = stored.rows.iter().map(|b| to_f64(b.high)).collect();
        let low: Vec<f64> = stored.rows.iter().map(|b| to_f64(b.low)).collect();
        let close: Vec<f64> = stored.rows.iter().map(|b| to_f64(b.close)).collect();
        let first = stored
            .rows
            .iter()
            .position(|b| b.trade_date >= range.start())
            .unwrap_or(stored.rows.len());
        let mut columns = Vec::new();
        for spec in set.iter() {
            let output = spec
                .compute(&high, &low, &close)
                .map_err(|e| AppError::invalid("set", e.to_string()))?;
            for (part, values) in output.columns() {
                let name = if part == "value" {
                    spec.to_string()
                } else {
                    format!("{spec}.{part}")
                };
                let values = values[first..]
                    .iter()
                    .map(|v| v.is_finite().then_some(*v))
                    .collect();
                columns.push(IndicatorColumn { name, values });
            }
        }
        let dates: Vec<NaiveDate> = stored.rows[first..].iter().map(|b| b.trade_date).collect();
        Ok(IndicatorsView {
            symbol: symbol.clone(),
            start: range.start(),
            end: range.end(),
            as_of: dates.last().copied(),
            provider: stored.provider,
            dates,
            close: close[first..].to_vec(),
            columns,
        })
    }

    /// # Errors
    /// `Validation` for a bad range.
    pub async fn calendar(
        &self,
        exchange: Exchange,
        start: Option<NaiveDate>,
        end: Option<NaiveDate>,
    ) -> Result<(DateRange, Sourced<TradingDay>), AppError> {
        let range = self.bounded_range(start, end.unwrap_or_else(|| self.clock.today()))?;
        Ok((range, self.store.calendar(exchange, range).await?))
    }
}

fn to_f64(d: rust_decimal::Decimal) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    d.to_f64().unwrap_or(f64::NAN)
}
