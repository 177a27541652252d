//! Retries, fallback and the circuit breaker.

use std::time::{Duration, Instant};

use serde_json::json;
use stockpilot_application::ports::{CircuitState, LlmError, LlmGateway};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

fn outcome_pairs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(p, o)| ((*p).to_owned(), (*o).to_owned()))
        .collect()
}

#[tokio::test]
async fn a_429_is_retried_on_the_same_provider_and_both_attempts_are_recorded() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(chat_path())
        .respond_with(openai_error(429, "Rate limit reached").insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(chat_path())
        .respond_with(answer("Hello"))
        .mount(&server)
        .await;
    let (gateway, usage) = gateway(vec![provider("primary", &server)], fast_settings());

    let completion = gateway.complete(request("hi")).await.unwrap();

    assert_eq!(completion.content, "Hello");
    assert_eq!(requests(&server).await.len(), 2);
    assert_eq!(
        usage.outcomes(),
        outcome_pairs(&[("primary", "error"), ("primary", "ok")])
    );
    let ok = &usage.rows()[1];
    assert_eq!((ok.prompt_tokens, ok.completion_tokens), (120, 30));
}

#[tokio::test]
async fn a_retry_after_longer_than_the_max_backoff_moves_on_instead_of_waiting() {
    let (slow, spare) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("POST"))
        .respond_with(openai_error(429, "slow down").insert_header("retry-after", "120"))
        .mount(&slow)
        .await;
    Mock::given(method("POST"))
        .respond_with(answer("from spare"))
        .mount(&spare)
        .await;
    let mut second = provider("spare", &spare);
    second.priority = 1;
    let (gateway, _) = gateway(vec![provider("slow", &slow), second], fast_settings());

    let started = Instant::now();
    let completion = gateway.complete(request("hi")).await.unwrap();

    assert_eq!(completion.provider, "spare");
    assert_eq!(requests(&slow).await.len(), 1);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn empty_content_with_finish_reason_stop_is_retried_and_then_falls_back() {
    let (flaky, spare) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("POST"))
        .respond_with(answer_with(json!(""), "stop", 50, 0))
        .mount(&flaky)
        .await;
    Mock::given(method("POST"))
        .respond_with(answer("steady answer"))
        .mount(&spare)
        .await;
    let mut second = provider("spare", &spare);
    second.priority = 2;
    let mut settings = fast_settings();
    settings.max_retries = 1;
    let (gateway, usage) = gateway(vec![provider("deepseek", &flaky), second], settings);

    let completion = gateway.complete(request("hi")).await.unwrap();

    assert_eq!(
        (completion.provider.as_str(), completion.content.as_str()),
        ("spare", "steady answer")
    );
    assert_eq!(requests(&flaky).await.len(), 2, "1 try + 1 retry");
    assert_eq!(
        usage.outcomes(),
        outcome_pairs(&[
            ("deepseek", "error"),
            ("deepseek", "error"),
            ("spare", "ok")
        ])
    );
    assert_eq!(
        usage.rows()[0].prompt_tokens,
        50,
        "billed tokens of an empty answer are kept"
    );
}

#[tokio::test]
async fn an_empty_answer_followed_by_a_real_one_stays_on_the_provider() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(answer_with(serde_json::Value::Null, "stop", 10, 0))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(answer("second time lucky"))
        .mount(&server)
        .await;
    let (gateway, _) = gateway(vec![provider("deepseek", &server)], fast_settings());

    let completion = gateway.complete(request("hi")).await.unwrap();

    assert_eq!(completion.content, "second time lucky");
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn a_timeout_falls_back_to_the_next_provider() {
    let (stuck, spare) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("POST"))
        .respond_with(answer("too late").set_delay(Duration::from_secs(3)))
        .mount(&stuck)
        .await;
    Mock::given(method("POST"))
        .respond_with(answer("on time"))
        .mount(&spare)
        .await;
    let mut first = provider("stuck", &stuck);
    first.timeout = Duration::from_millis(150);
    let mut second = provider("spare", &spare);
    second.priority = 1;
    let mut settings = fast_settings();
    settings.max_retries = 1;
    let (gateway, usage) = gateway(vec![first, second], settings);

    let started = Instant::now();
    let completion = gateway.complete(request("hi")).await.unwrap();

    assert_eq!(completion.provider, "spare");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(requests(&stuck).await.len(), 2, "timeouts are retried once");
    let rows = usage.rows();
    assert_eq!(rows[0].outcome.as_str(), "error");
    assert!(rows[0].latency_ms >= 150);
}

