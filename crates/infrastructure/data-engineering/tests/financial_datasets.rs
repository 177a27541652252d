//! The Financial Datasets adapter against a wiremock server replaying its documented shapes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;
use std::time::Duration;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use secrecy::SecretString;
use serde_json::{Value, json};
use stockpilot_application::ports::{MarketDataSource, SourceError};
use stockpilot_data_engineering::{
    FinancialDatasetsSettings, FinancialDatasetsSource, RetrySettings, ThrottleSettings,
};
use stockpilot_domain::market::{
    DateRange, Exchange, ListingStatus, Market, ReportPeriod, StatementKind, Symbol,
};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "fd-secret-api-key-9f8e7d6c5b4a";

fn settings(base_url: String) -> FinancialDatasetsSettings {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut settings = FinancialDatasetsSettings::new(SecretString::from(KEY));
    settings.base_url = base_url;
    settings.timeout = Duration::from_secs(5);
    settings.throttle = ThrottleSettings::unlimited();
    settings.retry = RetrySettings {
        max_retries: 2,
        base_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        jitter_seed: 3,
    };
    settings
}

fn source(server: &MockServer) -> FinancialDatasetsSource {
    FinancialDatasetsSource::new(settings(server.uri())).unwrap()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn january_2024() -> DateRange {
    DateRange::new(day(2024, 1, 1), day(2024, 1, 31), None).unwrap()
}

fn apple() -> Symbol {
    Symbol::parse("AAPL").unwrap()
}

fn price(time: &str, close: f64) -> Value {
    json!({
        "open": close - 1.0, "close": close, "high": close + 2.0, "low": close - 2.0,
        "volume": 50_000_000, "time": time, "time_milliseconds": 1_704_153_600_000_i64
    })
}

async fn request_count(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

#[tokio::test]
async fn prices_follow_next_page_url_and_derive_changes_within_the_response() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/prices/"))
        .and(query_param("cursor", "page-2"))
        .and(header("X-API-KEY", KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ticker": "AAPL",
            "prices": [price("2024-01-04T05:00:00Z", 181.91)]
        })))
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/prices/"))
        .and(query_param("ticker", "AAPL"))
        .and(query_param("interval", "day"))
        .and(query_param("interval_multiplier", "1"))
        .and(query_param("start_date", "2024-01-01"))
        .and(query_param("end_date", "2024-01-31"))
        .and(query_param("limit", "5000"))
        .and(header("X-API-KEY", KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ticker": "AAPL",
            "prices": [
                {"open": "187.15", "close": "185.64", "high": 188.44, "low": 183.885,
                 "volume": 82488674, "time": "2024-01-02"},
                price("2024-01-03", 184.25)
            ],
            "next_page_url": format!("{}/prices/?ticker=AAPL&cursor=page-2", server.uri())
        })))
        .expect(1)
        .mount(&server)
        .await;

    let bars = source(&server)
        .daily_bars(&apple(), january_2024())
        .await
        .unwrap();

    let dates: Vec<_> = bars.iter().map(|b| b.trade_date).collect();
    assert_eq!(dates, [day(2024, 1, 2), day(2024, 1, 3), day(2024, 1, 4)]);
    let first = &bars[0];
    assert_eq!(first.open, dec("187.15"));
    assert_eq!(first.low, dec("183.885"));
    assert_eq!(first.volume, dec("82488674"));
    assert_eq!(
        (first.pre_close, first.change, first.pct_change),
        (None, None, None)
    );
    assert_eq!(first.amount, None);
    let second = &bars[1];
    assert_eq!(second.pre_close, Some(dec("185.64")));
    assert_eq!(second.change, Some(dec("-1.39")));
    assert_eq!(second.pct_change, Some(dec("-0.7488")));
    assert_eq!(bars[2].close, dec("181.91"));
    assert_eq!(bars[2].pre_close, Some(dec("184.25")));
}

#[tokio::test]
async fn a_base_url_with_a_path_prefix_keeps_it() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/prices/"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "prices": [price("2024-01-02", 10.0)] })),
        )
        .expect(1)
        .mount(&server)
        .await;

    let fd = FinancialDatasetsSource::new(settings(format!("{}/v1/", server.uri()))).unwrap();
    let bars = fd.daily_bars(&apple(), january_2024()).await.unwrap();

    assert_eq!(bars.len(), 1);
}

