//! Financial Datasets adapter (US equities): JSON over HTTPS with the key in `X-API-KEY`,
//! list endpoints followed through `next_page_url`.
//!
//! | port method | endpoint | notes |
//! |---|---|---|
//! | `daily_bars` | `GET /prices/` (interval=day, multiplier 1) | `pre_close`/`change`/`pct_change` from the previous bar of the same response; `amount` none |
//! | `daily_valuations` | `GET /financial-metrics/` period=ttm | one row per report period, dated at it: `pe_ttm`, `ps_ttm`, `pb`, market cap |
//! | `financial_statements` | `POST /financials/search/line-items` | annual, quarterly or ttm; line items below |
//! | `financial_indicators` | `GET /financial-metrics/` | ratios are fractions already |
//! | `news` | `GET /news/` | |
//! | `insider_trades` | `GET /insider-trades/` | filtered on filing date |
//! | [`FinancialDatasetsSource::company`] | `GET /company/facts/` | inherent method |
//! | `instruments`, `trading_calendar`, `adjustment_factors` | — | `Unsupported`: no bulk list, calendar or factors |
//!
//! Line items requested per statement (FD name → `FinancialLineItems` field, where different):
//! - income: `revenue`, `cost_of_revenue`, `operating_income`, `net_income`, `ebit`, `ebitda`,
//!   `earnings_per_share` → `eps_basic`, `earnings_per_share_diluted` → `eps_diluted`,
//!   `research_and_development`;
//! - balance: `total_assets`, `total_liabilities`, `current_assets`, `current_liabilities`,
//!   `cash_and_equivalents`, `inventory`, `total_debt`, `shareholders_equity`;
//! - cash flow: `net_cash_flow_from_operations` / `_investing` / `_financing` →
//!   `operating_` / `investing_` / `financing_cash_flow`, `capital_expenditure` (sign flipped to
//!   a positive outflow), `free_cash_flow`, `depreciation_and_amortization`.
//!
//! `announced_date` is `None` (the search does not report filing dates); the whole search
//! result is kept in `raw`.
//!
//! Statuses: 404 → empty result; 401/403 → `Auth`; 402 → `QuotaExhausted`; 429 → retried after
//! `Retry-After` (capped at `max_backoff`) or backoff, then `RateLimited`; 408/5xx and
//! transport failures → retried, then `Transient`; other 4xx → `Malformed`.
//! CN symbols are `Unsupported`.

mod wire;

use async_trait::async_trait;
use chrono::NaiveDate;
use reqwest::Url;
use reqwest::header::HeaderValue;
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde_json::json;
use stockpilot_application::ports::{Dataset, MarketDataSource, SourceError};
use stockpilot_domain::market::{
    AdjustmentFactor, DailyBar, DailyValuation, DateRange, Exchange, FinancialIndicators,
    FinancialStatement, InsiderTrade, Instrument, Market, NewsArticle, ReportPeriod, StatementKind,
    Symbol, TradingDay,
};

use crate::http::{
    Failure, Retrier, SetupError, Throttle, build_client, excerpt, parse_base_url, scrub,
    status_failure, transport_failure,
};
use crate::settings::FinancialDatasetsSettings;
use wire::Listing;

/// Provider name reported in errors and metrics.
pub const PROVIDER: &str = "financial_datasets";

const MAX_PAGES: usize = 1_000;
const PRICES_LIMIT: u32 = 5_000;
const NEWS_LIMIT: u32 = 100;
const INSIDER_TRADES_LIMIT: u32 = 1_000;

/// The Financial Datasets adapter. One instance holds one throttle.
#[derive(Debug)]
pub struct FinancialDatasetsSource {
    settings: FinancialDatasetsSettings,
    base: Url,
    key_header: HeaderValue,
    http: reqwest::Client,
    throttle: Throttle,
    retrier: Retrier,
}

enum Call<'a> {
    Get(&'a Url),
    Post(&'a Url, &'a serde_json::Value),
}