#[tokio::test]
async fn a_rejected_key_is_not_retried_but_the_next_provider_is_tried() {
    let (bad_key, spare) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("POST"))
        .respond_with(openai_error(401, "Incorrect API key provided"))
        .mount(&bad_key)
        .await;
    Mock::given(method("POST"))
        .respond_with(answer("ok"))
        .mount(&spare)
        .await;
    let mut second = provider("spare", &spare);
    second.priority = 1;
    let (gateway, _) = gateway(vec![provider("bad", &bad_key), second], fast_settings());

    let completion = gateway.complete(request("hi")).await.unwrap();

    assert_eq!(completion.provider, "spare");
    assert_eq!(requests(&bad_key).await.len(), 1);
}

#[tokio::test]
async fn when_every_provider_fails_each_attempt_is_listed_in_order() {
    let (down, picky) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_string("upstream overloaded"))
        .mount(&down)
        .await;
    Mock::given(method("POST"))
        .respond_with(openai_error(
            400,
            "response_format json_schema is not supported",
        ))
        .mount(&picky)
        .await;
    let mut second = provider("picky", &picky);
    second.priority = 1;
    let (gateway, _) = gateway(vec![provider("down", &down), second], fast_settings());

    let err = gateway.complete(request("hi")).await.unwrap_err();

    assert_eq!(
        err,
        LlmError::AllFailed {
            attempts: vec![
                ("down".into(), "HTTP 503 server error: upstream overloaded".into()),
                (
                    "picky".into(),
                    "HTTP 400 the request was refused: response_format json_schema is not supported"
                        .into()
                ),
            ]
        }
    );
    assert_eq!(requests(&down).await.len(), 3, "5xx: 1 try + 2 retries");
    assert_eq!(requests(&picky).await.len(), 1, "400: no retry");
}

#[tokio::test]
async fn the_circuit_opens_after_repeated_failures_and_closes_after_a_successful_trial() {
    let (failing, spare) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&failing)
        .await;
    Mock::given(method("POST"))
        .respond_with(answer("spare answer"))
        .mount(&spare)
        .await;
    let mut second = provider("spare", &spare);
    second.priority = 1;
    let mut settings = fast_settings();
    settings.max_retries = 0;
    settings.breaker_failures = 2;
    settings.breaker_cooldown = Duration::from_secs(1);
    let (gateway, _) = gateway(vec![provider("primary", &failing), second], settings);
    let circuit = |g: &stockpilot_llm::OpenAiGateway| g.status()[0].circuit;

    for _ in 0..2 {
        assert_eq!(
            gateway.complete(request("hi")).await.unwrap().provider,
            "spare"
        );
    }
    assert_eq!(circuit(&gateway), CircuitState::Open);
    assert_eq!(requests(&failing).await.len(), 2);

    // Open: the primary is skipped without a request reaching it.
    assert_eq!(
        gateway.complete(request("hi")).await.unwrap().provider,
        "spare"
    );
    assert_eq!(requests(&failing).await.len(), 2);
    let mut pinned = request("hi");
    pinned.provider = Some("primary".into());
    let err = gateway.complete(pinned.clone()).await.unwrap_err();
    assert!(
        matches!(&err, LlmError::Unavailable { provider, reason } if provider == "primary" && reason.contains("circuit open")),
        "{err:?}"
    );

    // After the cool-down the primary has recovered: the trial call goes to it and closes it.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(circuit(&gateway), CircuitState::HalfOpen);
    failing.reset().await;
    Mock::given(method("POST"))
        .respond_with(answer("primary is back"))
        .mount(&failing)
        .await;
    let completion = gateway.complete(request("hi")).await.unwrap();
    assert_eq!(completion.provider, "primary");
    assert_eq!(circuit(&gateway), CircuitState::Closed);
}

#[tokio::test]
async fn bad_requests_do_not_open_the_circuit() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(openai_error(422, "unprocessable"))
        .mount(&server)
        .await;
    let mut settings = fast_settings();
    settings.breaker_failures = 2;
    let (gateway, _) = gateway(vec![provider("primary", &server)], settings);

    for _ in 0..3 {
        assert!(gateway.complete(request("hi")).await.is_err());
    }

    assert_eq!(gateway.status()[0].circuit, CircuitState::Closed);
    assert_eq!(requests(&server).await.len(), 3);
}

#[tokio::test]
async fn at_most_max_concurrent_calls_run_at_once_and_status_shows_them() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(answer("slow").set_delay(Duration::from_millis(250)))
        .mount(&server)
        .await;
    let mut single = provider("single", &server);
    single.max_concurrent = 1;
    let (gateway, _) = gateway(vec![single], fast_settings());

    let started = Instant::now();
    let (a, b, in_flight) = tokio::join!(
        gateway.complete(request("one")),
        gateway.complete(request("two")),
        async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            gateway.status()[0].in_flight
        }
    );

    assert_eq!(
        (a.unwrap().content, b.unwrap().content),
        ("slow".into(), "slow".into())
    );
    assert_eq!(in_flight, 1);
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(gateway.status()[0].in_flight, 0);
}