#[tokio::test]
async fn a_429_is_retried_after_retry_after_and_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(path("/prices/"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/prices/"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "prices": [price("2024-01-02", 185.0)] })),
        )
        .mount(&server)
        .await;

    let bars = source(&server)
        .daily_bars(&apple(), january_2024())
        .await
        .unwrap();

    assert_eq!(bars[0].close, dec("185"));
    assert_eq!(request_count(&server).await, 2);
}

#[tokio::test]
async fn a_429_that_persists_is_rate_limited_with_the_wait_bounded_by_max_backoff() {
    let server = MockServer::start().await;
    Mock::given(path("/prices/"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "120")
                .set_body_json(json!({"error": "Too many requests"})),
        )
        .mount(&server)
        .await;

    let error = source(&server)
        .daily_bars(&apple(), january_2024())
        .await
        .unwrap_err();

    match &error {
        SourceError::RateLimited {
            retry_after,
            message,
            ..
        } => {
            assert_eq!(*retry_after, Duration::from_millis(5));
            assert!(message.contains("HTTP 429"), "{message}");
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(request_count(&server).await, 3);
}

#[tokio::test]
async fn a_404_means_no_data() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": "Not found"})))
        .mount(&server)
        .await;
    let fd = source(&server);

    assert!(
        fd.daily_bars(&apple(), january_2024())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(fd.news(&apple(), january_2024()).await.unwrap().is_empty());
    assert_eq!(fd.company(&apple()).await.unwrap(), None);
    assert_eq!(request_count(&server).await, 3, "404 is not retried");
}

#[tokio::test]
async fn a_401_is_an_auth_error_after_one_request() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": "Invalid API key"})))
        .expect(1)
        .mount(&server)
        .await;

    let error = source(&server)
        .daily_bars(&apple(), january_2024())
        .await
        .unwrap_err();

    assert!(matches!(
        error,
        SourceError::Auth {
            provider: "financial_datasets",
            ..
        }
    ));
    assert!(
        error.to_string().contains("FINANCIAL_DATASETS_API_KEY"),
        "{error}"
    );
    assert_eq!(request_count(&server).await, 1);
}

#[tokio::test]
async fn an_http_500_is_retried_then_transient() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(502))
        .mount(&server)
        .await;

    let error = source(&server)
        .daily_bars(&apple(), january_2024())
        .await
        .unwrap_err();

    assert_eq!(error.kind(), "transient");
    assert_eq!(request_count(&server).await, 3);
}

#[tokio::test]
async fn malformed_bodies_are_reported_without_retry() {
    let cases = [
        (ResponseTemplate::new(200).set_body_string("{\"prices\": [oops"), "not the documented shape"),
        (ResponseTemplate::new(200).set_body_json(json!({"data": []})), "missing field `prices`"),
        (
            ResponseTemplate::new(200).set_body_json(json!({"prices": [
                {"open": 1, "close": null, "high": 2, "low": 0.5, "volume": 1, "time": "2024-01-02"}
            ]})),
            "a required number is null",
        ),
        (
            ResponseTemplate::new(200).set_body_json(json!({"prices": [
                {"open": 1, "close": "abc", "high": 2, "low": 0.5, "volume": 1, "time": "2024-01-02"}
            ]})),
            "'abc' is not a number",
        ),
        (
            ResponseTemplate::new(200).set_body_json(json!({"prices": [
                {"open": 1, "close": 1, "high": 0.5, "low": 2, "volume": 1, "time": "2024-01-02"}
            ]})),
            "high 0.5 is below low 2",
        ),
    ];
    for (response, expected) in cases {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(response)
            .mount(&server)
            .await;

        let error = source(&server)
            .daily_bars(&apple(), january_2024())
            .await
            .unwrap_err();

        assert_eq!(error.kind(), "malformed", "{error}");
        assert!(
            error.to_string().contains(expected),
            "{error} lacks {expected}"
        );
        assert_eq!(request_count(&server).await, 1);
    }
}

