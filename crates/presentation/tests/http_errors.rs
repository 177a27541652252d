//! The error contract on JSON bodies and limits, through the real `app()` with a test route.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpResponse, test, web};
use serde_json::Value;
use stockpilot_application::health::HealthService;
use stockpilot_application::llm::LlmRegistry;
use stockpilot_application::market::{MarketQueries, QuerySettings};
use stockpilot_application::ports::SystemClock;
use stockpilot_application::sync::{Sources, SyncService, SyncSettings};
use stockpilot_presentation::{AppState, HttpSettings, Shared, app};

#[derive(serde::Deserialize)]
struct Order {
    #[allow(dead_code)]
    quantity: u32,
}

async fn create(_order: web::Json<Order>) -> HttpResponse {
    HttpResponse::Created().finish()
}

async fn slow() -> HttpResponse {
    tokio::time::sleep(Duration::from_secs(30)).await;
    HttpResponse::Ok().finish()
}

/// Real services over an empty in-memory database; the routes under test never query it.
async fn shared(max_concurrent: usize) -> Shared {
    let db = stockpilot_db::connect(&stockpilot_db::DbSettings {
        url: "sqlite::memory:".into(),
        pool_min: 0,
        pool_max: 1,
        acquire_timeout: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(60),
    })
    .await
    .unwrap();
    let store = Arc::new(stockpilot_db::SeaStore::new(db));
    let _ = rustls::crypto::ring::default_provider().install_default();
    let gateway =
        stockpilot_llm::OpenAiGateway::new(Vec::new(), Default::default(), store.clone(), None)
            .unwrap();
    let clock = Arc::new(SystemClock);
    let cache = Arc::new(stockpilot_cache::MemoryCache::default());
    let state = AppState {
        version: "test",
        health: HealthService::new(Vec::new(), Duration::from_secs(1)),
        market: Arc::new(MarketQueries::new(
            store.clone(),
            cache,
            clock.clone(),
            QuerySettings::default(),
        )),
        sync: Arc::new(SyncService::new(
            store.clone(),
            store.clone(),
            Sources::new(),
            clock.clone(),
            SyncSettings::default(),
        )),
        llm: Arc::new(LlmRegistry::new(
            store.clone(),
            store.clone(),
            Arc::new(gateway),
            None,
            Vec::new(),
            clock.clone(),
        )),
        search: None,
        research: Arc::new(stockpilot_application::research::ResearchService::new(
            store.clone(),
            store.clone(),
            None,
            None,
            clock.clone(),
            Default::default(),
        )),
        auth: Arc::new(stockpilot_application::auth::AuthService::new(
            store.clone(),
            store.clone(),
            clock,
            Duration::from_secs(60),
        )),
    };
    Shared::new(state, max_concurrent, None)
}

fn settings(timeout: Duration) -> HttpSettings {
    HttpSettings {
        max_body_bytes: 1024,
        request_timeout: timeout,
        metrics_path: None,
        hsts_max_age_secs: Some(600),
        allowed_hosts: Vec::new(),
        cors_allowed_origins: Vec::new(),
    }
}

async fn call(max_concurrent: usize, timeout: Duration, req: test::TestRequest) -> (u16, Value) {
    let svc = test::init_service(
        app(&shared(max_concurrent).await, &settings(timeout))
            .route("/orders", web::post().to(create))
            .route("/slow", web::get().to(slow)),
    )
    .await;
    // Errors that escape the handler chain come back as `Err` carrying their rendered
    // response; the HTTP server sends that response as is.
    let res = match test::try_call_service(&svc, req.to_request()).await {
        Ok(res) => res.into_parts().1.map_into_boxed_body(),
        Err(err) => err.error_response(),
    };
    let status = res.status().as_u16();
    let id = res
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let bytes = actix_web::body::to_bytes(res.into_body()).await.unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        body["error"]["request_id"],
        id.as_str(),
        "every error body carries the request id"
    );
    (status, body)
}

fn post(body: &'static str) -> test::TestRequest {
    test::TestRequest::post()
        .uri("/orders")
        .insert_header(("content-type", "application/json"))
        .set_payload(body)
}

