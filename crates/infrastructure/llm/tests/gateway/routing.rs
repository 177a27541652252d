//! Which provider a call goes to, and how a reload changes that.

use std::sync::Arc;
use std::time::Duration;

use stockpilot_application::ports::{CircuitState, LlmError, LlmGateway};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

async fn answering(text: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(answer(text))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn without_providers_or_with_all_disabled_there_is_no_provider() {
    let (empty, _) = gateway(Vec::new(), fast_settings());
    assert_eq!(
        empty.complete(request("hi")).await.unwrap_err(),
        LlmError::NoProvider
    );

    let server = answering("never").await;
    let mut off = provider("off", &server);
    off.enabled = false;
    let (disabled, _) = gateway(vec![off], fast_settings());
    assert_eq!(
        disabled.complete(request("hi")).await.unwrap_err(),
        LlmError::NoProvider
    );
    assert!(requests(&server).await.is_empty());
}

#[tokio::test]
async fn a_named_provider_must_exist_and_be_enabled() {
    let server = answering("hello").await;
    let mut off = provider("off", &server);
    off.enabled = false;
    let (gateway, _) = gateway(vec![provider("on", &server), off], fast_settings());

    let mut unknown = request("hi");
    unknown.provider = Some("nope".into());
    assert_eq!(
        gateway.complete(unknown).await.unwrap_err(),
        LlmError::UnknownProvider("nope".into())
    );
    let mut disabled = request("hi");
    disabled.provider = Some("off".into());
    assert_eq!(
        gateway.complete(disabled).await.unwrap_err(),
        LlmError::Unavailable {
            provider: "off".into(),
            reason: "it is disabled".into()
        }
    );
    assert!(requests(&server).await.is_empty());
}

#[tokio::test]
async fn a_named_provider_is_the_only_one_tried() {
    let (failing, spare) = (MockServer::start().await, answering("spare").await);
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(502))
        .mount(&failing)
        .await;
    let mut settings = fast_settings();
    settings.max_retries = 0;
    let (gateway, _) = gateway(
        vec![provider("failing", &failing), provider("spare", &spare)],
        settings,
    );
    let mut pinned = request("hi");
    pinned.provider = Some("failing".into());

    let err = gateway.complete(pinned).await.unwrap_err();

    assert_eq!(
        err,
        LlmError::AllFailed {
            attempts: vec![(
                "failing".into(),
                "HTTP 502 server error: Bad Gateway".into()
            )]
        }
    );
    assert!(requests(&spare).await.is_empty());
}

#[tokio::test]
async fn the_lowest_priority_number_goes_first_and_ties_go_by_name() {
    let (a, b, c) = (
        answering("a").await,
        answering("b").await,
        answering("c").await,
    );
    let mut pa = provider("alpha", &a);
    pa.priority = 5;
    let mut pb = provider("bravo", &b);
    pb.priority = 1;
    let mut pc = provider("charlie", &c);
    pc.priority = 1;
    let (gateway, _) = gateway(vec![pa, pc, pb], fast_settings());

    let completion = gateway.complete(request("hi")).await.unwrap();

    assert_eq!(
        (completion.provider.as_str(), completion.content.as_str()),
        ("bravo", "b")
    );
    let names: Vec<String> = gateway.status().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["bravo", "charlie", "alpha"]);
}

#[tokio::test]
async fn the_request_model_overrides_the_provider_model() {
    let server = answering("hi").await;
    let (gateway, usage) = gateway(vec![provider("p", &server)], fast_settings());
    let mut req = request("hi");
    req.model = Some("bigger-model".into());

    let completion = gateway.complete(req).await.unwrap();

    assert_eq!(completion.model, "bigger-model");
    assert_eq!(bodies(&server).await[0]["model"], "bigger-model");
    assert_eq!(usage.rows()[0].model, "bigger-model");
}

#[tokio::test]
async fn a_reload_swaps_providers_keeps_breaker_state_and_lets_calls_in_flight_finish() {
    let (slow, failing, fresh) = (
        MockServer::start().await,
        MockServer::start().await,
        answering("fresh").await,
    );
    Mock::given(method("POST"))
        .respond_with(answer("old set").set_delay(Duration::from_millis(300)))
        .mount(&slow)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&failing)
        .await;
    let mut settings = fast_settings();
    settings.max_retries = 0;
    settings.breaker_failures = 1;
    let mut broken = provider("broken", &failing);
    broken.priority = 9;
    let (gateway, _) = gateway(vec![provider("slow", &slow), broken.clone()], settings);
    let gateway = Arc::new(gateway);
    let mut pinned = request("hi");
    pinned.provider = Some("broken".into());
    assert!(gateway.complete(pinned).await.is_err());
    assert_eq!(gateway.status()[1].circuit, CircuitState::Open);

    let in_flight = tokio::spawn({
        let gateway = Arc::clone(&gateway);
        async move { gateway.complete(request("hi")).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    broken.priority = 0;
    gateway.reload(vec![broken, provider("fresh", &fresh)]);

    let finished = in_flight.await.unwrap().unwrap();
    assert_eq!(
        (finished.provider.as_str(), finished.content.as_str()),
        ("slow", "old set")
    );
    let status = gateway.status();
    assert_eq!(status.len(), 2);
    assert_eq!(
        (status[0].name.as_str(), status[0].circuit),
        ("broken", CircuitState::Open)
    );
    let next = gateway.complete(request("hi")).await.unwrap();
    assert_eq!(next.provider, "fresh", "the still-open 'broken' is skipped");
    assert_eq!(requests(&failing).await.len(), 1);
}
