//! Tushare Pro adapter (China A-shares): posts `{api_name, token, params, fields}` to one
//! endpoint, pages with `limit`/`offset`, and classifies the HTTP-200 business errors.
//!
//! | port method | Tushare API | notes |
//! |---|---|---|
//! | `instruments(CN)` | `stock_basic` × list_status L, D, P | currency `curr_type` or CNY; unknown suffixes skipped with a warning |
//! | `trading_calendar` | `trade_cal` (exchange SSE, SZSE, BSE) | open and closed days, `pretrade_date` |
//! | `daily_bars` | `daily` | `vol` lots ×100 → shares, `amount` k CNY ×1000 → CNY; bars checked with `DailyBar::validate` |
//! | `adjustment_factors` | `adj_factor` | cumulative back-adjustment factor |
//! | `daily_valuations` | `daily_basic` | shares and caps ×10,000; `dividend_yield` ← `dv_ttm` (percent) |
//! | `financial_statements` | `income` / `balancesheet` / `cashflow`, report_type 1 | see below |
//! | `financial_indicators` | `fina_indicator` (pages of ≤ 100) | percentages ÷ 100 |
//!
//! Statements and indicators: Tushare filters `start_date` on the *announcement* date, which is
//! never before the period end, so the adapter sends `start_date = range.start` and filters
//! `end_date` within the range itself. Periods: `end_date` 12-31 is `Annual`, any other is
//! `Quarterly` (cumulative year-to-date, as Tushare's consolidated reports are). `Ttm` is
//! `Unsupported`: the sync engine can derive it from quarterly reports. Restated reports
//! appear several times; per period the corrected one (`update_flag` 1) with the latest
//! announcement wins.
//!
//! US symbols and `Market::Us` are `Unsupported`.

mod mapping;
mod protocol;

use std::collections::BTreeMap;

use async_trait::async_trait;
use reqwest::Url;
use secrecy::ExposeSecret;
use serde_json::{Map, Value, json};
use stockpilot_application::ports::{Dataset, MarketDataSource, SourceError};
use stockpilot_domain::market::{
    AdjustmentFactor, DailyBar, DailyValuation, DateRange, Exchange, FinancialIndicators,
    FinancialStatement, Instrument, ListingStatus, Market, ReportPeriod, StatementKind, Symbol,
    TradingDay,
};

use crate::http::{
    Failure, Retrier, SetupError, Throttle, build_client, parse_base_url, scrub, status_failure,
    transport_failure,
};
use crate::settings::TushareSettings;
use protocol::{Page, RequestBody, Row};

/// Provider name reported in errors and metrics.
pub const PROVIDER: &str = "tushare";

/// A paging loop stops with `Malformed` after this many pages of one query (30 M rows at the
/// largest page size): a server that always says `has_more` must not loop forever.
const MAX_PAGES: usize = 5_000;

/// The Tushare Pro adapter. Cheap to share behind an `Arc`; one instance holds one throttle.
#[derive(Debug)]
pub struct TushareSource {
    settings: TushareSettings,
    endpoint: Url,
    http: reqwest::Client,
    throttle: Throttle,
    retrier: Retrier,
}

impl TushareSource {
    /// Builds the adapter.
    ///
    /// # Errors
    /// [`SetupError`] when `base_url` is not an http(s) URL or no TLS provider is installed.
    pub fn new(settings: TushareSettings) -> Result<TushareSource, SetupError> {
        let endpoint = parse_base_url(PROVIDER, &settings.base_url)?;
        let http = build_client(PROVIDER, settings.timeout)?;
        Ok(TushareSource {
            endpoint,
            http,
            throttle: Throttle::new(&settings.throttle),
            retrier: Retrier::new(settings.retry.clone()).named(PROVIDER),
            settings,
        })
    }

    /// The throttle every call of this instance passes, e.g. to share with another adapter
    /// on the same account.
    pub fn throttle(&self) -> &Throttle {
        &self.throttle
    }

    async fn call_once(
        &self,
        api: &str,
        params: &Map<String, Value>,
        fields: &str,
    ) -> Result<Page, Failure> {
        self.attempt(api, params, fields)
            .await
            .map_err(|f| f.scrubbed(self.settings.token.expose_secret()))
    }

