use serde_json::Value;

use crate::helpers::TestApp;

#[tokio::test]
async fn health_reports_liveness_without_touching_dependencies() {
    let app = TestApp::spawn().await;
    let res = app.get("/health").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert!(body["uptime_seconds"].is_u64());
    app.stop().await.unwrap();
}

#[tokio::test]
async fn ready_checks_the_database_and_redis_when_configured() {
    let app = TestApp::spawn().await;
    let res = app.get("/ready").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    let checks = body["checks"].as_array().unwrap();
    let names: Vec<&str> = checks.iter().map(|c| c["name"].as_str().unwrap()).collect();
    let expected: &[&str] = if std::env::var("TEST_REDIS_URL").is_ok() {
        &["database", "redis"]
    } else {
        &["database"]
    };
    assert_eq!(names, expected);
    assert!(
        checks
            .iter()
            .all(|c| c["status"] == "up" && c["latency_ms"].is_f64())
    );

    let res = app.get("/api/v1/health").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["checks"].as_array().unwrap().len(), 1);
    assert_eq!(body["checks"][0]["name"], "database");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn echoes_a_plain_incoming_request_id_and_replaces_an_unsafe_one() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(format!("{}/health", app.address))
        .header("X-Request-Id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "abc-123");

    let res = app
        .client
        .get(format!("{}/health", app.address))
        .header("X-Request-Id", "a b\"<x>")
        .send()
        .await
        .unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 32, "a generated id replaces the unsafe one: {id}");

    let res = app.get("/health").await;
    assert_ne!(
        res.headers()["x-request-id"].to_str().unwrap(),
        id,
        "each request gets its own id"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn metrics_count_requests_by_route_pattern() {
    let app = TestApp::spawn().await;
    app.get("/health").await;
    app.get("/no/such/path/12345").await;
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(
        text.contains(
            r#"stockpilot_http_requests_total{method="GET",route="/health",status="200"}"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"route="<unmatched>",status="404""#),
        "{text}"
    );
    assert!(
        !text.contains("/no/such/path/12345"),
        "raw paths never become labels"
    );
    assert!(text.contains("stockpilot_http_request_duration_seconds_bucket"));
    assert!(text.contains(&format!(
        r#"stockpilot_build_info{{version="{}"}} 1"#,
        env!("CARGO_PKG_VERSION")
    )));
    app.stop().await.unwrap();
}
