//! API keys never leave the gateway: not in errors, not in `Debug`, not in logs — even when
//! the upstream server echoes them back.

use serde_json::json;
use stockpilot_application::ports::{LlmGateway, ProviderConfig};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

/// The key, and fragments of it that masked echoes (`sk-test-SE****cdef`) would show.
fn leaks(text: &str) -> Vec<&'static str> {
    [KEY, "SECRET-0123456789", "sk-test-SECRET"]
        .into_iter()
        .filter(|needle| text.contains(needle))
        .collect()
}

#[tokio::test]
async fn keys_echoed_by_upstream_servers_never_reach_errors_debug_output_or_logs() {
    let logs = CapturedLogs::default();
    let _guard = logs.install();
    let (echo_401, echo_500, echo_200) = (
        MockServer::start().await,
        MockServer::start().await,
        MockServer::start().await,
    );
    Mock::given(method("POST"))
        .respond_with(openai_error(
            401,
            &format!("Incorrect API key provided: {KEY}. Also known as sk-test-SECRET-01****cdef."),
        ))
        .mount(&echo_401)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_string(format!("proxy failed: Authorization: Bearer {KEY}")),
        )
        .mount(&echo_500)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({ "error": { "message": format!("upstream rejected {KEY}") } }),
            ),
        )
        .mount(&echo_200)
        .await;
    let unreachable = ProviderConfig {
        base_url: "http://127.0.0.1:1/v1".into(),
        ..provider("unreachable", &echo_401)
    };
    let mut providers = vec![
        provider("echo-401", &echo_401),
        provider("echo-500", &echo_500),
        provider("echo-200", &echo_200),
        unreachable,
    ];
    for (i, p) in providers.iter_mut().enumerate() {
        p.priority = i as i32;
    }
    let (gateway, _) = gateway(providers.clone(), fast_settings());

    let err = gateway.complete(request("hi")).await.unwrap_err();

    let texts = [
        err.to_string(),
        format!("{err:?}"),
        format!("{gateway:?}"),
        format!("{:?}", gateway.status()),
        format!("{providers:?}"),
        logs.text(),
    ];
    for text in &texts {
        assert_eq!(leaks(text), Vec::<&str>::new(), "leak in: {text}");
    }
    let message = err.to_string();
    assert!(
        message.contains(
            "echo-401: HTTP 401 the API key was rejected: Incorrect API key provided: [redacted]"
        ),
        "{message}"
    );
    assert!(
        message.contains(
            "echo-500: HTTP 500 server error: proxy failed: Authorization: Bearer [redacted]"
        ),
        "{message}"
    );
    assert!(
        message.contains(
            "echo-200: malformed response: error in a 200 answer: upstream rejected [redacted]"
        ),
        "{message}"
    );
    assert!(
        message.contains("unreachable: connection failed"),
        "{message}"
    );
    assert!(
        logs.text().contains("LLM provider failed"),
        "the log capture works"
    );
}
