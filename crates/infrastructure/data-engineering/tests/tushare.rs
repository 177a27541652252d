//! The Tushare adapter against a wiremock server replaying Tushare Pro's documented shapes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;
use std::time::Duration;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use secrecy::SecretString;
use serde_json::{Value, json};
use stockpilot_application::ports::{MarketDataSource, SourceError};
use stockpilot_data_engineering::{
    RetrySettings, ThrottleSettings, TushareSettings, TushareSource,
};
use stockpilot_domain::market::{
    DateRange, Exchange, ListingStatus, Market, ReportPeriod, StatementKind, Symbol,
};
use wiremock::matchers::{body_partial_json, method};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

const TOKEN: &str = "tushare-secret-token-0123456789";

fn settings(server: &MockServer) -> TushareSettings {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut settings = TushareSettings::new(SecretString::from(TOKEN));
    settings.base_url = server.uri();
    settings.timeout = Duration::from_secs(5);
    settings.throttle = ThrottleSettings::unlimited();
    settings.retry = RetrySettings {
        max_retries: 2,
        base_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        jitter_seed: 1,
    };
    settings.rate_limit_wait = Duration::from_millis(5);
    settings
}

fn source(server: &MockServer) -> TushareSource {
    TushareSource::new(settings(server)).unwrap()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn range(from: (i32, u32, u32), to: (i32, u32, u32)) -> DateRange {
    DateRange::new(day(from.0, from.1, from.2), day(to.0, to.1, to.2), None).unwrap()
}

fn moutai() -> Symbol {
    Symbol::parse("600519.SH").unwrap()
}

fn table(fields: &[&str], items: Value, has_more: Option<bool>) -> ResponseTemplate {
    let mut data = json!({ "fields": fields, "items": items });
    if let Some(more) = has_more {
        data["has_more"] = json!(more);
    }
    ResponseTemplate::new(200).set_body_json(json!({
        "request_id": "req-1", "code": 0, "msg": "", "data": data
    }))
}

fn business_error(code: i64, msg: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "request_id": "req-2", "code": code, "msg": msg, "data": null
    }))
}

fn api(name: &str) -> MockBuilder {
    Mock::given(method("POST")).and(body_partial_json(json!({ "api_name": name })))
}

async fn bodies(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.body_json::<Value>().unwrap())
        .collect()
}

const DAILY_FIELDS: [&str; 11] = [
    "ts_code",
    "trade_date",
    "open",
    "high",
    "low",
    "close",
    "pre_close",
    "change",
    "pct_chg",
    "vol",
    "amount",
];

fn daily_row(date: &str, close: f64) -> Value {
    json!([
        "600519.SH",
        date,
        1700.0,
        1720.5,
        1690.0,
        close,
        1700.0,
        close - 1700.0,
        0.5,
        100,
        200
    ])
}

