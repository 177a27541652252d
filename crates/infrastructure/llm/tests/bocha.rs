//! `BochaSearch` against a wiremock server replaying Bocha's documented shapes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use serde_json::{Value, json};
use stockpilot_application::ports::{
    Cache, Freshness, SearchError, SearchQuery, SearchResult, WebSearch,
};
use stockpilot_llm::{BochaSearch, BochaSettings};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use support::{BrokenCache, MemoryCache, requests, tls};

const BOCHA_KEY: &str = "bocha-sk-7f6e5d4c3b2a1908";

fn search(server: &MockServer, cache: Option<Arc<dyn Cache>>) -> BochaSearch {
    tls();
    let mut settings = BochaSettings::new(SecretString::from(BOCHA_KEY));
    settings.base_url = server.uri();
    settings.timeout = Duration::from_millis(500);
    BochaSearch::new(settings, cache).unwrap()
}

fn query(text: &str) -> SearchQuery {
    SearchQuery {
        query: text.into(),
        freshness: Freshness::OneWeek,
        count: 5,
        summary: true,
    }
}

fn success() -> Value {
    json!({
        "code": 200, "log_id": "abc", "msg": null,
        "data": {
            "_type": "SearchResponse",
            "queryContext": { "originalQuery": "贵州茅台 业绩" },
            "webPages": {
                "totalEstimatedMatches": 2,
                "value": [
                    {
                        "name": "贵州茅台2024年报", "url": "https://example.cn/a", "displayUrl": "example.cn/a",
                        "snippet": "营收增长", "summary": "全年营收同比增长15%", "siteName": "财经网",
                        "dateLastCrawled": "2025-03-30T08:00:00Z", "datePublished": "2025-03-29T20:00:00+08:00"
                    },
                    {
                        "name": "茅台公告", "url": "https://example.cn/b", "snippet": "分红方案",
                        "dateLastCrawled": "2025-03-28T00:00:00Z"
                    }
                ]
            }
        }
    })
}

