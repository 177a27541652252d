//! Sync jobs over HTTP: queued with 202, run by the background worker, followed to the end;
//! bad requests; a real Tushare-shaped stub behind the configured base URL.

use serde_json::json;
use stockpilot_db::testing::TestDatabase;
use wiremock::matchers::{body_partial_json, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{TestApp, WITH_DEMO};

#[tokio::test]
async fn a_job_is_accepted_run_in_the_background_and_followed_to_the_end() {
    let app = TestApp::spawn_on(
        TestDatabase::sqlite().unwrap(),
        &[
            ("STOCKPILOT_SYNC__POLL_INTERVAL_MS", "20"),
            ("STOCKPILOT_DATA__IMPORT_DEMO", "false"),
        ],
    )
    .await;
    let body = json!({"kind": "daily_history", "symbols": ["AAPL", "MSFT"], "start": "2012-01-01", "end": "2012-12-31", "batch_size": 1});
    let (status, headers, job) = app.post_json("/api/v1/sync/jobs", &body).await;
    assert_eq!(status, 202, "{job}");
    let id = job["id"].as_str().unwrap();
    assert_eq!(headers["location"], format!("/api/v1/sync/jobs/{id}"));
    assert_eq!(
        (
            job["status"].as_str(),
            job["total"].as_u64(),
            job["provider"].as_str()
        ),
        (Some("queued"), Some(2), Some("csv"))
    );

    let done = app.wait_for_job(id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(
        (done["cursor"].as_u64(), done["rows_written"].as_u64()),
        (Some(2), Some(500))
    );
    let (_, bars) = app
        .get_json("/api/v1/instruments/MSFT/bars?start=2012-01-01&end=2012-12-31")
        .await;
    assert_eq!(
        bars["count"], 250,
        "bars are served even before the instrument row is synced"
    );
    let (status, _) = app.get_json("/api/v1/instruments/MSFT").await;
    assert_eq!(status, 404, "the instrument itself is still unknown");

    let (_, list) = app.get_json("/api/v1/sync/jobs?status=succeeded").await;
    assert_eq!(list["total"], 1);
    let (_, failures) = app.get_json("/api/v1/sync/failures").await;
    assert_eq!(failures["total"], 0);
    let (status, _, retry) = app
        .post_json("/api/v1/sync/failures/retry", &json!({"market": "US"}))
        .await;
    assert_eq!(status, 202);
    assert_eq!(retry["jobs"][0]["total"], 0);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn bad_job_requests_are_rejected_with_the_field_named() {
    let app = TestApp::spawn_on(
        TestDatabase::sqlite().unwrap(),
        &[("STOCKPILOT_SYNC__WORKERS", "0")],
    )
    .await;
    let cases = [
        (
            json!({"kind": "weekly"}),
            422,
            "unknown job kind 'weekly'; allowed: instruments, calendar",
        ),
        (
            json!({"kind": "daily_history", "symbols": ["AAPL", "msft"]}),
            422,
            "symbols[1]: 'msft' is not a valid US symbol",
        ),
        (
            json!({"kind": "daily_history", "symbols": ["AAPL", "600519.SH"]}),
            422,
            "600519.SH is not a US symbol",
        ),
        (json!({"kind": "instruments"}), 422, "market: is required"),
        (
            json!({"kind": "daily_history", "symbols": ["AAPL"], "start": "2013-01-01", "end": "2012-01-01"}),
            422,
            "is after end date",
        ),
        (
            json!({"kind": "daily_history", "symbols": ["AAPL"], "start": "2999-01-01"}),
            422,
            "start: 2999-01-01 is after the end of the range (end is unset, so today, ",
        ),
        (
            json!({"kind": "valuations", "symbols": ["AAPL"]}),
            422,
            "kind: the csv provider does not provide valuations (needed by a valuations job); it provides: instruments, calendar, daily_bars, adjustment_factors",
        ),
        (
            json!({"kind": "news", "market": "US", "provider": "csv"}),
            422,
            "the csv provider does not provide news",
        ),
        (
            json!({"kind": "daily_history", "symbols": ["AAPL"], "batch_size": 0}),
            422,
            "batch_size: must be between 1 and 1000",
        ),
        (
            json!({"kind": "daily_history", "symbols": ["AAPL"], "provider": "bloomberg"}),
            422,
            "provider 'bloomberg' is not configured",
        ),
        (
            json!({"kind": "daily_history", "market": "CN"}),
            409,
            "set TUSHARE_TOKEN",
        ),
        (
            json!({"kind": "daily_history", "colour": "red"}),
            422,
            "unknown field `colour`",
        ),
    ];
    for (body, want, fragment) in cases {
        let (status, _, res) = app.post_json("/api/v1/sync/jobs", &body).await;
        assert_eq!(status, want, "{body}: {res}");
        assert!(
            res["error"]["message"].as_str().unwrap().contains(fragment),
            "{body}: {res}"
        );
    }
    let res = app
        .client
        .post(format!("{}/api/v1/sync/jobs", app.address))
        .header("content-type", "application/json")
        .body("{\"kind\":")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);

    // No workers here: a queued job is cancelled at once, and only once.
    let (_, _, job) = app
        .post_json(
            "/api/v1/sync/jobs",
            &json!({"kind": "daily_history", "symbols": ["AAPL"]}),
        )
        .await;
    let id = job["id"].as_str().unwrap();
    let (status, _, cancelled) = app
        .post_json(&format!("/api/v1/sync/jobs/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(
        (status, cancelled["status"].as_str()),
        (200, Some("cancelled"))
    );
    let (status, _, again) = app
        .post_json(&format!("/api/v1/sync/jobs/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(status, 409, "{again}");
    let (status, body) = app
        .get_json("/api/v1/sync/jobs/01234567-89ab-7def-8123-456789abcdef")
        .await;
    assert_eq!(status, 404, "{body}");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_configured_tushare_provider_syncs_a_share_instruments_and_never_leaks_its_token() {
    let tushare = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"api_name": "stock_basic"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "request_id": "r1", "code": 0, "msg": "",
            "data": {"fields": ["ts_code", "symbol", "name", "area", "industry", "market", "list_date"],
                     "items": [["600519.SH", "600519", "贵州茅台", "贵州", "白酒", "主板", "20010827"],
                               ["000001.SZ", "000001", "平安银行", "深圳", "银行", "主板", "19910403"]],
                     "has_more": false}
        })))
        .mount(&tushare)
        .await;
    let token = "tok-9f8e7d6c5b4a";
    let app = TestApp::spawn_on(
        TestDatabase::sqlite().unwrap(),
        &[
            ("TUSHARE_TOKEN", token),
            ("STOCKPILOT_PROVIDERS__TUSHARE__BASE_URL", &tushare.uri()),
            ("STOCKPILOT_SYNC__POLL_INTERVAL_MS", "20"),
        ],
    )
    .await;
    let (status, _, job) = app
        .post_json(
            "/api/v1/sync/jobs",
            &json!({"kind": "instruments", "market": "CN"}),
        )
        .await;
    assert_eq!(
        (status, job["provider"].as_str()),
        (202, Some("tushare")),
        "{job}"
    );
    let done = app.wait_for_job(job["id"].as_str().unwrap()).await;
    assert_eq!(
        (done["status"].as_str(), done["rows_written"].as_u64()),
        (Some("succeeded"), Some(2)),
        "{done}"
    );
    let (_, moutai) = app.get_json("/api/v1/instruments/600519.SH").await;
    assert_eq!(
        (
            moutai["name"].as_str(),
            moutai["exchange"].as_str(),
            moutai["list_date"].as_str()
        ),
        (Some("贵州茅台"), Some("SSE"), Some("2001-08-27"))
    );
    let sent: Vec<String> = tushare
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert!(
        sent.iter().all(|b| b.contains(token)),
        "the token travels in the body, as the protocol requires"
    );

    // A bad token: the job fails with the reason, and the token appears nowhere in the API.
    tushare.reset().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"code": 40101, "msg": "您的token不对，请确认。", "data": null}),
            ),
        )
        .mount(&tushare)
        .await;
    let (_, _, job) = app
        .post_json(
            "/api/v1/sync/jobs",
            &json!({"kind": "daily_history", "symbols": ["600519.SH"]}),
        )
        .await;
    let failed = app.wait_for_job(job["id"].as_str().unwrap()).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(
        failed["message"]
            .as_str()
            .unwrap()
            .contains("TUSHARE_TOKEN"),
        "{failed}"
    );
    let (_, listing) = app.get_json("/api/v1/sync/jobs").await;
    assert!(!listing.to_string().contains(token));
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_demo_dataset_is_loaded_on_first_start_only() {
    let db = TestDatabase::sqlite().unwrap();
    let url = db.url.clone();
    let app = TestApp::spawn_with_url(db, &url, WITH_DEMO).await;
    let (_, jobs) = app.get_json("/api/v1/sync/jobs").await;
    assert_eq!(
        jobs["total"], 4,
        "instruments, calendar, daily history, adjustment factors"
    );
    let (_, bars) = app
        .get_json("/api/v1/instruments/GOOG/bars?start=2004-08-19&end=2004-08-19")
        .await;
    assert_eq!(bars["count"], 1, "GOOG's first day");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn news_from_financial_datasets_is_synced_and_stored_for_the_research_side() {
    let fd = MockServer::start().await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path("/news/"))
        .and(wiremock::matchers::header("X-API-KEY", "fd-key-123"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"news": [
            {"ticker": "AAPL", "title": "Apple ships", "author": "A. Writer", "source": "Wire", "date": "2012-12-28", "url": "https://example.com/a", "sentiment": "positive"},
            {"ticker": "AAPL", "title": "Apple slips", "author": null, "source": "Wire", "date": "2012-12-20T10:00:00Z", "url": "https://example.com/b", "sentiment": "negative"}
        ]})))
        .mount(&fd)
        .await;
    let app = TestApp::spawn_on(
        TestDatabase::sqlite().unwrap(),
        &[
            ("FINANCIAL_DATASETS_API_KEY", "fd-key-123"),
            (
                "STOCKPILOT_PROVIDERS__FINANCIAL_DATASETS__BASE_URL",
                &fd.uri(),
            ),
            ("STOCKPILOT_SYNC__POLL_INTERVAL_MS", "20"),
        ],
    )
    .await;
    let body =
        json!({"kind": "news", "symbols": ["AAPL"], "start": "2012-12-01", "end": "2012-12-31"});
    let (status, _, job) = app.post_json("/api/v1/sync/jobs", &body).await;
    assert_eq!(
        (status, job["provider"].as_str()),
        (202, Some("financial_datasets")),
        "{job}"
    );
    let done = app.wait_for_job(job["id"].as_str().unwrap()).await;
    assert_eq!(
        (done["status"].as_str(), done["rows_written"].as_u64()),
        (Some("succeeded"), Some(2)),
        "{done}"
    );
    let requests = fd.received_requests().await.unwrap();
    let query = requests[0].url.query().unwrap_or_default().to_owned();
    assert!(
        query.contains("ticker=AAPL") && query.contains("start_date=2012-12-01"),
        "{query}"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_demo_import_by_the_cli_from_another_directory_is_seen_by_a_running_server() {
    let app = TestApp::spawn_on(TestDatabase::sqlite().unwrap(), WITH_DEMO_OFF).await;
    let (status, body) = app
        .get_json("/api/v1/instruments/AAPL/bars?start=2012-01-01&end=2012-12-31")
        .await;
    assert_eq!(status, 404, "nothing imported on start: {body}");

    // The binary, run from an empty directory with nothing configured but the database: the
    // dataset comes from the binary itself.
    let out = crate::helpers::cli(&app._db.url, &["data", "import-demo"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("imported the demo dataset built into the binary"),
        "{stdout}"
    );
    assert!(stdout.contains("SSE trading days: 8797"), "{stdout}");

    let (status, body) = app
        .get_json("/api/v1/instruments/AAPL/bars?start=2012-01-01&end=2012-12-31")
        .await;
    assert_eq!((status, body["count"].as_u64()), (200, Some(250)), "{body}");
    // A US sync through the demo files' `csv` provider, without a restart.
    let (status, _, job) = app
        .post_json(
            "/api/v1/sync/jobs",
            &json!({"kind": "daily_history", "symbols": ["IBM"], "start": "2013-01-01"}),
        )
        .await;
    assert_eq!(
        (status, job["provider"].as_str()),
        (202, Some("csv")),
        "{job}"
    );
    let done = app.wait_for_job(job["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    // `sync run` beside a running server: it runs the job, or follows the server that took it.
    let out = crate::helpers::cli(
        &app._db.url,
        &[
            "sync",
            "run",
            "daily_history",
            "--symbols",
            "MSFT",
            "--start",
            "2013-01-01",
        ],
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let finished = stdout
        .lines()
        .find(|l| l.starts_with("finished"))
        .unwrap_or_default();
    assert!(finished.contains("succeeded"), "{stdout}");
    // And research sees the imported symbols.
    let (status, _, run) = app
        .post_json(
            "/api/v1/research/runs",
            &json!({"symbols": ["AAPL"], "analysts": ["technical"]}),
        )
        .await;
    assert_eq!(status, 202, "{run}");
    app.stop().await.unwrap();
}

/// Test servers' default: no import on start, quick sync polling.
const WITH_DEMO_OFF: &[(&str, &str)] = &[("STOCKPILOT_SYNC__POLL_INTERVAL_MS", "20")];
