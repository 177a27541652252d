//! Usage rows and cost.

use std::sync::Arc;

use serde_json::json;
use stockpilot_application::ports::{LlmGateway, TokenUsage};
use stockpilot_llm::OpenAiGateway;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer};

use crate::support::*;

#[tokio::test]
async fn a_call_records_tokens_from_the_answer_and_cost_from_the_prices() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(answer_with(json!("Buy."), "stop", 1_200, 300))
        .mount(&server)
        .await;
    let (gateway, usage) = gateway(vec![provider("openai", &server)], fast_settings());

    let completion = gateway.complete(request("Rate AAPL")).await.unwrap();

    // 1200/1000 × 0.5 + 300/1000 × 1.5 = 0.6 + 0.45
    assert!(
        (completion.cost_usd - 1.05).abs() < 1e-9,
        "{}",
        completion.cost_usd
    );
    assert_eq!(
        completion.usage,
        TokenUsage {
            prompt_tokens: 1_200,
            completion_tokens: 300
        }
    );
    assert_eq!(completion.finish_reason.as_deref(), Some("stop"));
    assert!(!completion.cached);
    let rows = usage.rows();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(
        (
            row.provider.as_str(),
            row.model.as_str(),
            row.purpose.as_str(),
            row.outcome.as_str()
        ),
        ("openai", "test-model", "analyst:value_investor", "ok")
    );
    assert_eq!((row.prompt_tokens, row.completion_tokens), (1_200, 300));
    assert!((row.cost_usd - 1.05).abs() < 1e-9);
}

#[tokio::test]
async fn an_answer_without_usage_counts_zero_tokens_and_costs_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(json!({
            "choices": [{ "message": { "content": "local model says hi" } }]
        })))
        .mount(&server)
        .await;
    let (gateway, usage) = gateway(vec![provider("ollama", &server)], fast_settings());

    let completion = gateway.complete(request("hi")).await.unwrap();

    assert_eq!(completion.content, "local model says hi");
    assert_eq!(completion.usage, TokenUsage::default());
    assert_eq!(completion.finish_reason, None);
    assert_eq!(usage.rows()[0].cost_usd, 0.0);
}

#[tokio::test]
async fn a_failing_usage_store_never_fails_the_call() {
    tls();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(answer("still answered"))
        .mount(&server)
        .await;
    let usage = Arc::new(RecordingUsage {
        fail: true,
        ..RecordingUsage::default()
    });
    let gateway =
        OpenAiGateway::new(vec![provider("p", &server)], fast_settings(), usage, None).unwrap();

    let completion = gateway.complete(request("hi")).await.unwrap();

    assert_eq!(completion.content, "still answered");
}