async fn replying(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/web-search"))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn maps_web_pages_to_results_and_sends_the_documented_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/web-search"))
        .and(header(
            "authorization",
            format!("Bearer {BOCHA_KEY}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(success()))
        .expect(1)
        .mount(&server)
        .await;

    let results = search(&server, None)
        .search(&query("贵州茅台 业绩"))
        .await
        .unwrap();

    assert_eq!(
        results,
        vec![
            SearchResult {
                title: "贵州茅台2024年报".into(),
                url: "https://example.cn/a".into(),
                snippet: "营收增长".into(),
                summary: Some("全年营收同比增长15%".into()),
                site_name: Some("财经网".into()),
                published_at: Some("2025-03-29T20:00:00+08:00".into()),
            },
            SearchResult {
                title: "茅台公告".into(),
                url: "https://example.cn/b".into(),
                snippet: "分红方案".into(),
                summary: None,
                site_name: None,
                published_at: Some("2025-03-28T00:00:00Z".into()),
            },
        ]
    );
    let body: Value = requests(&server).await[0].body_json().unwrap();
    assert_eq!(
        body,
        json!({ "query": "贵州茅台 业绩", "freshness": "oneWeek", "summary": true, "count": 5 })
    );
}

#[tokio::test]
async fn a_date_range_freshness_is_sent_as_written_and_an_empty_answer_is_no_results() {
    let server =
        replying(ResponseTemplate::new(200).set_body_json(json!({"code": 200, "data": {}}))).await;
    let mut q = query("CATL");
    q.freshness = Freshness::Range("2025-01-01..2025-03-31".into());

    let results = search(&server, None).search(&q).await.unwrap();

    assert!(results.is_empty());
    let body: Value = requests(&server).await[0].body_json().unwrap();
    assert_eq!(body["freshness"], "2025-01-01..2025-03-31");
}

#[tokio::test]
async fn each_error_status_maps_to_its_search_error() {
    let cases = [
        (401, "Invalid API KEY", SearchError::BadKey),
        (403, "余额不足", SearchError::OutOfBalance),
        (429, "too many requests", SearchError::RateLimited),
        (
            400,
            "count must be 1-50",
            SearchError::BadRequest("count must be 1-50".into()),
        ),
        (
            500,
            "internal error",
            SearchError::Unavailable("Bocha answered 500: internal error".into()),
        ),
    ];
    for (status, message, expected) in cases {
        let server = replying(ResponseTemplate::new(status).set_body_json(json!({
            "code": status.to_string(), "message": message, "log_id": "x"
        })))
        .await;

        let err = search(&server, None).search(&query("q")).await.unwrap_err();

        assert_eq!(err, expected, "HTTP {status}");
    }
}

#[tokio::test]
async fn a_200_carrying_an_error_code_is_classified_like_the_status() {
    let server = replying(ResponseTemplate::new(200).set_body_json(json!({
        "code": "401", "message": "Invalid API KEY", "log_id": "x"
    })))
    .await;
    assert_eq!(
        search(&server, None).search(&query("q")).await.unwrap_err(),
        SearchError::BadKey
    );

    let server = replying(ResponseTemplate::new(200).set_body_json(json!({
        "code": 403, "msg": "insufficient balance", "data": null
    })))
    .await;
    assert_eq!(
        search(&server, None).search(&query("q")).await.unwrap_err(),
        SearchError::OutOfBalance
    );
}

#[tokio::test]
async fn a_malformed_body_is_unavailable_not_a_panic() {
    let server = replying(ResponseTemplate::new(200).set_body_string("<html>gateway</html>")).await;

    let err = search(&server, None).search(&query("q")).await.unwrap_err();

    let SearchError::Unavailable(message) = err else {
        panic!("{err:?}")
    };
    assert!(message.starts_with("malformed response"), "{message}");
}

#[tokio::test]
async fn a_slow_server_is_unavailable_after_the_timeout_and_errors_never_carry_the_key() {
    let server = replying(
        ResponseTemplate::new(200)
            .set_body_json(success())
            .set_delay(Duration::from_secs(3)),
    )
    .await;

    let err = search(&server, None).search(&query("q")).await.unwrap_err();

    assert!(
        matches!(&err, SearchError::Unavailable(m) if m.contains("500 ms")),
        "{err:?}"
    );
    let echo = replying(ResponseTemplate::new(400).set_body_json(json!({
        "code": "400", "message": format!("bad key format: {BOCHA_KEY}")
    })))
    .await;
    let err = search(&echo, None).search(&query("q")).await.unwrap_err();
    assert_eq!(
        err,
        SearchError::BadRequest("bad key format: [redacted]".into())
    );
    let client = search(&echo, None);
    assert!(!format!("{client:?}").contains(BOCHA_KEY));
}

#[tokio::test]
async fn an_identical_query_is_answered_from_the_cache_without_a_request() {
    let server = replying(ResponseTemplate::new(200).set_body_json(success())).await;
    let cache = Arc::new(MemoryCache::default());
    let bocha = search(&server, Some(cache.clone()));

    let first = bocha.search(&query("茅台")).await.unwrap();
    let second = bocha.search(&query("茅台")).await.unwrap();
    let mut more = query("茅台");
    more.count = 10;
    bocha.search(&more).await.unwrap();

    assert_eq!(first, second);
    assert_eq!(
        requests(&server).await.len(),
        2,
        "only the different count asked again"
    );
    assert_eq!(cache.ttls.lock().unwrap()[0], Duration::from_secs(600));
}

#[tokio::test]
async fn a_broken_cache_or_a_missing_key_are_handled() {
    let server = replying(ResponseTemplate::new(200).set_body_json(success())).await;

    let results = search(&server, Some(Arc::new(BrokenCache)))
        .search(&query("q"))
        .await
        .unwrap();
    assert_eq!(results.len(), 2);

    let mut settings = BochaSettings::new(SecretString::from(""));
    settings.base_url = server.uri();
    let unconfigured = BochaSearch::new(settings, None).unwrap();
    assert_eq!(
        unconfigured.search(&query("q")).await.unwrap_err(),
        SearchError::NotConfigured
    );
    assert_eq!(requests(&server).await.len(), 1);
}