impl FinancialDatasetsSource {
    /// Builds the adapter.
    ///
    /// # Errors
    /// [`SetupError`] when `base_url` is not an http(s) URL, the key cannot be a header value,
    /// or no TLS provider is installed.
    pub fn new(settings: FinancialDatasetsSettings) -> Result<FinancialDatasetsSource, SetupError> {
        let base = parse_base_url(PROVIDER, &settings.base_url)?;
        let mut key_header = HeaderValue::from_str(settings.api_key.expose_secret().trim())
            .map_err(|_| SetupError::Client {
                provider: PROVIDER,
                reason: "the API key contains characters not allowed in a header".to_owned(),
            })?;
        key_header.set_sensitive(true);
        let http = build_client(PROVIDER, settings.timeout)?;
        Ok(FinancialDatasetsSource {
            base,
            key_header,
            http,
            throttle: Throttle::new(&settings.throttle),
            retrier: Retrier::new(settings.retry.clone()).named(PROVIDER),
            settings,
        })
    }

    /// The throttle every call of this instance passes.
    pub fn throttle(&self) -> &Throttle {
        &self.throttle
    }

    /// Reference data of one company from `/company/facts/`; `None` when the provider does
    /// not know the ticker (404).
    ///
    /// # Errors
    /// Any [`SourceError`]; `Unsupported` for a CN symbol.
    pub async fn company(&self, symbol: &Symbol) -> Result<Option<Instrument>, SourceError> {
        us_only(symbol, Dataset::Instruments)?;
        let url = self.url("company/facts/", &[("ticker", symbol.as_str().to_owned())]);
        let Some(body) = self.fetch("company facts", Call::Get(&url)).await? else {
            return Ok(None);
        };
        let facts: wire::CompanyFactsResponse = self.parse("company facts", &body)?;
        Ok(Some(facts.company_facts.into_instrument(symbol)))
    }

    /// A `Malformed` error; provider text may echo anything, so the key is scrubbed here, the
    /// one place (besides `call_once`, for every attempt) where messages are made.
    fn malformed(&self, message: String) -> SourceError {
        scrub(
            SourceError::Malformed {
                provider: PROVIDER,
                message,
            },
            self.settings.api_key.expose_secret(),
        )
    }

    fn parse<T: DeserializeOwned>(&self, what: &str, body: &str) -> Result<T, SourceError> {
        serde_json::from_str(body).map_err(|e| {
            self.malformed(format!(
                "{what}: not the documented shape ({e}): {}",
                excerpt(body)
            ))
        })
    }

