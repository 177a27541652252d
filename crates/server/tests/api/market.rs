//! The read side on the real demo dataset: bars, adjustment, indicators, search, calendar,
//! and every kind of bad input.

use serde_json::Value;

use crate::helpers::{TestApp, WITH_DEMO};

fn dec(v: &Value) -> f64 {
    v.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn serves_the_real_2012_aapl_bars_from_the_demo_dataset() {
    let app = TestApp::spawn_on(
        stockpilot_db::testing::TestDatabase::sqlite().unwrap(),
        WITH_DEMO,
    )
    .await;
    let (status, body) = app
        .get_json("/api/v1/instruments/AAPL/bars?start=2012-01-01&end=2012-12-31")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["count"], 250);
    assert_eq!(body["as_of"], "2012-12-31");
    assert_eq!(body["provider"], "csv");
    assert_eq!(body["adjust"], "none");
    let first = &body["bars"][0];
    assert_eq!(first["date"], "2012-01-03");
    assert_eq!(
        (
            dec(&first["open"]),
            dec(&first["high"]),
            dec(&first["low"]),
            dec(&first["close"])
        ),
        (409.4, 412.5, 409.0, 411.23)
    );
    assert_eq!(dec(&first["volume"]), 10_793_600.0);
    let last = &body["bars"][249];
    assert_eq!(dec(&last["close"]), 532.1729);
    assert_eq!(
        dec(&last["pre_close"]),
        509.5892,
        "previous close derived from the prior row"
    );

    // Forward: price × factor(day) / newest factor; factor = Adj Close / Close (8 dp).
    let (_, fwd) = app
        .get_json("/api/v1/instruments/AAPL/bars?start=2012-12-31&end=2012-12-31&adjust=forward")
        .await;
    assert_eq!(dec(&fwd["bars"][0]["close"]), 529.177889);
    let (_, back) = app
        .get_json("/api/v1/instruments/AAPL/bars?start=2012-12-31&end=2012-12-31&adjust=backward")
        .await;
    assert_eq!(dec(&back["bars"][0]["close"]), 69.009792);

    // Without a range: the year up to the newest stored bar.
    let (_, latest) = app.get_json("/api/v1/instruments/AAPL/bars").await;
    assert_eq!(
        (latest["end"].as_str(), latest["as_of"].as_str()),
        (Some("2013-03-01"), Some("2013-03-01"))
    );
    assert_eq!(latest["start"], "2012-03-01");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn indicators_match_values_computed_by_hand() {
    let app = TestApp::spawn_on(
        stockpilot_db::testing::TestDatabase::sqlite().unwrap(),
        WITH_DEMO,
    )
    .await;
    let (status, body) = app
        .get_json(
            "/api/v1/instruments/AAPL/indicators?start=2012-12-31&end=2012-12-31&set=sma:3,rsi:14",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["dates"], serde_json::json!(["2012-12-31"]));
    let sma = body["columns"][0]["values"][0].as_f64().unwrap();
    // Closes of 2012-12-27, 28 and 31.
    assert!(
        (sma - (515.06 + 509.5892 + 532.1729) / 3.0).abs() < 1e-9,
        "{sma}"
    );
    assert_eq!(body["columns"][0]["name"], "sma:3");
    assert_eq!(body["columns"][1]["name"], "rsi:14");
    let rsi = body["columns"][1]["values"][0].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&rsi));

    let (status, body) = app
        .get_json("/api/v1/instruments/AAPL/indicators?set=sma:0")
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["details"][0]["field"], "set");
    let (_, body) = app
        .get_json("/api/v1/instruments/AAPL/indicators?set=foo:3")
        .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown indicator 'foo'"),
        "{body}"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn searches_instruments_and_reports_the_trading_calendar() {
    let app = TestApp::spawn_on(
        stockpilot_db::testing::TestDatabase::sqlite().unwrap(),
        WITH_DEMO,
    )
    .await;
    let (_, all) = app
        .get_json("/api/v1/instruments?market=US&page_size=2")
        .await;
    assert_eq!(all["total"], 5);
    let symbols: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(symbols, ["AAPL", "FB"]);
    let (_, page2) = app
        .get_json("/api/v1/instruments?market=US&page_size=2&page=2")
        .await;
    assert_eq!(page2["items"][0]["symbol"], "GOOG");
    let (_, found) = app.get_json("/api/v1/instruments?q=msf").await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["symbol"], "MSFT");
    let (_, none) = app.get_json("/api/v1/instruments?market=CN").await;
    assert_eq!(none["total"], 0);

    let (_, one) = app.get_json("/api/v1/instruments/IBM").await;
    assert_eq!(
        (one["exchange"].as_str(), one["currency"].as_str()),
        (Some("US"), Some("USD"))
    );

    let (status, cal) = app
        .get_json("/api/v1/calendar/SSE?start=2024-01-01&end=2024-01-31")
        .await;
    assert_eq!(status, 200);
    assert_eq!(cal["open_days"], 22);
    assert_eq!(
        (cal["as_of"].as_str(), cal["provider"].as_str()),
        (Some("2024-01-31"), Some("demo"))
    );
    assert_eq!(cal["days"][0]["date"], "2024-01-02");
    assert_eq!(cal["days"][0]["pretrade_date"], "2023-12-29");
    let (_, us) = app
        .get_json("/api/v1/calendar/US?start=2013-02-25&end=2013-03-03")
        .await;
    assert_eq!(
        us["open_days"], 5,
        "the US calendar comes from the demo bars' dates"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn bad_input_gets_a_4xx_naming_the_field_and_what_is_allowed() {
    let app = TestApp::spawn_on(
        stockpilot_db::testing::TestDatabase::sqlite().unwrap(),
        &[
            ("STOCKPILOT_API__MAX_RANGE_DAYS", "400"),
            ("STOCKPILOT_SYNC__POLL_INTERVAL_MS", "20"),
        ],
    )
    .await;
    let cases: &[(&str, u16, &str, &str)] = &[
        (
            "/api/v1/instruments/ZZZZ/bars",
            404,
            "",
            "instrument ZZZZ is not known",
        ),
        (
            "/api/v1/instruments/600519.SH",
            404,
            "",
            "instrument 600519.SH is not known",
        ),
        (
            "/api/v1/instruments/60051.SH",
            422,
            "symbol",
            "not a valid A-share symbol: expected 6 digits and .SH, .SZ or .BJ",
        ),
        (
            "/api/v1/instruments/aapl/bars",
            422,
            "symbol",
            "not a valid US symbol",
        ),
        (
            "/api/v1/instruments/AAPL/bars?start=2013-01-01&end=2012-01-01",
            422,
            "start",
            "is after end date",
        ),
        (
            "/api/v1/instruments/AAPL/bars?start=2010-01-01&end=2012-01-01",
            422,
            "end",
            "400",
        ),
        (
            "/api/v1/instruments/AAPL/bars?start=2012-02-30",
            422,
            "start",
            "expected YYYY-MM-DD",
        ),
        (
            "/api/v1/instruments/AAPL/bars?adjust=split",
            422,
            "adjust",
            "none, forward, backward",
        ),
        (
            "/api/v1/instruments?page_size=501",
            422,
            "page_size",
            "between 1 and 500",
        ),
        ("/api/v1/instruments?market=HK", 422, "market", "CN, US"),
        (
            "/api/v1/instruments/AAPL/financials?statement=profit",
            422,
            "statement",
            "indicators",
        ),
        (
            "/api/v1/instruments/AAPL/financials?period=weekly",
            422,
            "period",
            "annual",
        ),
        ("/api/v1/calendar/LSE", 422, "exchange", "SSE"),
        ("/api/v1/sync/jobs?status=done", 422, "status", "queued"),
    ];
    for (path, want, field, fragment) in cases {
        let (status, body) = app.get_json(path).await;
        assert_eq!(status, *want, "{path}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(fragment), "{path}: {message}");
        if !field.is_empty() {
            assert_eq!(
                body["error"]["details"][0]["field"], *field,
                "{path}: {body}"
            );
        }
    }
    app.stop().await.unwrap();
}
