//! Structured output end to end: the request each kind of provider gets, and `structured`
//! over the gateway turning (sometimes messy) answers into typed values.

use serde_json::json;
use stockpilot_application::llm::structured;
use stockpilot_application::ports::LlmError;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer};

use crate::support::*;

#[tokio::test]
async fn a_json_schema_provider_gets_the_schema_as_response_format_and_its_answer_is_parsed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(chat_path())
        .respond_with(answer(r#"{"signal":"bullish","confidence":72}"#))
        .expect(1)
        .mount(&server)
        .await;
    let mut request = structured_request("Rate AAPL");
    request.max_tokens = Some(5_000);
    let (gateway, _) = gateway(vec![provider("openai", &server)], fast_settings());

    let (signal, calls) = structured::<Signal>(&gateway, request, |_| Ok(()))
        .await
        .unwrap();

    assert_eq!(
        signal,
        Signal {
            signal: "bullish".into(),
            confidence: 72
        }
    );
    assert_eq!(calls.len(), 1);
    let sent = &requests(&server).await[0];
    assert_eq!(
        sent.headers.get("authorization").unwrap().to_str().unwrap(),
        format!("Bearer {KEY}")
    );
    let body = bodies(&server).await.remove(0);
    assert_eq!(
        body["response_format"],
        json!({
            "type": "json_schema",
            "json_schema": { "name": "analyst_signal", "schema": signal_schema().schema, "strict": true }
        })
    );
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["max_tokens"], 1_000, "capped at max_output_tokens");
    assert!((body["temperature"].as_f64().unwrap() - 0.2).abs() < 1e-6);
    assert_eq!(
        body["messages"],
        json!([
            { "role": "system", "content": "You are a value investor." },
            { "role": "user", "content": "Rate AAPL" }
        ]),
        "schema-enforcing providers get the prompt untouched"
    );
}

#[tokio::test]
async fn a_json_object_provider_gets_schema_and_example_in_the_prompt_and_fenced_reasoning_is_stripped()
 {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(chat_path())
        .respond_with(answer(
            "<think>The P/E is {high}, hmm.</think>\n```json\n{\"signal\":\"bearish\",\"confidence\":61}\n```",
        ))
        .mount(&server)
        .await;
    let mut deepseek = provider("deepseek", &server);
    deepseek.supports_json_schema = false;
    deepseek.api_key = None;
    deepseek.organization = Some("org-research".into());
    let (gateway, _) = gateway(vec![deepseek], fast_settings());

    let (signal, _) = structured::<Signal>(&gateway, structured_request("Rate BABA"), |_| Ok(()))
        .await
        .unwrap();

    assert_eq!(
        signal,
        Signal {
            signal: "bearish".into(),
            confidence: 61
        }
    );
    let sent = &requests(&server).await[0];
    assert!(
        sent.headers.get("authorization").is_none(),
        "no key, no header"
    );
    assert_eq!(
        sent.headers.get("openai-organization").unwrap(),
        "org-research"
    );
    let body = bodies(&server).await.remove(0);
    assert_eq!(body["response_format"], json!({ "type": "json_object" }));
    let system = body["messages"][0]["content"].as_str().unwrap();
    assert!(system.starts_with("You are a value investor."));
    assert!(system.contains("JSON"));
    assert!(system.contains(&signal_schema().schema.to_string()));
    assert!(system.contains(&signal_schema().example.to_string()));
    assert_eq!(
        body["messages"].as_array().unwrap().len(),
        2,
        "appended, not added"
    );
}

#[tokio::test]
async fn a_malformed_answer_is_retried_once_with_the_validation_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(chat_path())
        .respond_with(answer("I'd say bullish, fairly confident."))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(chat_path())
        .respond_with(answer(r#"{"signal":"bullish","confidence":80}"#))
        .mount(&server)
        .await;
    let (gateway, usage) = gateway(vec![provider("primary", &server)], fast_settings());

    let (signal, calls) =
        structured::<Signal>(&gateway, structured_request("Rate MSFT"), |_| Ok(()))
            .await
            .unwrap();

    assert_eq!(signal.confidence, 80);
    assert_eq!(calls.len(), 2);
    let sent = bodies(&server).await;
    assert_eq!(sent.len(), 2);
    let retry_messages = sent[1]["messages"].as_array().unwrap();
    assert_eq!(retry_messages[2]["role"], "assistant");
    assert_eq!(
        retry_messages[2]["content"],
        "I'd say bullish, fairly confident."
    );
    let correction = retry_messages[3]["content"].as_str().unwrap();
    assert!(
        correction.contains("not the JSON asked for"),
        "{correction}"
    );
    assert_eq!(usage.outcomes().len(), 2);
}

#[tokio::test]
async fn an_answer_malformed_twice_is_output_invalid_with_the_provider_and_a_truncated_sample() {
    let server = MockServer::start().await;
    let rambling = "bullish ".repeat(100);
    Mock::given(method("POST"))
        .and(chat_path())
        .respond_with(answer(&rambling))
        .expect(2)
        .mount(&server)
        .await;
    let (gateway, _) = gateway(vec![provider("primary", &server)], fast_settings());

    let err = structured::<Signal>(&gateway, structured_request("Rate TSLA"), |_| Ok(()))
        .await
        .unwrap_err();

    let LlmError::OutputInvalid {
        provider,
        reason,
        sample,
    } = err
    else {
        panic!("expected OutputInvalid, got {err:?}");
    };
    assert_eq!(provider, "primary");
    assert!(reason.starts_with("not the JSON asked for"), "{reason}");
    assert_eq!(sample.chars().count(), 501);
    assert!(sample.starts_with("bullish bullish") && sample.ends_with('…'));
}