#[actix_web::test]
async fn malformed_json_is_400_malformed_json() {
    let (status, body) = call(8, Duration::from_secs(5), post("{\"quantity\": ")).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "malformed_json");
}

#[actix_web::test]
async fn a_body_of_the_wrong_shape_is_422_naming_the_field() {
    let (status, body) = call(8, Duration::from_secs(5), post("{\"quantity\": \"ten\"}")).await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["code"], "validation_failed");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid type: string \"ten\", expected u32"),
        "{body}"
    );
    assert_eq!(body["error"]["details"][0]["field"], "body");
}

#[actix_web::test]
async fn an_oversize_body_is_413() {
    let big: &'static str = Box::leak(
        format!("{{\"quantity\": 1, \"pad\": \"{}\"}}", "x".repeat(4096)).into_boxed_str(),
    );
    let (status, body) = call(8, Duration::from_secs(5), post(big)).await;
    assert_eq!(status, 413);
    assert_eq!(body["error"]["code"], "payload_too_large");
    assert_eq!(
        body["error"]["message"],
        "request body exceeds the limit of 1024 bytes"
    );
}

#[actix_web::test]
async fn a_wrong_content_type_is_415() {
    let req = test::TestRequest::post()
        .uri("/orders")
        .insert_header(("content-type", "text/plain"))
        .set_payload("x");
    let (status, body) = call(8, Duration::from_secs(5), req).await;
    assert_eq!(status, 415);
    assert_eq!(body["error"]["code"], "unsupported_media_type");
}

#[actix_web::test]
async fn a_slow_handler_is_cut_off_with_503_request_timeout() {
    let (status, body) = call(
        8,
        Duration::from_millis(50),
        test::TestRequest::get().uri("/slow"),
    )
    .await;
    assert_eq!(status, 503);
    assert_eq!(body["error"]["code"], "request_timeout");
    assert_eq!(
        body["error"]["message"],
        "the request did not complete within 50ms"
    );
}

#[actix_web::test]
async fn requests_beyond_the_concurrency_limit_get_503_overloaded_with_retry_after() {
    let svc = test::init_service(
        app(&shared(1).await, &settings(Duration::from_secs(60)))
            .route("/slow", web::get().to(slow)),
    )
    .await;
    let first = test::call_service(&svc, test::TestRequest::get().uri("/slow").to_request());
    tokio::pin!(first);
    // Drive the first request until it holds the only permit (it then sleeps in the handler).
    assert!(futures_util::poll!(first.as_mut()).is_pending());
    let res = test::call_service(&svc, test::TestRequest::get().uri("/slow").to_request()).await;
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers().get("retry-after").unwrap(), "1");
    let body: Value = test::read_body_json(res).await;
    assert_eq!(body["error"]["code"], "overloaded");
    let res = test::call_service(&svc, test::TestRequest::get().uri("/health").to_request()).await;
    assert_eq!(res.status(), 200, "probes are exempt from the limit");
}

#[actix_web::test]
async fn every_response_carries_the_security_headers() {
    let svc = test::init_service(
        app(&shared(8).await, &settings(Duration::from_secs(5)))
            .route("/orders", web::post().to(create)),
    )
    .await;
    for (req, status) in [
        (post(r#"{"quantity": 3}"#), 201),
        (post(r#"{"quantity": "x"}"#), 422),
        (test::TestRequest::get().uri("/no/such/route"), 404),
    ] {
        let res = test::call_service(&svc, req.to_request()).await;
        assert_eq!(res.status().as_u16(), status);
        let h = res.headers();
        assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
        assert_eq!(h.get("x-frame-options").unwrap(), "DENY");
        assert_eq!(h.get("referrer-policy").unwrap(), "no-referrer");
        assert_eq!(
            h.get("content-security-policy").unwrap(),
            "default-src 'none'; frame-ancestors 'none'"
        );
        assert_eq!(
            h.get("strict-transport-security").unwrap(),
            "max-age=600; includeSubDomains"
        );
    }
}