    /// `{base}/{path}?query`, keeping any path prefix of the base URL; `path` is written as the
    /// API documents it (`prices/` with its trailing slash, `financials/search/line-items`).
    fn url(&self, path: &str, query: &[(&str, String)]) -> Url {
        let mut url = self.base.clone();
        // Only cannot-be-a-base URLs refuse path segments, and an http(s) base never is one.
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend(path.split('/'));
        }
        url.query_pairs_mut()
            .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        url
    }

    async fn call_once(&self, call: &Call<'_>) -> Result<Option<String>, Failure> {
        self.attempt(call)
            .await
            .map_err(|f| f.scrubbed(self.settings.api_key.expose_secret()))
    }

    async fn attempt(&self, call: &Call<'_>) -> Result<Option<String>, Failure> {
        let request = match call {
            Call::Get(url) => self.http.get((*url).clone()),
            Call::Post(url, body) => self.http.post((*url).clone()).json(body),
        };
        let response = request
            .header("X-API-KEY", self.key_header.clone())
            .send()
            .await
            .map_err(|e| transport_failure(PROVIDER, e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| transport_failure(PROVIDER, e))?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if status.is_success() {
            Ok(Some(text))
        } else if status == reqwest::StatusCode::NOT_FOUND {
            Ok(None)
        } else {
            Err(status_failure(
                PROVIDER,
                status,
                &headers,
                &text,
                self.retrier.max_backoff(),
                "check FINANCIAL_DATASETS_API_KEY",
            ))
        }
    }

    /// One request with throttling and retries; `None` for 404.
    #[tracing::instrument(level = "debug", skip(self, call), fields(provider = PROVIDER))]
    async fn fetch(&self, what: &str, call: Call<'_>) -> Result<Option<String>, SourceError> {
        self.retrier
            .run(&self.throttle, what, || self.call_once(&call))
            .await
    }

    /// Every page of a list endpoint, following `next_page_url` as given.
    async fn pages<L>(&self, what: &str, first: Url) -> Result<Vec<L::Item>, SourceError>
    where
        L: Listing,
        L::Item: Send,
    {
        let mut items = Vec::new();
        let mut next = Some(first);
        for _ in 0..MAX_PAGES {
            let Some(url) = next.take() else {
                return Ok(items);
            };
            let Some(body) = self.fetch(what, Call::Get(&url)).await? else {
                return Ok(items);
            };
            let (page, next_url) = self.parse::<L>(what, &body)?.into_parts();
            items.extend(page);
            next = match next_url {
                Some(raw) => {
                    let parsed = Url::parse(&raw).map_err(|e| {
                        self.malformed(format!(
                            "{what}: next_page_url '{}' is invalid: {e}",
                            excerpt(&raw)
                        ))
                    })?;
                    if parsed == url {
                        return Err(
                            self.malformed(format!("{what}: next_page_url points to itself"))
                        );
                    }
                    Some(parsed)
                }
                None => None,
            };
        }
        Err(self.malformed(format!("{what}: more than {MAX_PAGES} pages")))
    }

    async fn metrics(
        &self,
        symbol: &Symbol,
        period: ReportPeriod,
        range: DateRange,
    ) -> Result<Vec<wire::Metrics>, SourceError> {
        let url = self.url(
            "financial-metrics/",
            &[
                ("ticker", symbol.as_str().to_owned()),
                ("period", period.as_str().to_owned()),
                ("limit", self.settings.max_periods.to_string()),
                ("report_period_lte", iso(range.end())),
            ],
        );
        let mut rows = self
            .pages::<wire::MetricsPage>("financial metrics", url)
            .await?;
        rows.retain(|m| range.contains(m.report_period()));
        rows.sort_by_key(wire::Metrics::report_period);
        rows.dedup_by_key(|m| m.report_period());
        Ok(rows)
    }

    fn ticker_range(
        &self,
        symbol: &Symbol,
        range: DateRange,
        limit: u32,
    ) -> Vec<(&'static str, String)> {
        vec![
            ("ticker", symbol.as_str().to_owned()),
            ("start_date", iso(range.start())),
            ("end_date", iso(range.end())),
            (
                "limit",
                self.settings.page_limit.clamp(1, limit).to_string(),
            ),
        ]
    }
}