    async fn attempt(
        &self,
        api: &str,
        params: &Map<String, Value>,
        fields: &str,
    ) -> Result<Page, Failure> {
        let body = RequestBody {
            api_name: api,
            token: self.settings.token.expose_secret(),
            params,
            fields,
        };
        let response = self
            .http
            .post(self.endpoint.clone())
            .json(&body)
            .send()
            .await
            .map_err(|e| transport_failure(PROVIDER, e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| transport_failure(PROVIDER, e))?;
        let text = String::from_utf8_lossy(&bytes);
        if !status.is_success() {
            return Err(status_failure(
                PROVIDER,
                status,
                &headers,
                &text,
                self.retrier.max_backoff(),
                "check TUSHARE_TOKEN",
            ));
        }
        protocol::decode(&text, api, self.settings.rate_limit_wait)
    }

    /// Every page of one query, each row decoded by `decode` (`None` skips the row).
    #[tracing::instrument(level = "debug", skip(self, params, decode), fields(provider = PROVIDER))]
    async fn query<T>(
        &self,
        api: &'static str,
        mut params: Map<String, Value>,
        fields: &str,
        mut decode: impl FnMut(&Row<'_>) -> Result<Option<T>, String> + Send,
    ) -> Result<Vec<T>, SourceError>
    where
        T: Send,
    {
        let cap = if api == "fina_indicator" { 100 } else { 6000 };
        let limit = self.settings.page_size.clamp(1, cap);
        // Cells are provider text; scrub in case one echoes the token.
        let malformed = |message: String| {
            scrub(
                SourceError::Malformed {
                    provider: PROVIDER,
                    message,
                },
                self.settings.token.expose_secret(),
            )
        };
        let mut decoded = Vec::new();
        let mut offset: usize = 0;
        for _ in 0..MAX_PAGES {
            params.insert("limit".into(), json!(limit));
            params.insert("offset".into(), json!(offset));
            let page = self
                .retrier
                .run(&self.throttle, api, || self.call_once(api, &params, fields))
                .await?;
            for row in page.rows(api) {
                if let Some(value) = decode(&row).map_err(malformed)? {
                    decoded.push(value);
                }
            }
            let full = u32::try_from(page.len()).is_ok_and(|n| n >= limit);
            let more = page.has_more.unwrap_or(full);
            if !more || page.len() == 0 {
                return Ok(decoded);
            }
            offset += page.len();
        }
        Err(malformed(format!(
            "{api}: still has_more after {MAX_PAGES} pages"
        )))
    }

    fn cn_only(symbol: &Symbol, dataset: Dataset) -> Result<(), SourceError> {
        if symbol.market() == Market::Cn {
            Ok(())
        } else {
            Err(unsupported(dataset))
        }
    }

    /// Statement or indicator rows of one company, one per period end within `range`.
    async fn reports<T>(
        &self,
        api: &'static str,
        params: Map<String, Value>,
        fields: &str,
        range: DateRange,
        period: ReportPeriod,
        decode: impl Fn(&Row<'_>) -> Result<(T, chrono::NaiveDate), String> + Send,
    ) -> Result<Vec<T>, SourceError>
    where
        T: Send,
    {
        let rows = self
            .query(api, params, fields, move |row| {
                let (value, end_date) = decode(row)?;
                let keep = range.contains(end_date) && mapping::period_of(end_date) == period;
                let version = mapping::version(row)?;
                Ok(keep.then_some((end_date, version, value)))
            })
            .await?;
        let mut latest: BTreeMap<chrono::NaiveDate, (mapping::Version, T)> = BTreeMap::new();
        for (end_date, version, value) in rows {
            match latest.get(&end_date) {
                Some((kept, _)) if *kept > version => {}
                _ => {
                    latest.insert(end_date, (version, value));
                }
            }
        }
        Ok(latest.into_values().map(|(_, value)| value).collect())
    }
}

fn unsupported(dataset: Dataset) -> SourceError {
    SourceError::Unsupported {
        provider: PROVIDER,
        dataset: dataset.as_str(),
    }
}

fn params(pairs: &[(&str, String)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::String(v.clone())))
        .collect()
}

fn ymd(date: chrono::NaiveDate) -> String {
    date.format("%Y%m%d").to_string()
}

#[async_trait]
impl MarketDataSource for TushareSource {
    fn provider(&self) -> &'static str {
        PROVIDER
    }

    fn markets(&self) -> &'static [Market] {
        &[Market::Cn]
    }

