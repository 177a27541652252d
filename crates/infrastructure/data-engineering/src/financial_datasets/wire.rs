//! Financial Datasets response shapes and their mapping onto domain values. Numbers are
//! accepted as JSON numbers or strings; a missing list key or a required value that is null
//! makes the whole response `Malformed`.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use stockpilot_domain::market::{
    DailyBar, DailyValuation, FinancialIndicators, FinancialLineItems, FinancialStatement,
    InsiderTrade, Instrument, ListingStatus, NewsArticle, ReportPeriod, StatementKind, Symbol,
};

use crate::num::{change_against, decimal_from_json, lenient, parse_date};

/// A list endpoint's page: its rows and the absolute URL of the next page, if any.
pub(crate) trait Listing: DeserializeOwned {
    type Item;
    fn into_parts(self) -> (Vec<Self::Item>, Option<String>);
}

macro_rules! listing {
    ($page:ident, $key:ident, $item:ty) => {
        #[derive(Deserialize)]
        pub(crate) struct $page {
            $key: Vec<$item>,
            #[serde(default)]
            next_page_url: Option<String>,
        }

        impl Listing for $page {
            type Item = $item;
            fn into_parts(self) -> (Vec<$item>, Option<String>) {
                (
                    self.$key,
                    self.next_page_url.filter(|u| !u.trim().is_empty()),
                )
            }
        }
    };
}

listing!(PricesPage, prices, Price);
listing!(MetricsPage, financial_metrics, Metrics);
listing!(NewsPage, news, News);
listing!(InsiderTradesPage, insider_trades, Trade);

#[derive(Deserialize)]
pub(crate) struct Price {
    #[serde(deserialize_with = "lenient::required_decimal")]
    open: Decimal,
    #[serde(deserialize_with = "lenient::required_decimal")]
    high: Decimal,
    #[serde(deserialize_with = "lenient::required_decimal")]
    low: Decimal,
    #[serde(deserialize_with = "lenient::required_decimal")]
    close: Decimal,
    #[serde(deserialize_with = "lenient::required_decimal")]
    volume: Decimal,
    #[serde(deserialize_with = "lenient::required_date")]
    time: NaiveDate,
}

impl Price {
    pub(crate) fn date(&self) -> NaiveDate {
        self.time
    }
}

/// Bars in date order; `pre_close` is the previous bar's close *in the same response*, and
/// `change`/`pct_change` follow from it, so the first bar of every response has none. Across a
/// split inside the response they show the raw price jump, as the prices are unadjusted.
///
/// # Errors
/// A description of the first bar that fails [`DailyBar::validate`].
pub(crate) fn daily_bars(symbol: &Symbol, mut prices: Vec<Price>) -> Result<Vec<DailyBar>, String> {
    prices.sort_by_key(|p| p.time);
    prices.dedup_by_key(|p| p.time);
    let mut bars: Vec<DailyBar> = Vec::with_capacity(prices.len());
    for price in prices {
        let pre_close = bars.last().map(|b| b.close);
        let (change, pct_change) = match pre_close.map(|p| change_against(price.close, p)) {
            Some((change, pct)) => (Some(change), pct),
            None => (None, None),
        };
        let bar = DailyBar {
            symbol: symbol.clone(),
            trade_date: price.time,
            open: price.open,
            high: price.high,
            low: price.low,
            close: price.close,
            pre_close,
            change,
            pct_change,
            volume: price.volume,
            amount: None,
        };
        bar.validate().map_err(|e| e.to_string())?;
        bars.push(bar);
    }
    Ok(bars)
}

#[derive(Deserialize)]
pub(crate) struct Metrics {
    #[serde(deserialize_with = "lenient::required_date")]
    report_period: NaiveDate,
    #[serde(default, deserialize_with = "lenient::decimal")]
    market_cap: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::decimal")]
    price_to_earnings_ratio: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::decimal")]
    price_to_book_ratio: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::decimal")]
    price_to_sales_ratio: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::decimal")]
    return_on_equity: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::decimal")]
    return_on_assets: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::decimal")]
    return_on_invested_capital: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::decimal")]
    gross_margin: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::decimal")]
    operating_margin: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::decimal")]
    net_margin: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::decimal")]
    revenue_growth: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::decimal")]
    earnings_growth: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::decimal")]
    debt_to_equity: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::decimal")]
    debt_to_assets: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::decimal")]
    current_ratio: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::decimal")]
    quick_ratio: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::decimal")]
    earnings_per_share: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::decimal")]
    book_value_per_share: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::decimal")]
    free_cash_flow_per_share: Option<Decimal>,
}