fn iso(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

fn unsupported(dataset: Dataset) -> SourceError {
    SourceError::Unsupported {
        provider: PROVIDER,
        dataset: dataset.as_str(),
    }
}

fn us_only(symbol: &Symbol, dataset: Dataset) -> Result<(), SourceError> {
    if symbol.market() == Market::Us {
        Ok(())
    } else {
        Err(unsupported(dataset))
    }
}

#[async_trait]
impl MarketDataSource for FinancialDatasetsSource {
    fn provider(&self) -> &'static str {
        PROVIDER
    }

    fn markets(&self) -> &'static [Market] {
        &[Market::Us]
    }

    fn datasets(&self) -> &'static [Dataset] {
        &[
            Dataset::DailyBars,
            Dataset::Valuations,
            Dataset::Financials,
            Dataset::FinancialIndicators,
            Dataset::News,
            Dataset::InsiderTrades,
        ]
    }

    /// Always `Unsupported`: the API has no bulk instrument list; use
    /// [`FinancialDatasetsSource::company`] per ticker.
    async fn instruments(&self, _market: Market) -> Result<Vec<Instrument>, SourceError> {
        Err(unsupported(Dataset::Instruments))
    }

    async fn trading_calendar(
        &self,
        _exchange: Exchange,
        _range: DateRange,
    ) -> Result<Vec<TradingDay>, SourceError> {
        Err(unsupported(Dataset::Calendar))
    }

    async fn daily_bars(
        &self,
        symbol: &Symbol,
        range: DateRange,
    ) -> Result<Vec<DailyBar>, SourceError> {
        us_only(symbol, Dataset::DailyBars)?;
        let mut query = self.ticker_range(symbol, range, PRICES_LIMIT);
        query.extend([
            ("interval", "day".to_owned()),
            ("interval_multiplier", "1".to_owned()),
        ]);
        let url = self.url("prices/", &query);
        let mut prices = self.pages::<wire::PricesPage>("prices", url).await?;
        prices.retain(|p| range.contains(p.date()));
        wire::daily_bars(symbol, prices).map_err(|e| self.malformed(format!("prices: {e}")))
    }

    async fn adjustment_factors(
        &self,
        _symbol: &Symbol,
        _range: DateRange,
    ) -> Result<Vec<AdjustmentFactor>, SourceError> {
        Err(unsupported(Dataset::AdjustmentFactors))
    }

    async fn daily_valuations(
        &self,
        symbol: &Symbol,
        range: DateRange,
    ) -> Result<Vec<DailyValuation>, SourceError> {
        us_only(symbol, Dataset::Valuations)?;
        let rows = self.metrics(symbol, ReportPeriod::Ttm, range).await?;
        Ok(rows.into_iter().map(|m| m.into_valuation(symbol)).collect())
    }

    async fn financial_statements(
        &self,
        symbol: &Symbol,
        kind: StatementKind,
        period: ReportPeriod,
        range: DateRange,
    ) -> Result<Vec<FinancialStatement>, SourceError> {
        us_only(symbol, Dataset::Financials)?;
        let url = self.url("financials/search/line-items", &[]);
        let body = json!({
            "tickers": [symbol.as_str()],
            "line_items": wire::line_items(kind),
            "end_date": iso(range.end()),
            "period": period.as_str(),
            "limit": self.settings.max_periods,
        });
        let Some(text) = self.fetch("line items", Call::Post(&url, &body)).await? else {
            return Ok(Vec::new());
        };
        let response: wire::LineItemsResponse = self.parse("line items", &text)?;
        let mut statements = response
            .search_results
            .iter()
            .filter(|r| {
                r.get("ticker")
                    .and_then(|t| t.as_str())
                    .is_none_or(|t| t == symbol.as_str())
            })
            .map(|r| wire::statement(symbol, kind, period, r))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.malformed(format!("line items: {e}")))?;
        statements.retain(|s| range.contains(s.report_date));
        statements.sort_by_key(|s| s.report_date);
        statements.dedup_by_key(|s| s.report_date);
        Ok(statements)
    }

    async fn financial_indicators(
        &self,
        symbol: &Symbol,
        period: ReportPeriod,
        range: DateRange,
    ) -> Result<Vec<FinancialIndicators>, SourceError> {
        us_only(symbol, Dataset::FinancialIndicators)?;
        let rows = self.metrics(symbol, period, range).await?;
        Ok(rows
            .into_iter()
            .map(|m| m.into_indicators(symbol, period))
            .collect())
    }

    async fn news(
        &self,
        symbol: &Symbol,
        range: DateRange,
    ) -> Result<Vec<NewsArticle>, SourceError> {
        us_only(symbol, Dataset::News)?;
        let url = self.url("news/", &self.ticker_range(symbol, range, NEWS_LIMIT));
        let mut articles: Vec<NewsArticle> = self
            .pages::<wire::NewsPage>("news", url)
            .await?
            .into_iter()
            .map(|n| n.into_article(symbol))
            .filter(|a| range.contains(a.published_on))
            .collect();
        articles.sort_by_key(|a| a.published_on);
        Ok(articles)
    }

    async fn insider_trades(
        &self,
        symbol: &Symbol,
        range: DateRange,
    ) -> Result<Vec<InsiderTrade>, SourceError> {
        us_only(symbol, Dataset::InsiderTrades)?;
        let limit = self.settings.page_limit.clamp(1, INSIDER_TRADES_LIMIT);
        let url = self.url(
            "insider-trades/",
            &[
                ("ticker", symbol.as_str().to_owned()),
                ("filing_date_gte", iso(range.start())),
                ("filing_date_lte", iso(range.end())),
                ("limit", limit.to_string()),
            ],
        );
        let mut trades: Vec<InsiderTrade> = self
            .pages::<wire::InsiderTradesPage>("insider trades", url)
            .await?
            .into_iter()
            .map(|t| t.into_insider_trade(symbol))
            .filter(|t| range.contains(t.filing_date))
            .collect();
        trades.sort_by_key(|t| (t.filing_date, t.transaction_date));
        Ok(trades)
    }
}