    fn datasets(&self) -> &'static [Dataset] {
        &[
            Dataset::Instruments,
            Dataset::Calendar,
            Dataset::DailyBars,
            Dataset::AdjustmentFactors,
            Dataset::Valuations,
            Dataset::Financials,
            Dataset::FinancialIndicators,
        ]
    }

    async fn instruments(&self, market: Market) -> Result<Vec<Instrument>, SourceError> {
        if market != Market::Cn {
            return Err(unsupported(Dataset::Instruments));
        }
        let mut all = BTreeMap::new();
        for (code, status) in [
            ("L", ListingStatus::Listed),
            ("D", ListingStatus::Delisted),
            ("P", ListingStatus::Paused),
        ] {
            let listed = self
                .query(
                    "stock_basic",
                    params(&[("list_status", code.to_owned())]),
                    mapping::STOCK_BASIC_FIELDS,
                    |row| mapping::instrument(row, status),
                )
                .await?;
            for instrument in listed {
                all.insert(instrument.symbol.clone(), instrument);
            }
        }
        Ok(all.into_values().collect())
    }

    async fn trading_calendar(
        &self,
        exchange: Exchange,
        range: DateRange,
    ) -> Result<Vec<TradingDay>, SourceError> {
        if exchange.market() != Market::Cn {
            return Err(unsupported(Dataset::Calendar));
        }
        let mut days = self
            .query(
                "trade_cal",
                params(&[
                    ("exchange", exchange.as_str().to_owned()),
                    ("start_date", ymd(range.start())),
                    ("end_date", ymd(range.end())),
                ]),
                mapping::TRADE_CAL_FIELDS,
                |row| mapping::trading_day(row, exchange).map(Some),
            )
            .await?;
        days.sort_by_key(|d| d.date);
        days.dedup_by_key(|d| d.date);
        Ok(days)
    }

    async fn daily_bars(
        &self,
        symbol: &Symbol,
        range: DateRange,
    ) -> Result<Vec<DailyBar>, SourceError> {
        Self::cn_only(symbol, Dataset::DailyBars)?;
        let mut bars = self
            .query(
                "daily",
                by_symbol(symbol, range),
                mapping::DAILY_FIELDS,
                |row| mapping::daily_bar(row, symbol).map(Some),
            )
            .await?;
        bars.sort_by_key(|b| b.trade_date);
        bars.dedup_by_key(|b| b.trade_date);
        Ok(bars)
    }

    async fn adjustment_factors(
        &self,
        symbol: &Symbol,
        range: DateRange,
    ) -> Result<Vec<AdjustmentFactor>, SourceError> {
        Self::cn_only(symbol, Dataset::AdjustmentFactors)?;
        let mut factors = self
            .query(
                "adj_factor",
                by_symbol(symbol, range),
                mapping::ADJ_FACTOR_FIELDS,
                |row| mapping::adjustment_factor(row, symbol).map(Some),
            )
            .await?;
        factors.sort_by_key(|f| f.trade_date);
        factors.dedup_by_key(|f| f.trade_date);
        Ok(factors)
    }

    async fn daily_valuations(
        &self,
        symbol: &Symbol,
        range: DateRange,
    ) -> Result<Vec<DailyValuation>, SourceError> {
        Self::cn_only(symbol, Dataset::Valuations)?;
        let mut valuations = self
            .query(
                "daily_basic",
                by_symbol(symbol, range),
                mapping::DAILY_BASIC_FIELDS,
                |row| mapping::valuation(row, symbol).map(Some),
            )
            .await?;
        valuations.sort_by_key(|v| v.trade_date);
        valuations.dedup_by_key(|v| v.trade_date);
        Ok(valuations)
    }

    async fn financial_statements(
        &self,
        symbol: &Symbol,
        kind: StatementKind,
        period: ReportPeriod,
        range: DateRange,
    ) -> Result<Vec<FinancialStatement>, SourceError> {
        Self::cn_only(symbol, Dataset::Financials)?;
        if period == ReportPeriod::Ttm {
            return Err(SourceError::Unsupported {
                provider: PROVIDER,
                dataset: "ttm financial statements",
            });
        }
        let api = match kind {
            StatementKind::Income => "income",
            StatementKind::Balance => "balancesheet",
            StatementKind::CashFlow => "cashflow",
        };
        let params = params(&[
            ("ts_code", symbol.as_str().to_owned()),
            ("report_type", "1".to_owned()),
            ("start_date", ymd(range.start())),
        ]);
        // An empty field list asks for Tushare's default columns, all kept in `raw`.
        self.reports(api, params, "", range, period, |row| {
            if row.text("report_type")?.is_some_and(|t| t != "1") {
                return Err(row.invalid("report_type is not 1 (consolidated)"));
            }
            let statement = mapping::statement(row, symbol, kind)?;
            let end = statement.report_date;
            Ok((statement, end))
        })
        .await
    }

    async fn financial_indicators(
        &self,
        symbol: &Symbol,
        period: ReportPeriod,
        range: DateRange,
    ) -> Result<Vec<FinancialIndicators>, SourceError> {
        Self::cn_only(symbol, Dataset::FinancialIndicators)?;
        if period == ReportPeriod::Ttm {
            return Err(SourceError::Unsupported {
                provider: PROVIDER,
                dataset: "ttm financial indicators",
            });
        }
        let params = params(&[
            ("ts_code", symbol.as_str().to_owned()),
            ("start_date", ymd(range.start())),
        ]);
        self.reports(
            "fina_indicator",
            params,
            mapping::FINA_INDICATOR_FIELDS,
            range,
            period,
            |row| {
                let indicators = mapping::indicators(row, symbol)?;
                let end = indicators.report_date;
                Ok((indicators, end))
            },
        )
        .await
    }
}

fn by_symbol(symbol: &Symbol, range: DateRange) -> Map<String, Value> {
    params(&[
        ("ts_code", symbol.as_str().to_owned()),
        ("start_date", ymd(range.start())),
        ("end_date", ymd(range.end())),
    ])
}