#[tokio::test]
async fn line_items_map_onto_statements_of_the_requested_period() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/financials/search/line-items"))
        .and(header("X-API-KEY", KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "search_results": [
                {"ticker": "AAPL", "report_period": "2023-09-30", "period": "annual", "currency": "USD",
                 "net_cash_flow_from_operations": 110543000000.0, "net_cash_flow_from_investing": 3705000000.0,
                 "net_cash_flow_from_financing": -108488000000.0, "capital_expenditure": -10959000000.0,
                 "free_cash_flow": 99584000000.0, "depreciation_and_amortization": "11519000000"},
                {"ticker": "AAPL", "report_period": "2022-09-24", "period": "annual", "currency": "USD",
                 "net_cash_flow_from_operations": 122151000000.0, "capital_expenditure": -10708000000.0}
            ]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let fiscal_2023 = DateRange::new(day(2023, 1, 1), day(2023, 12, 31), None).unwrap();

    let statements = source(&server)
        .financial_statements(
            &apple(),
            StatementKind::CashFlow,
            ReportPeriod::Annual,
            fiscal_2023,
        )
        .await
        .unwrap();

    assert_eq!(statements.len(), 1, "2022 lies outside the range");
    let s = &statements[0];
    assert_eq!(s.report_date, day(2023, 9, 30));
    assert_eq!(s.period, ReportPeriod::Annual);
    assert_eq!(s.currency, "USD");
    assert_eq!(s.announced_date, None);
    assert_eq!(s.items.operating_cash_flow, Some(dec("110543000000")));
    assert_eq!(s.items.financing_cash_flow, Some(dec("-108488000000")));
    assert_eq!(
        s.items.capital_expenditure,
        Some(dec("10959000000")),
        "outflow as positive"
    );
    assert_eq!(s.items.free_cash_flow, Some(dec("99584000000")));
    assert_eq!(
        s.items.depreciation_and_amortization,
        Some(dec("11519000000"))
    );
    assert_eq!(s.items.revenue, None);
    let raw: Value = serde_json::from_str(&s.raw).unwrap();
    assert_eq!(raw["report_period"], "2023-09-30");

    let requests = server.received_requests().await.unwrap();
    let body: Value = requests[0].body_json().unwrap();
    assert_eq!(body["tickers"], json!(["AAPL"]));
    assert_eq!(body["period"], "annual");
    assert_eq!(body["end_date"], "2023-12-31");
    assert_eq!(body["limit"], 100);
    assert_eq!(
        body["line_items"],
        json!([
            "net_cash_flow_from_operations",
            "net_cash_flow_from_investing",
            "net_cash_flow_from_financing",
            "capital_expenditure",
            "free_cash_flow",
            "depreciation_and_amortization"
        ])
    );
}

#[tokio::test]
async fn income_line_items_fill_revenue_earnings_and_eps() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/financials/search/line-items"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "search_results": [{
                "ticker": "AAPL", "report_period": "2024-06-29", "period": "ttm", "currency": "USD",
                "revenue": 385603000000.0, "cost_of_revenue": 210352000000.0,
                "operating_income": 118658000000.0, "net_income": 101956000000.0,
                "ebit": 119000000000.0, "ebitda": 131000000000.0, "earnings_per_share": 6.57,
                "earnings_per_share_diluted": 6.53, "research_and_development": 31370000000.0
            }]
        })))
        .mount(&server)
        .await;
    let year = DateRange::new(day(2024, 1, 1), day(2024, 12, 31), None).unwrap();

    let statements = source(&server)
        .financial_statements(&apple(), StatementKind::Income, ReportPeriod::Ttm, year)
        .await
        .unwrap();

    let items = &statements[0].items;
    assert_eq!(statements[0].period, ReportPeriod::Ttm);
    assert_eq!(items.revenue, Some(dec("385603000000")));
    assert_eq!(items.cost_of_revenue, Some(dec("210352000000")));
    assert_eq!(items.net_income, Some(dec("101956000000")));
    assert_eq!(items.ebitda, Some(dec("131000000000")));
    assert_eq!(items.eps_basic, Some(dec("6.57")));
    assert_eq!(items.eps_diluted, Some(dec("6.53")));
    assert_eq!(items.research_and_development, Some(dec("31370000000")));
}

