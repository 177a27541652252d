//! Metrics through the `metrics` facade, read back with metrics-util's debugging recorder
//! (installed thread-locally, so the test runs its own current-thread runtime).

use std::time::Duration;

use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use stockpilot_application::ports::LlmGateway;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

type Row = (
    metrics_util::CompositeKey,
    Option<metrics::Unit>,
    Option<metrics::SharedString>,
    DebugValue,
);

fn value<'a>(rows: &'a [Row], name: &str, labels: &[(&str, &str)]) -> Option<&'a DebugValue> {
    rows.iter()
        .find(|(key, ..)| {
            let key = key.key();
            key.name() == name
                && labels
                    .iter()
                    .all(|(k, v)| key.labels().any(|l| l.key() == *k && l.value() == *v))
        })
        .map(|(.., value)| value)
}

fn counter(rows: &[Row], name: &str, labels: &[(&str, &str)]) -> u64 {
    match value(rows, name, labels) {
        Some(DebugValue::Counter(n)) => *n,
        other => panic!("{name} {labels:?}: {other:?}"),
    }
}

fn gauge(rows: &[Row], name: &str, labels: &[(&str, &str)]) -> f64 {
    match value(rows, name, labels) {
        Some(DebugValue::Gauge(v)) => v.0,
        other => panic!("{name} {labels:?}: {other:?}"),
    }
}

#[test]
fn calls_tokens_latency_and_provider_state_are_exported() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    metrics::with_local_recorder(&recorder, || {
        runtime.block_on(async {
            let (good, bad) = (MockServer::start().await, MockServer::start().await);
            Mock::given(method("POST"))
                .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
                .up_to_n_times(1)
                .mount(&good)
                .await;
            Mock::given(method("POST"))
                .respond_with(answer("fine"))
                .mount(&good)
                .await;
            Mock::given(method("POST"))
                .respond_with(ResponseTemplate::new(500))
                .mount(&bad)
                .await;
            let mut broken = provider("bad", &bad);
            broken.priority = -1;
            let mut settings = fast_settings();
            settings.max_retries = 1;
            settings.breaker_failures = 1;
            settings.breaker_cooldown = Duration::from_secs(60);
            let (gateway, _) = gateway(vec![provider("good", &good), broken], settings);

            let completion = gateway.complete(request("hi")).await.unwrap();
            assert_eq!(completion.provider, "good");
        });
    });

    let rows = snapshotter.snapshot().into_vec();
    let good_ok = [
        ("provider", "good"),
        ("model", "test-model"),
        ("outcome", "ok"),
    ];
    let good_err = [
        ("provider", "good"),
        ("model", "test-model"),
        ("outcome", "error"),
    ];
    let bad_err = [
        ("provider", "bad"),
        ("model", "test-model"),
        ("outcome", "error"),
    ];
    assert_eq!(counter(&rows, "stockpilot_llm_calls_total", &good_ok), 1);
    assert_eq!(counter(&rows, "stockpilot_llm_calls_total", &good_err), 1);
    assert_eq!(counter(&rows, "stockpilot_llm_calls_total", &bad_err), 2);
    assert_eq!(
        counter(
            &rows,
            "stockpilot_llm_tokens_total",
            &[("provider", "good"), ("kind", "prompt")]
        ),
        120
    );
    assert_eq!(
        counter(
            &rows,
            "stockpilot_llm_tokens_total",
            &[("provider", "good"), ("kind", "completion")]
        ),
        30
    );
    match value(
        &rows,
        "stockpilot_llm_request_duration_seconds",
        &[("provider", "good")],
    ) {
        Some(DebugValue::Histogram(samples)) => assert_eq!(samples.len(), 2),
        other => panic!("histogram: {other:?}"),
    }
    let of = |p: &'static str| [("provider", p)];
    assert_eq!(
        gauge(&rows, "stockpilot_llm_circuit_state", &of("good")),
        0.0
    );
    assert_eq!(
        gauge(&rows, "stockpilot_llm_provider_available", &of("good")),
        1.0
    );
    assert_eq!(
        gauge(&rows, "stockpilot_llm_circuit_state", &of("bad")),
        2.0
    );
    assert_eq!(
        gauge(&rows, "stockpilot_llm_provider_available", &of("bad")),
        0.0
    );
}