impl Metrics {
    pub(crate) fn report_period(&self) -> NaiveDate {
        self.report_period
    }

    /// Financial Datasets already reports ratios as fractions; nothing is rescaled.
    pub(crate) fn into_indicators(
        self,
        symbol: &Symbol,
        period: ReportPeriod,
    ) -> FinancialIndicators {
        FinancialIndicators {
            symbol: symbol.clone(),
            report_date: self.report_period,
            period,
            roe: self.return_on_equity,
            roa: self.return_on_assets,
            roic: self.return_on_invested_capital,
            gross_margin: self.gross_margin,
            net_margin: self.net_margin,
            operating_margin: self.operating_margin,
            revenue_growth: self.revenue_growth,
            earnings_growth: self.earnings_growth,
            debt_to_equity: self.debt_to_equity,
            debt_to_assets: self.debt_to_assets,
            current_ratio: self.current_ratio,
            quick_ratio: self.quick_ratio,
            eps: self.earnings_per_share,
            book_value_per_share: self.book_value_per_share,
            free_cash_flow_per_share: self.free_cash_flow_per_share,
        }
    }

    /// The valuation of a trailing-twelve-month metrics row, dated at its report period: the
    /// multiples are TTM ones (`pe_ttm`, `ps_ttm`), `pb` and the market cap as the provider
    /// computed them for that period. One row per report period, not per session.
    pub(crate) fn into_valuation(self, symbol: &Symbol) -> DailyValuation {
        let mut valuation = DailyValuation::empty(symbol.clone(), self.report_period);
        valuation.pe_ttm = self.price_to_earnings_ratio;
        valuation.ps_ttm = self.price_to_sales_ratio;
        valuation.pb = self.price_to_book_ratio;
        valuation.total_market_cap = self.market_cap;
        valuation
    }
}

/// The line items requested for each statement kind, and the domain field each fills.
pub(crate) fn line_items(kind: StatementKind) -> &'static [&'static str] {
    match kind {
        StatementKind::Income => &[
            "revenue",
            "cost_of_revenue",
            "operating_income",
            "net_income",
            "ebit",
            "ebitda",
            "earnings_per_share",
            "earnings_per_share_diluted",
            "research_and_development",
        ],
        StatementKind::Balance => &[
            "total_assets",
            "total_liabilities",
            "current_assets",
            "current_liabilities",
            "cash_and_equivalents",
            "inventory",
            "total_debt",
            "shareholders_equity",
        ],
        StatementKind::CashFlow => &[
            "net_cash_flow_from_operations",
            "net_cash_flow_from_investing",
            "net_cash_flow_from_financing",
            "capital_expenditure",
            "free_cash_flow",
            "depreciation_and_amortization",
        ],
    }
}

#[derive(Deserialize)]
pub(crate) struct LineItemsResponse {
    pub(crate) search_results: Vec<Map<String, Value>>,
}

/// One `search_results` entry as a statement; the entry itself is kept in `raw`.
///
/// # Errors
/// A description of a missing `report_period` or an unparsable number.
pub(crate) fn statement(
    symbol: &Symbol,
    kind: StatementKind,
    period: ReportPeriod,
    result: &Map<String, Value>,
) -> Result<FinancialStatement, String> {
    let get = |name: &str| -> Result<Option<Decimal>, String> {
        result
            .get(name)
            .map_or(Ok(None), decimal_from_json)
            .map_err(|e| format!("line item '{name}': {e}"))
    };
    let report_date = match result.get("report_period") {
        Some(Value::String(s)) => parse_date(s).map_err(|e| format!("report_period: {e}"))?,
        _ => return Err("a search result has no report_period".to_owned()),
    };
    let currency = match result.get("currency") {
        Some(Value::String(c)) if !c.trim().is_empty() => c.trim().to_owned(),
        _ => symbol.market().currency().to_owned(),
    };
    let mut items = FinancialLineItems::default();
    match kind {
        StatementKind::Income => {
            items.revenue = get("revenue")?;
            items.cost_of_revenue = get("cost_of_revenue")?;
            items.operating_income = get("operating_income")?;
            items.net_income = get("net_income")?;
            items.ebit = get("ebit")?;
            items.ebitda = get("ebitda")?;
            items.eps_basic = get("earnings_per_share")?;
            items.eps_diluted = get("earnings_per_share_diluted")?;
            items.research_and_development = get("research_and_development")?;
        }
        StatementKind::Balance => {
            items.total_assets = get("total_assets")?;
            items.total_liabilities = get("total_liabilities")?;
            items.current_assets = get("current_assets")?;
            items.current_liabilities = get("current_liabilities")?;
            items.cash_and_equivalents = get("cash_and_equivalents")?;
            items.inventory = get("inventory")?;
            items.total_debt = get("total_debt")?;
            items.shareholders_equity = get("shareholders_equity")?;
        }
        StatementKind::CashFlow => {
            items.operating_cash_flow = get("net_cash_flow_from_operations")?;
            items.investing_cash_flow = get("net_cash_flow_from_investing")?;
            items.financing_cash_flow = get("net_cash_flow_from_financing")?;
            // Reported as a negative cash flow; the domain wants the outflow as positive.
            items.capital_expenditure = get("capital_expenditure")?.map(|c| c.abs());
            items.free_cash_flow = get("free_cash_flow")?;
            items.depreciation_and_amortization = get("depreciation_and_amortization")?;
        }
    }
    Ok(FinancialStatement {
        symbol: symbol.clone(),
        kind,
        period,
        report_date,
        announced_date: None,
        currency,
        items,
        raw: Value::Object(result.clone()).to_string(),
    })
}