fn metrics_row(report_period: &str) -> Value {
    json!({
        "ticker": "AAPL", "report_period": report_period, "period": "ttm", "currency": "USD",
        "market_cap": 2994371824000.0, "enterprise_value": 3050000000000.0,
        "price_to_earnings_ratio": 29.37, "price_to_book_ratio": 45.9, "price_to_sales_ratio": 7.77,
        "gross_margin": 0.4613, "operating_margin": 0.3082, "net_margin": 0.2531,
        "return_on_equity": 1.5608, "return_on_assets": 0.2748, "return_on_invested_capital": 0.5565,
        "current_ratio": 0.9880, "quick_ratio": 0.8434, "debt_to_equity": 1.79, "debt_to_assets": null,
        "revenue_growth": -0.028, "earnings_growth": "-0.0281", "earnings_per_share": 6.13,
        "book_value_per_share": 4.02, "free_cash_flow_per_share": 6.34
    })
}

#[tokio::test]
async fn financial_metrics_map_onto_indicators_as_fractions() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/financial-metrics/"))
        .and(query_param("ticker", "AAPL"))
        .and(query_param("period", "quarterly"))
        .and(query_param("report_period_lte", "2023-12-31"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "financial_metrics": [metrics_row("2023-12-30"), metrics_row("2023-09-30"), metrics_row("2022-12-31")]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let year = DateRange::new(day(2023, 1, 1), day(2023, 12, 31), None).unwrap();

    let indicators = source(&server)
        .financial_indicators(&apple(), ReportPeriod::Quarterly, year)
        .await
        .unwrap();

    let dates: Vec<_> = indicators.iter().map(|i| i.report_date).collect();
    assert_eq!(
        dates,
        [day(2023, 9, 30), day(2023, 12, 30)],
        "ascending, range applied"
    );
    let i = &indicators[1];
    assert_eq!(i.period, ReportPeriod::Quarterly);
    assert_eq!(i.gross_margin, Some(dec("0.4613")));
    assert_eq!(i.roe, Some(dec("1.5608")));
    assert_eq!(i.roic, Some(dec("0.5565")));
    assert_eq!(i.current_ratio, Some(dec("0.988")));
    assert_eq!(i.debt_to_equity, Some(dec("1.79")));
    assert_eq!(i.debt_to_assets, None);
    assert_eq!(i.earnings_growth, Some(dec("-0.0281")));
    assert_eq!(i.eps, Some(dec("6.13")));
    assert_eq!(i.free_cash_flow_per_share, Some(dec("6.34")));
}

#[tokio::test]
async fn valuations_come_from_ttm_metrics_one_row_per_report_period() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/financial-metrics/"))
        .and(query_param("period", "ttm"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "financial_metrics": [metrics_row("2023-12-30")]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let year = DateRange::new(day(2023, 1, 1), day(2023, 12, 31), None).unwrap();

    let valuations = source(&server)
        .daily_valuations(&apple(), year)
        .await
        .unwrap();

    let v = &valuations[0];
    assert_eq!(v.trade_date, day(2023, 12, 30));
    assert_eq!(v.pe_ttm, Some(dec("29.37")));
    assert_eq!(v.ps_ttm, Some(dec("7.77")));
    assert_eq!(v.pb, Some(dec("45.9")));
    assert_eq!(v.total_market_cap, Some(dec("2994371824000")));
    assert_eq!(v.pe, None);
}

#[tokio::test]
async fn company_facts_become_an_instrument() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/company/facts/"))
        .and(query_param("ticker", "AAPL"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "company_facts": {
                "ticker": "AAPL", "name": "Apple Inc", "cik": "0000320193",
                "industry": "Consumer Electronics", "sector": "Technology",
                "exchange": "NASDAQ", "is_active": true, "listing_date": "1980-12-12",
                "location": "California; U.S.A", "market_cap": 3000000000000.0,
                "number_of_employees": 161000
            }
        })))
        .mount(&server)
        .await;

    let apple_inc = source(&server).company(&apple()).await.unwrap().unwrap();

    assert_eq!(apple_inc.name, "Apple Inc");
    assert_eq!(apple_inc.exchange, Exchange::Us);
    assert_eq!(apple_inc.market, Market::Us);
    assert_eq!(apple_inc.currency, "USD");
    assert_eq!(apple_inc.industry.as_deref(), Some("Consumer Electronics"));
    assert_eq!(apple_inc.area.as_deref(), Some("California; U.S.A"));
    assert_eq!(apple_inc.list_date, Some(day(1980, 12, 12)));
    assert_eq!(apple_inc.status, ListingStatus::Listed);
}