#[tokio::test]
async fn decodes_daily_rows_by_field_name_and_converts_lots_and_thousands() {
    let server = MockServer::start().await;
    // Fields in an unusual order, newest row first, numbers as strings and as numbers.
    let fields = [
        "amount",
        "vol",
        "pct_chg",
        "change",
        "pre_close",
        "close",
        "low",
        "high",
        "open",
        "trade_date",
        "ts_code",
    ];
    api("daily")
        .respond_with(table(
            &fields,
            json!([
                [
                    "3456789.123",
                    20345.67,
                    1.2345,
                    21.0,
                    1701.0,
                    1722.0,
                    1698.8,
                    1725.0,
                    "1700.00",
                    "20240103",
                    "600519.SH"
                ],
                [
                    2000000.5,
                    "18000",
                    -0.5,
                    -8.55,
                    1709.55,
                    1701.0,
                    1690.01,
                    1712.0,
                    1709.0,
                    "20240102",
                    "600519.SH"
                ]
            ]),
            Some(false),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let bars = source(&server)
        .daily_bars(&moutai(), range((2024, 1, 1), (2024, 1, 31)))
        .await
        .unwrap();

    assert_eq!(bars.len(), 2);
    let (first, second) = (&bars[0], &bars[1]);
    assert_eq!(first.trade_date, day(2024, 1, 2));
    assert_eq!(first.open, dec("1709"));
    assert_eq!(first.low, dec("1690.01"));
    assert_eq!(first.volume, dec("1800000"), "18000 lots are 1.8 M shares");
    assert_eq!(first.amount, Some(dec("2000000500")), "thousand CNY to CNY");
    assert_eq!(first.pct_change, Some(dec("-0.5")));
    assert_eq!(second.trade_date, day(2024, 1, 3));
    assert_eq!(second.open, dec("1700.00"));
    assert_eq!(second.close, dec("1722"));
    assert_eq!(second.pre_close, Some(dec("1701")));
    assert_eq!(second.change, Some(dec("21")));
    assert_eq!(second.pct_change, Some(dec("1.2345")));
    assert_eq!(second.volume, dec("2034567"));
    assert_eq!(second.amount, Some(dec("3456789123")));

    let sent = &bodies(&server).await[0];
    assert_eq!(sent["api_name"], "daily");
    assert_eq!(sent["token"], TOKEN);
    assert_eq!(sent["params"]["ts_code"], "600519.SH");
    assert_eq!(sent["params"]["start_date"], "20240101");
    assert_eq!(sent["params"]["end_date"], "20240131");
    assert_eq!(sent["fields"], DAILY_FIELDS.join(","));
}

#[tokio::test]
async fn pages_with_limit_and_offset_while_has_more_is_true() {
    let server = MockServer::start().await;
    api("daily")
        .and(body_partial_json(json!({ "params": { "offset": 0 } })))
        .respond_with(table(
            &DAILY_FIELDS,
            json!([daily_row("20240104", 1710.0), daily_row("20240103", 1705.0)]),
            Some(true),
        ))
        .expect(1)
        .mount(&server)
        .await;
    api("daily")
        .and(body_partial_json(json!({ "params": { "offset": 2 } })))
        .respond_with(table(
            &DAILY_FIELDS,
            json!([daily_row("20240102", 1700.0)]),
            Some(false),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let mut settings = settings(&server);
    settings.page_size = 2;

    let bars = TushareSource::new(settings)
        .unwrap()
        .daily_bars(&moutai(), range((2024, 1, 1), (2024, 1, 31)))
        .await
        .unwrap();

    let dates: Vec<_> = bars.iter().map(|b| b.trade_date).collect();
    assert_eq!(dates, [day(2024, 1, 2), day(2024, 1, 3), day(2024, 1, 4)]);
    assert_eq!(bars[0].volume, dec("10000"));
    assert_eq!(bars[0].amount, Some(dec("200000")));
    let paging: Vec<_> = bodies(&server)
        .await
        .iter()
        .map(|b| (b["params"]["limit"].clone(), b["params"]["offset"].clone()))
        .collect();
    assert_eq!(paging, [(json!(2), json!(0)), (json!(2), json!(2))]);
}

#[tokio::test]
async fn without_has_more_keeps_paging_while_pages_come_back_full() {
    let server = MockServer::start().await;
    api("adj_factor")
        .and(body_partial_json(json!({ "params": { "offset": 0 } })))
        .respond_with(table(
            &["ts_code", "trade_date", "adj_factor"],
            json!([
                ["600519.SH", "20240103", 8.2],
                ["600519.SH", "20240102", "8.1"]
            ]),
            None,
        ))
        .mount(&server)
        .await;
    api("adj_factor")
        .and(body_partial_json(json!({ "params": { "offset": 2 } })))
        .respond_with(table(
            &["ts_code", "trade_date", "adj_factor"],
            json!([["600519.SH", "20240101", 8.0]]),
            None,
        ))
        .mount(&server)
        .await;
    let mut settings = settings(&server);
    settings.page_size = 2;

    let factors = TushareSource::new(settings)
        .unwrap()
        .adjustment_factors(&moutai(), range((2024, 1, 1), (2024, 1, 31)))
        .await
        .unwrap();

    let values: Vec<_> = factors.iter().map(|f| (f.trade_date, f.factor)).collect();
    assert_eq!(
        values,
        [
            (day(2024, 1, 1), dec("8.0")),
            (day(2024, 1, 2), dec("8.1")),
            (day(2024, 1, 3), dec("8.2")),
        ]
    );
    assert_eq!(bodies(&server).await.len(), 2);
}

#[tokio::test]
async fn a_bad_token_is_an_auth_error_after_exactly_one_request() {
    let server = MockServer::start().await;
    api("daily")
        .respond_with(business_error(40101, "您的token不对，请确认。"))
        .expect(1)
        .mount(&server)
        .await;

    let error = source(&server)
        .daily_bars(&moutai(), range((2024, 1, 1), (2024, 1, 31)))
        .await
        .unwrap_err();

    assert!(
        matches!(
            error,
            SourceError::Auth {
                provider: "tushare",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("TUSHARE_TOKEN"));
    assert!(!error.retryable());
    assert_eq!(bodies(&server).await.len(), 1);
}

#[tokio::test]
async fn a_missing_points_tier_is_a_permission_error_without_retry() {
    let server = MockServer::start().await;
    api("daily_basic")
        .respond_with(business_error(
            40203,
            "抱歉，您没有访问该接口的权限，权限的具体详情访问：https://tushare.pro/document/1?doc_id=108。",
        ))
        .expect(1)
        .mount(&server)
        .await;

    let error = source(&server)
        .daily_valuations(&moutai(), range((2024, 1, 1), (2024, 1, 31)))
        .await
        .unwrap_err();

    assert_eq!(error.kind(), "permission");
}

#[tokio::test]
async fn a_per_minute_limit_waits_and_then_returns_the_data() {
    let server = MockServer::start().await;
    api("daily")
        .respond_with(business_error(
            40203,
            "抱歉，您每分钟最多访问该接口500次，权限的具体详情访问：https://tushare.pro/document/1?doc_id=108。",
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    api("daily")
        .respond_with(table(
            &DAILY_FIELDS,
            json!([daily_row("20240102", 1701.5)]),
            Some(false),
        ))
        .mount(&server)
        .await;

    let bars = source(&server)
        .daily_bars(&moutai(), range((2024, 1, 1), (2024, 1, 31)))
        .await
        .unwrap();

    assert_eq!(bars.len(), 1);
    assert_eq!(bars[0].close, dec("1701.5"));
    assert_eq!(bodies(&server).await.len(), 2);
}

#[tokio::test]
async fn a_per_minute_limit_that_persists_becomes_rate_limited_after_the_retries() {
    let server = MockServer::start().await;
    api("daily")
        .respond_with(business_error(40203, "抱歉，您每小时最多访问该接口10次"))
        .mount(&server)
        .await;

    let error = source(&server)
        .daily_bars(&moutai(), range((2024, 1, 1), (2024, 1, 31)))
        .await
        .unwrap_err();

    match error {
        SourceError::RateLimited { retry_after, .. } => {
            assert_eq!(retry_after, Duration::from_millis(5));
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(
        bodies(&server).await.len(),
        3,
        "first attempt and two retries"
    );
}

#[tokio::test]
async fn a_daily_quota_is_exhausted_without_retry() {
    let server = MockServer::start().await;
    api("daily")
        .respond_with(business_error(40203, "抱歉，您每天最多访问该接口20000次"))
        .expect(1)
        .mount(&server)
        .await;

    let error = source(&server)
        .daily_bars(&moutai(), range((2024, 1, 1), (2024, 1, 31)))
        .await
        .unwrap_err();

    assert_eq!(error.kind(), "quota_exhausted");
    assert_eq!(bodies(&server).await.len(), 1);
}

#[tokio::test]
async fn malformed_payloads_are_reported_not_panicked_on() {
    let cases: Vec<(ResponseTemplate, &str)> = vec![
        (
            ResponseTemplate::new(200).set_body_string("<html>gateway</html>"),
            "not the documented JSON envelope",
        ),
        (
            ResponseTemplate::new(200).set_body_json(json!({"code": 0, "msg": "", "data": null})),
            "'data' is missing",
        ),
        (
            ResponseTemplate::new(200).set_body_json(json!({"code": 0, "data": {"items": []}})),
            "'data' is not {fields, items}",
        ),
        (
            table(
                &DAILY_FIELDS,
                json!([["600519.SH", "20240102", 1.0]]),
                Some(false),
            ),
            "row 1 has 3 cells for 11 fields",
        ),
        (
            table(
                &DAILY_FIELDS,
                json!([[
                    "600519.SH",
                    "20240102",
                    1.0,
                    2.0,
                    0.5,
                    "n/a",
                    null,
                    null,
                    null,
                    1,
                    1
                ]]),
                Some(false),
            ),
            "daily row 1, column 'close': 'n/a' is not a number",
        ),
        (
            table(
                &DAILY_FIELDS,
                json!([[
                    "600519.SH",
                    "2024-13-45",
                    1.0,
                    2.0,
                    0.5,
                    1.5,
                    null,
                    null,
                    null,
                    1,
                    1
                ]]),
                Some(false),
            ),
            "column 'trade_date'",
        ),
        (
            table(
                &DAILY_FIELDS,
                json!([[
                    "600519.SH",
                    "20240102",
                    1.0,
                    0.5,
                    2.0,
                    1.0,
                    null,
                    null,
                    null,
                    1,
                    1
                ]]),
                Some(false),
            ),
            "high 0.5 is below low 2.0",
        ),
    ];
    for (response, expected) in cases {
        let server = MockServer::start().await;
        api("daily").respond_with(response).mount(&server).await;

        let error = source(&server)
            .daily_bars(&moutai(), range((2024, 1, 1), (2024, 1, 31)))
            .await
            .unwrap_err();

        assert_eq!(error.kind(), "malformed", "{error}");
        assert!(
            error.to_string().contains(expected),
            "{error} lacks {expected}"
        );
        assert_eq!(bodies(&server).await.len(), 1, "malformed is not retried");
    }
}

#[tokio::test]
async fn an_http_500_is_retried_and_then_succeeds() {
    let server = MockServer::start().await;
    api("daily")
        .respond_with(ResponseTemplate::new(500).set_body_string("upstream error"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    api("daily")
        .respond_with(table(
            &DAILY_FIELDS,
            json!([daily_row("20240102", 1705.0)]),
            Some(false),
        ))
        .mount(&server)
        .await;

    let bars = source(&server)
        .daily_bars(&moutai(), range((2024, 1, 1), (2024, 1, 31)))
        .await
        .unwrap();

    assert_eq!(bars[0].close, dec("1705"));
    assert_eq!(bodies(&server).await.len(), 2);
}

#[tokio::test]
async fn http_500s_that_persist_are_transient() {
    let server = MockServer::start().await;
    api("daily")
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;

    let error = source(&server)
        .daily_bars(&moutai(), range((2024, 1, 1), (2024, 1, 31)))
        .await
        .unwrap_err();

    assert_eq!(error.kind(), "transient");
    assert!(error.to_string().contains("HTTP 503"));
    assert_eq!(bodies(&server).await.len(), 3);
}

#[tokio::test]
async fn a_timeout_is_transient() {
    let server = MockServer::start().await;
    api("daily")
        .respond_with(
            table(&DAILY_FIELDS, json!([]), Some(false)).set_delay(Duration::from_millis(500)),
        )
        .mount(&server)
        .await;
    let mut settings = settings(&server);
    settings.timeout = Duration::from_millis(50);
    settings.retry.max_retries = 0;

    let error = TushareSource::new(settings)
        .unwrap()
        .daily_bars(&moutai(), range((2024, 1, 1), (2024, 1, 31)))
        .await
        .unwrap_err();

    assert_eq!(error.kind(), "transient");
    assert!(error.to_string().contains("timed out"), "{error}");
}

#[tokio::test]
async fn lists_listed_delisted_and_paused_instruments() {
    let server = MockServer::start().await;
    let fields = [
        "ts_code",
        "name",
        "area",
        "industry",
        "market",
        "exchange",
        "curr_type",
        "list_status",
        "list_date",
        "delist_date",
    ];
    api("stock_basic")
        .and(body_partial_json(
            json!({ "params": { "list_status": "L" } }),
        ))
        .respond_with(table(
            &fields,
            json!([
                [
                    "600519.SH",
                    "贵州茅台",
                    "贵州",
                    "白酒",
                    "主板",
                    "SSE",
                    "CNY",
                    "L",
                    "20010827",
                    null
                ],
                [
                    "430047.BJ",
                    "诺思兰德",
                    "北京",
                    "生物制药",
                    "北交所",
                    "BSE",
                    "CNY",
                    "L",
                    "20201120",
                    null
                ],
                [
                    "000001.XX",
                    "odd venue",
                    null,
                    null,
                    null,
                    null,
                    "CNY",
                    "L",
                    "20000101",
                    null
                ]
            ]),
            Some(false),
        ))
        .expect(1)
        .mount(&server)
        .await;
    api("stock_basic")
        .and(body_partial_json(
            json!({ "params": { "list_status": "D" } }),
        ))
        .respond_with(table(
            &fields,
            json!([[
                "000003.SZ",
                "PT金田A",
                "深圳",
                null,
                "主板",
                "SZSE",
                "CNY",
                "D",
                "19910703",
                "20020614"
            ]]),
            Some(false),
        ))
        .expect(1)
        .mount(&server)
        .await;
    api("stock_basic")
        .and(body_partial_json(
            json!({ "params": { "list_status": "P" } }),
        ))
        .respond_with(table(&fields, json!([]), Some(false)))
        .expect(1)
        .mount(&server)
        .await;

    let instruments = source(&server).instruments(Market::Cn).await.unwrap();

    let symbols: Vec<_> = instruments.iter().map(|i| i.symbol.as_str()).collect();
    assert_eq!(
        symbols,
        ["000003.SZ", "430047.BJ", "600519.SH"],
        "unknown suffix skipped"
    );
    let moutai = &instruments[2];
    assert_eq!(moutai.name, "贵州茅台");
    assert_eq!(moutai.exchange, Exchange::Sse);
    assert_eq!(moutai.currency, "CNY");
    assert_eq!(moutai.industry.as_deref(), Some("白酒"));
    assert_eq!(moutai.area.as_deref(), Some("贵州"));
    assert_eq!(moutai.list_date, Some(day(2001, 8, 27)));
    assert_eq!(instruments[1].exchange, Exchange::Bse);
    let delisted = &instruments[0];
    assert_eq!(delisted.status, ListingStatus::Delisted);
    assert_eq!(delisted.exchange, Exchange::Szse);
    assert_eq!(delisted.delist_date, Some(day(2002, 6, 14)));
}

#[tokio::test]
async fn us_markets_and_symbols_are_unsupported_without_a_request() {
    let server = MockServer::start().await;
    let tushare = source(&server);
    let apple = Symbol::parse("AAPL").unwrap();
    let whole_2024 = range((2024, 1, 1), (2024, 12, 31));

    assert_eq!(
        tushare.instruments(Market::Us).await.unwrap_err().kind(),
        "unsupported"
    );
    assert_eq!(
        tushare
            .daily_bars(&apple, whole_2024)
            .await
            .unwrap_err()
            .kind(),
        "unsupported"
    );
    assert_eq!(
        tushare
            .trading_calendar(Exchange::Us, whole_2024)
            .await
            .unwrap_err()
            .kind(),
        "unsupported"
    );
    let ttm = tushare
        .financial_statements(
            &moutai(),
            StatementKind::Income,
            ReportPeriod::Ttm,
            whole_2024,
        )
        .await
        .unwrap_err();
    assert_eq!(
        ttm.to_string(),
        "tushare does not provide ttm financial statements"
    );
    assert_eq!(tushare.markets(), [Market::Cn]);
    assert_eq!(tushare.provider(), "tushare");
    assert!(bodies(&server).await.is_empty());
}

#[tokio::test]
async fn reads_the_trading_calendar_of_one_exchange_in_date_order() {
    let server = MockServer::start().await;
    api("trade_cal")
        .and(body_partial_json(
            json!({ "params": { "exchange": "SZSE" } }),
        ))
        .respond_with(table(
            &["exchange", "cal_date", "is_open", "pretrade_date"],
            json!([
                ["SZSE", "20240103", 1, "20240102"],
                ["SZSE", "20240102", "1", "20231229"],
                ["SZSE", "20240101", 0, "20231229"]
            ]),
            Some(false),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let days = source(&server)
        .trading_calendar(Exchange::Szse, range((2024, 1, 1), (2024, 1, 3)))
        .await
        .unwrap();

    let open: Vec<_> = days
        .iter()
        .map(|d| (d.date, d.is_open, d.pretrade_date))
        .collect();
    assert_eq!(
        open,
        [
            (day(2024, 1, 1), false, Some(day(2023, 12, 29))),
            (day(2024, 1, 2), true, Some(day(2023, 12, 29))),
            (day(2024, 1, 3), true, Some(day(2024, 1, 2))),
        ]
    );
    assert!(days.iter().all(|d| d.exchange == Exchange::Szse));
}

#[tokio::test]
async fn daily_basic_share_counts_and_caps_become_shares_and_cny() {
    let server = MockServer::start().await;
    api("daily_basic")
        .respond_with(table(
            &[
                "ts_code",
                "trade_date",
                "turnover_rate",
                "pe",
                "pe_ttm",
                "pb",
                "ps",
                "ps_ttm",
                "dv_ratio",
                "dv_ttm",
                "total_share",
                "float_share",
                "total_mv",
                "circ_mv",
            ],
            json!([[
                "600519.SH",
                "20240102",
                0.2345,
                30.1,
                28.7,
                9.5,
                14.2,
                13.9,
                1.5,
                1.62,
                125619.78,
                "125619.78",
                21450000.5,
                21450000.5
            ]]),
            Some(false),
        ))
        .mount(&server)
        .await;

    let valuations = source(&server)
        .daily_valuations(&moutai(), range((2024, 1, 1), (2024, 1, 31)))
        .await
        .unwrap();

    let v = &valuations[0];
    assert_eq!(v.trade_date, day(2024, 1, 2));
    assert_eq!(v.total_shares, Some(dec("1256197800")));
    assert_eq!(v.float_shares, Some(dec("1256197800")));
    assert_eq!(v.total_market_cap, Some(dec("214500005000")));
    assert_eq!(v.float_market_cap, Some(dec("214500005000")));
    assert_eq!(v.turnover_rate, Some(dec("0.2345")), "percent, unchanged");
    assert_eq!(v.dividend_yield, Some(dec("1.62")), "dv_ttm, percent");
    assert_eq!(v.pe, Some(dec("30.1")));
    assert_eq!(v.pe_ttm, Some(dec("28.7")));
    assert_eq!(v.ps_ttm, Some(dec("13.9")));
}

#[tokio::test]
async fn income_statements_keep_the_latest_version_of_each_annual_report() {
    let server = MockServer::start().await;
    let fields = [
        "ts_code",
        "ann_date",
        "f_ann_date",
        "end_date",
        "report_type",
        "comp_type",
        "total_revenue",
        "revenue",
        "oper_cost",
        "operate_profit",
        "n_income",
        "n_income_attr_p",
        "basic_eps",
        "diluted_eps",
        "ebit",
        "ebitda",
        "rd_exp",
        "update_flag",
    ];
    api("income")
        .respond_with(table(
            &fields,
            json!([
                [
                    "600519.SH",
                    "20240403",
                    "20240403",
                    "20231231",
                    "1",
                    "1",
                    150560330316.45,
                    147693604994.14,
                    11867273851.78,
                    103932000000.0,
                    77520000000.0,
                    74734071550.75,
                    59.49,
                    59.49,
                    103000000000.0,
                    null,
                    157300000.0,
                    "1"
                ],
                [
                    "600519.SH",
                    "20240403",
                    "20240402",
                    "20231231",
                    "1",
                    "1",
                    150000000000.0,
                    147000000000.0,
                    11800000000.0,
                    103000000000.0,
                    77000000000.0,
                    74000000000.0,
                    59.0,
                    59.0,
                    null,
                    null,
                    null,
                    "0"
                ],
                [
                    "600519.SH",
                    "20231021",
                    "20231021",
                    "20230930",
                    "1",
                    "1",
                    105000000000.0,
                    null,
                    null,
                    null,
                    null,
                    52876000000.0,
                    42.09,
                    42.09,
                    null,
                    null,
                    null,
                    "0"
                ],
                [
                    "600519.SH",
                    "20230329",
                    "20230329",
                    "20221231",
                    "1",
                    "1",
                    127553959355.39,
                    null,
                    null,
                    null,
                    null,
                    62716443738.27,
                    49.93,
                    49.93,
                    null,
                    null,
                    null,
                    "0"
                ]
            ]),
            Some(false),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let statements = source(&server)
        .financial_statements(
            &moutai(),
            StatementKind::Income,
            ReportPeriod::Annual,
            range((2023, 1, 1), (2023, 12, 31)),
        )
        .await
        .unwrap();

    assert_eq!(
        statements.len(),
        1,
        "2022 is outside the range, Q3 is not annual"
    );
    let annual = &statements[0];
    assert_eq!(annual.report_date, day(2023, 12, 31));
    assert_eq!(annual.period, ReportPeriod::Annual);
    assert_eq!(annual.announced_date, Some(day(2024, 4, 3)));
    assert_eq!(annual.currency, "CNY");
    assert_eq!(annual.items.revenue, Some(dec("150560330316.45")));
    assert_eq!(annual.items.cost_of_revenue, Some(dec("11867273851.78")));
    assert_eq!(annual.items.net_income, Some(dec("74734071550.75")));
    assert_eq!(annual.items.eps_basic, Some(dec("59.49")));
    assert_eq!(
        annual.items.research_and_development,
        Some(dec("157300000"))
    );
    assert_eq!(annual.items.ebitda, None);
    let raw: Value = serde_json::from_str(&annual.raw).unwrap();
    assert_eq!(raw["update_flag"], "1");
    assert_eq!(raw["revenue"], json!(147693604994.14));

    let sent = &bodies(&server).await[0];
    assert_eq!(sent["fields"], "", "default columns, all kept in raw");
    assert_eq!(sent["params"]["report_type"], "1");
    assert_eq!(sent["params"]["start_date"], "20230101");
    assert!(
        sent["params"].get("end_date").is_none(),
        "end_date would filter announcements"
    );
}

#[tokio::test]
async fn quarterly_balance_sheets_sum_the_debt_and_cash_flows_derive_free_cash_flow() {
    let server = MockServer::start().await;
    api("balancesheet")
        .respond_with(table(
            &[
                "ts_code",
                "ann_date",
                "end_date",
                "report_type",
                "total_assets",
                "total_liab",
                "total_cur_assets",
                "total_cur_liab",
                "money_cap",
                "inventories",
                "st_borr",
                "lt_borr",
                "bond_payable",
                "total_hldr_eqy_exc_min_int",
            ],
            json!([
                [
                    "600519.SH",
                    "20240426",
                    "20240331",
                    "1",
                    1000.0,
                    300.0,
                    800.0,
                    250.0,
                    500.0,
                    40.0,
                    10.0,
                    20.5,
                    null,
                    650.0
                ],
                [
                    "600519.SH",
                    "20240403",
                    "20231231",
                    "1",
                    990.0,
                    290.0,
                    790.0,
                    240.0,
                    490.0,
                    39.0,
                    null,
                    null,
                    null,
                    640.0
                ]
            ]),
            Some(false),
        ))
        .mount(&server)
        .await;
    api("cashflow")
        .respond_with(table(
            &[
                "ts_code",
                "ann_date",
                "end_date",
                "report_type",
                "n_cashflow_act",
                "n_cashflow_inv_act",
                "n_cash_flows_fnc_act",
                "c_pay_acq_const_fiolta",
                "free_cashflow",
                "depr_fa_coga_dpba",
                "amort_intang_assets",
            ],
            json!([[
                "600519.SH",
                "20240426",
                "20240331",
                "1",
                120.0,
                -30.0,
                -5.0,
                25.0,
                99.0,
                7.0,
                1.5
            ]]),
            Some(false),
        ))
        .mount(&server)
        .await;
    let tushare = source(&server);
    let first_half = range((2024, 1, 1), (2024, 6, 30));

    let balance = tushare
        .financial_statements(
            &moutai(),
            StatementKind::Balance,
            ReportPeriod::Quarterly,
            first_half,
        )
        .await
        .unwrap();
    let cash = tushare
        .financial_statements(
            &moutai(),
            StatementKind::CashFlow,
            ReportPeriod::Quarterly,
            first_half,
        )
        .await
        .unwrap();

    assert_eq!(balance.len(), 1);
    let b = &balance[0].items;
    assert_eq!(balance[0].period, ReportPeriod::Quarterly);
    assert_eq!(
        b.total_debt,
        Some(dec("30.5")),
        "st_borr + lt_borr, bond_payable null"
    );
    assert_eq!(b.total_liabilities, Some(dec("300")));
    assert_eq!(b.cash_and_equivalents, Some(dec("500")));
    assert_eq!(b.shareholders_equity, Some(dec("650")));
    let c = &cash[0].items;
    assert_eq!(c.operating_cash_flow, Some(dec("120")));
    assert_eq!(c.capital_expenditure, Some(dec("25")));
    assert_eq!(
        c.free_cash_flow,
        Some(dec("95")),
        "OCF − capex, not Tushare's FCFF"
    );
    assert_eq!(c.depreciation_and_amortization, Some(dec("8.5")));
}

#[tokio::test]
async fn indicator_percentages_become_fractions_in_pages_of_100() {
    let server = MockServer::start().await;
    api("fina_indicator")
        .respond_with(table(
            &[
                "ts_code",
                "ann_date",
                "end_date",
                "eps",
                "bps",
                "roe",
                "roa",
                "roic",
                "grossprofit_margin",
                "netprofit_margin",
                "op_of_gr",
                "debt_to_assets",
                "current_ratio",
                "quick_ratio",
                "fcff_ps",
                "netprofit_yoy",
                "tr_yoy",
                "or_yoy",
                "update_flag",
            ],
            json!([[
                "600519.SH",
                "20240403",
                "20231231",
                59.49,
                215.6,
                34.19,
                26.3,
                29.1,
                91.96,
                52.49,
                69.0,
                19.04,
                4.68,
                3.79,
                40.1,
                19.16,
                null,
                18.04,
                "0"
            ]]),
            Some(false),
        ))
        .mount(&server)
        .await;

    let indicators = source(&server)
        .financial_indicators(
            &moutai(),
            ReportPeriod::Annual,
            range((2023, 1, 1), (2023, 12, 31)),
        )
        .await
        .unwrap();

    let i = &indicators[0];
    assert_eq!(i.report_date, day(2023, 12, 31));
    assert_eq!(i.roe, Some(dec("0.3419")));
    assert_eq!(i.roa, Some(dec("0.263")));
    assert_eq!(i.gross_margin, Some(dec("0.9196")));
    assert_eq!(i.net_margin, Some(dec("0.5249")));
    assert_eq!(i.operating_margin, Some(dec("0.69")));
    assert_eq!(i.debt_to_assets, Some(dec("0.1904")));
    assert_eq!(
        i.revenue_growth,
        Some(dec("0.1804")),
        "tr_yoy null, or_yoy used"
    );
    assert_eq!(i.earnings_growth, Some(dec("0.1916")));
    assert_eq!(
        i.current_ratio,
        Some(dec("4.68")),
        "a plain ratio, not a percentage"
    );
    assert_eq!(i.eps, Some(dec("59.49")));
    assert_eq!(i.book_value_per_share, Some(dec("215.6")));
    assert_eq!(i.debt_to_equity, None);
    let sent = &bodies(&server).await[0];
    assert_eq!(
        sent["params"]["limit"], 100,
        "fina_indicator returns at most 100 rows"
    );
}

#[tokio::test]
async fn the_token_never_appears_in_errors_or_debug_output() {
    let echoed = format!("参数错误: token {TOKEN} is malformed");
    let responses = [
        business_error(40101, &format!("您的token不对: {TOKEN}")),
        business_error(40203, "抱歉，您没有接口访问权限"),
        business_error(-2001, &echoed),
        ResponseTemplate::new(500).set_body_string(format!("crash while handling {TOKEN}")),
        ResponseTemplate::new(200).set_body_string(format!("not json {TOKEN}")),
    ];
    for response in responses {
        let server = MockServer::start().await;
        api("daily").respond_with(response).mount(&server).await;
        let tushare = source(&server);

        let error = tushare
            .daily_bars(&moutai(), range((2024, 1, 1), (2024, 1, 31)))
            .await
            .unwrap_err();

        assert!(!error.to_string().contains(TOKEN), "{error}");
        assert!(!format!("{error:?}").contains(TOKEN), "{error:?}");
        assert!(!format!("{tushare:?}").contains(TOKEN));
    }
    let settings = TushareSettings::new(SecretString::from(TOKEN));
    assert!(!format!("{settings:?}").contains(TOKEN));
}