#[derive(Deserialize)]
pub(crate) struct CompanyFactsResponse {
    pub(crate) company_facts: CompanyFacts,
}

#[derive(Deserialize)]
pub(crate) struct CompanyFacts {
    #[serde(default, deserialize_with = "lenient::text")]
    name: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    industry: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    sector: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    location: Option<String>,
    #[serde(default)]
    is_active: Option<bool>,
    #[serde(default, deserialize_with = "lenient::date")]
    listing_date: Option<NaiveDate>,
}

impl CompanyFacts {
    /// The instrument; `industry` falls back to `sector`, `is_active: false` means delisted.
    pub(crate) fn into_instrument(self, symbol: &Symbol) -> Instrument {
        let mut instrument = Instrument::new(
            symbol.clone(),
            self.name.unwrap_or_else(|| symbol.as_str().to_owned()),
        );
        instrument.industry = self.industry.or(self.sector);
        instrument.area = self.location;
        instrument.list_date = self.listing_date;
        if self.is_active == Some(false) {
            instrument.status = ListingStatus::Delisted;
        }
        instrument
    }
}

#[derive(Deserialize)]
pub(crate) struct News {
    title: String,
    #[serde(default, deserialize_with = "lenient::text")]
    author: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    source: Option<String>,
    #[serde(deserialize_with = "lenient::required_date")]
    date: NaiveDate,
    url: String,
    #[serde(default, deserialize_with = "lenient::text")]
    sentiment: Option<String>,
}

impl News {
    pub(crate) fn into_article(self, symbol: &Symbol) -> NewsArticle {
        NewsArticle {
            symbol: symbol.clone(),
            title: self.title,
            source: self.source,
            author: self.author,
            published_on: self.date,
            url: self.url,
            sentiment: self.sentiment,
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct Trade {
    #[serde(default, deserialize_with = "lenient::text")]
    name: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    title: Option<String>,
    #[serde(default)]
    is_board_director: Option<bool>,
    #[serde(default, deserialize_with = "lenient::date")]
    transaction_date: Option<NaiveDate>,
    #[serde(deserialize_with = "lenient::required_date")]
    filing_date: NaiveDate,
    #[serde(default, deserialize_with = "lenient::decimal")]
    transaction_shares: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::decimal")]
    transaction_price_per_share: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::decimal")]
    transaction_value: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::decimal")]
    shares_owned_after_transaction: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::text")]
    security_title: Option<String>,
}

impl Trade {
    /// The trade as reported (sales carry negative shares); an unnamed insider is "unknown".
    pub(crate) fn into_insider_trade(self, symbol: &Symbol) -> InsiderTrade {
        InsiderTrade {
            symbol: symbol.clone(),
            insider_name: self.name.unwrap_or_else(|| "unknown".to_owned()),
            title: self.title,
            is_board_director: self.is_board_director,
            transaction_date: self.transaction_date,
            filing_date: self.filing_date,
            shares: self.transaction_shares,
            price_per_share: self.transaction_price_per_share,
            value: self.transaction_value,
            shares_owned_after: self.shares_owned_after_transaction,
            security_title: self.security_title,
        }
    }
}