#[tokio::test]
async fn news_and_insider_trades_are_mapped_in_date_order() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/news/"))
        .and(query_param("start_date", "2024-01-01"))
        .and(query_param("end_date", "2024-01-31"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "news": [
                {"ticker": "AAPL", "title": "Later", "author": "B", "source": "Reuters",
                 "date": "2024-01-20T14:00:00Z", "url": "https://example.com/2", "sentiment": "negative"},
                {"ticker": "AAPL", "title": "Earlier", "author": null, "source": "Bloomberg",
                 "date": "2024-01-05", "url": "https://example.com/1", "sentiment": "positive"}
            ]
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/insider-trades/"))
        .and(query_param("filing_date_gte", "2024-01-01"))
        .and(query_param("filing_date_lte", "2024-01-31"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "insider_trades": [{
                "ticker": "AAPL", "issuer": "Apple Inc", "name": "Timothy D Cook", "title": "CEO",
                "is_board_director": true, "transaction_date": "2024-01-10",
                "transaction_shares": -59751, "transaction_price_per_share": 185.5,
                "transaction_value": -11083810.5, "shares_owned_before_transaction": 3339396,
                "shares_owned_after_transaction": 3279645, "security_title": "Common Stock",
                "filing_date": "2024-01-12"
            }]
        })))
        .mount(&server)
        .await;
    let fd = source(&server);

    let news = fd.news(&apple(), january_2024()).await.unwrap();
    let trades = fd.insider_trades(&apple(), january_2024()).await.unwrap();

    let titles: Vec<_> = news
        .iter()
        .map(|n| (n.title.as_str(), n.published_on))
        .collect();
    assert_eq!(
        titles,
        [("Earlier", day(2024, 1, 5)), ("Later", day(2024, 1, 20))]
    );
    assert_eq!(news[0].author, None);
    assert_eq!(news[1].sentiment.as_deref(), Some("negative"));
    let trade = &trades[0];
    assert_eq!(trade.insider_name, "Timothy D Cook");
    assert_eq!(trade.shares, Some(dec("-59751")));
    assert_eq!(trade.price_per_share, Some(dec("185.5")));
    assert_eq!(trade.shares_owned_after, Some(dec("3279645")));
    assert_eq!(trade.filing_date, day(2024, 1, 12));
    assert_eq!(trade.transaction_date, Some(day(2024, 1, 10)));
    assert_eq!(trade.is_board_director, Some(true));
}

#[tokio::test]
async fn what_the_api_cannot_provide_is_unsupported_without_a_request() {
    let server = MockServer::start().await;
    let fd = source(&server);
    let moutai = Symbol::parse("600519.SH").unwrap();

    assert_eq!(
        fd.instruments(Market::Us).await.unwrap_err().kind(),
        "unsupported"
    );
    assert_eq!(
        fd.trading_calendar(Exchange::Us, january_2024())
            .await
            .unwrap_err()
            .kind(),
        "unsupported"
    );
    assert_eq!(
        fd.adjustment_factors(&apple(), january_2024())
            .await
            .unwrap_err()
            .kind(),
        "unsupported"
    );
    assert_eq!(
        fd.daily_bars(&moutai, january_2024())
            .await
            .unwrap_err()
            .kind(),
        "unsupported"
    );
    assert_eq!(fd.markets(), [Market::Us]);
    assert_eq!(request_count(&server).await, 0);
}

#[tokio::test]
async fn the_api_key_never_appears_in_errors_or_debug_output() {
    let responses = [
        ResponseTemplate::new(401).set_body_string(format!("invalid key {KEY}")),
        ResponseTemplate::new(429).set_body_string(format!("slow down {KEY}")),
        ResponseTemplate::new(500).set_body_string(format!("crashed on {KEY}")),
        ResponseTemplate::new(400).set_body_string(format!("bad request {KEY}")),
        ResponseTemplate::new(200).set_body_string(format!("not json {KEY}")),
    ];
    for response in responses {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(response)
            .mount(&server)
            .await;
        let fd = source(&server);

        let error = fd.daily_bars(&apple(), january_2024()).await.unwrap_err();

        assert!(!error.to_string().contains(KEY), "{error}");
        assert!(!format!("{error:?}").contains(KEY), "{error:?}");
        assert!(!format!("{fd:?}").contains(KEY));
    }
}
