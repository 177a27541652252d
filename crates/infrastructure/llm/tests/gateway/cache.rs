//! The identical-request cache.

use std::sync::Arc;
use std::time::Duration;

use stockpilot_application::ports::{Cache, LlmGateway};
use stockpilot_llm::OpenAiGateway;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer};

use crate::support::*;

async fn cached_gateway(
    server: &MockServer,
    cache: Arc<dyn Cache>,
) -> (OpenAiGateway, Arc<RecordingUsage>) {
    tls();
    let usage = Arc::new(RecordingUsage::default());
    let mut settings = fast_settings();
    settings.cache_ttl = Some(Duration::from_secs(3_600));
    let gateway = OpenAiGateway::new(
        vec![provider("p", server)],
        settings,
        usage.clone(),
        Some(cache),
    )
    .unwrap();
    (gateway, usage)
}

async fn json_answering() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(answer(r#"{"signal":"bullish","confidence":70}"#))
        .mount(&server)
        .await;
    server
}

fn deterministic() -> stockpilot_application::ports::CompletionRequest {
    let mut r = structured_request("Rate AAPL");
    r.temperature = Some(0.0);
    r
}

#[tokio::test]
async fn an_identical_deterministic_structured_request_is_served_from_the_cache_for_free() {
    let server = json_answering().await;
    let cache = Arc::new(MemoryCache::default());
    let (gateway, usage) = cached_gateway(&server, cache.clone()).await;

    let first = gateway.complete(deterministic()).await.unwrap();
    let second = gateway.complete(deterministic()).await.unwrap();

    assert_eq!(requests(&server).await.len(), 1);
    assert!(!first.cached && second.cached);
    assert_eq!(second.content, first.content);
    assert_eq!(
        (second.provider.as_str(), second.model.as_str()),
        ("p", "test-model")
    );
    assert_eq!(second.cost_usd, 0.0);
    assert_eq!(
        usage.outcomes(),
        [("p".into(), "ok".into()), ("p".into(), "cached".into())]
    );
    let key = cache.entries.lock().unwrap().keys().next().unwrap().clone();
    assert!(
        key.starts_with("llm:v1:") && key.len() == "llm:v1:".len() + 64,
        "{key}"
    );
    assert_eq!(cache.ttls.lock().unwrap()[0], Duration::from_secs(3_600));
}

#[tokio::test]
async fn sampled_free_form_or_differing_requests_are_not_served_from_the_cache() {
    let server = json_answering().await;
    let (gateway, _) = cached_gateway(&server, Arc::new(MemoryCache::default())).await;
    let mut sampled = deterministic();
    sampled.temperature = Some(0.7);
    let mut free_form = deterministic();
    free_form.schema = None;
    let mut other_question = deterministic();
    other_question.messages[1].content = "Rate MSFT".into();

    for r in [
        sampled.clone(),
        sampled,
        free_form.clone(),
        free_form,
        deterministic(),
        other_question,
    ] {
        gateway.complete(r).await.unwrap();
    }

    assert_eq!(requests(&server).await.len(), 6);
}

#[tokio::test]
async fn an_answer_that_is_not_json_is_not_cached() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(answer("Sorry, I cannot rate that."))
        .mount(&server)
        .await;
    let cache = Arc::new(MemoryCache::default());
    let (gateway, _) = cached_gateway(&server, cache.clone()).await;

    gateway.complete(deterministic()).await.unwrap();
    gateway.complete(deterministic()).await.unwrap();

    assert_eq!(requests(&server).await.len(), 2);
    assert!(cache.entries.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_broken_cache_is_bypassed() {
    let server = json_answering().await;
    let (gateway, usage) = cached_gateway(&server, Arc::new(BrokenCache)).await;

    let completion = gateway.complete(deterministic()).await.unwrap();

    assert!(!completion.cached);
    assert_eq!(usage.rows()[0].outcome.as_str(), "ok");
}
