//! Rate limits over HTTP: exhaustion with 429 and the RateLimit headers, per API key (per
//! address without one, the address taken from `X-Forwarded-For` only behind a trusted
//! proxy), one combined limit for two instances sharing Redis, and requests still served (with
//! per-instance limits, reported on `/ready`) when Redis goes away.

use std::net::SocketAddr;

use serde_json::json;
use stockpilot_db::testing::TestDatabase;

use crate::helpers::{FaultProxy, TestApp};

/// A client address no other test uses, so shared Redis counters never mix.
fn unique_client() -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("198.18.{}.{}", (n >> 8) % 250, n % 250)
}

/// A new analyst key: its id is new, so shared Redis counters never mix between tests.
async fn analyst_key(app: &TestApp) -> String {
    app.auth
        .create(
            "limited",
            stockpilot_application::auth::Role::Analyst,
            "tests",
        )
        .await
        .unwrap()
        .token
}

async fn chat_as(app: &TestApp, key: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/api/v1/llm/chat", app.address))
        .bearer_auth(key)
        .json(&json!({"messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap()
}

const LIMITED: &[(&str, &str)] = &[
    ("STOCKPILOT_RATE_LIMIT__ENABLED", "true"),
    ("STOCKPILOT_RATE_LIMIT__CHAT_PER_MINUTE", "2"),
];

#[tokio::test]
async fn a_key_over_its_limit_gets_429_with_retry_after_and_other_keys_do_not() {
    let app = TestApp::spawn_on(TestDatabase::sqlite().unwrap(), LIMITED).await;
    let client = analyst_key(&app).await;
    for remaining in ["1", "0"] {
        let res = chat_as(&app, &client).await;
        // No LLM is configured: 409, but the request counted.
        assert_eq!(res.status().as_u16(), 409);
        assert_eq!(res.headers()["ratelimit-limit"], "2");
        assert_eq!(res.headers()["ratelimit-remaining"], remaining);
    }
    let res = chat_as(&app, &client).await;
    assert_eq!(res.status().as_u16(), 429);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(res.headers()["ratelimit-remaining"], "0");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2 chat requests per minute")
    );
    // Another key from the same address, and another route group of the same key, are not
    // affected.
    assert_eq!(
        chat_as(&app, &analyst_key(&app).await)
            .await
            .status()
            .as_u16(),
        409
    );
    let res = reqwest::Client::new()
        .get(format!("{}/api/v1/instruments", app.address))
        .bearer_auth(&client)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    // Probes are never limited.
    assert_eq!(app.get("/health").await.status().as_u16(), 200);
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("stockpilot_rate_limited_total{group=\"chat\"}"),
        "{metrics}"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn forwarded_for_from_an_untrusted_peer_is_ignored() {
    let app = TestApp::spawn_on(
        TestDatabase::sqlite().unwrap(),
        &[
            ("STOCKPILOT_RATE_LIMIT__ENABLED", "true"),
            ("STOCKPILOT_RATE_LIMIT__WRITES_PER_MINUTE", "2"),
            // Without keys, clients are told apart by address.
            ("STOCKPILOT_AUTH__ENABLED", "false"),
            // The test connects from 127.0.0.1, which is not this proxy.
            ("STOCKPILOT_SERVER__TRUSTED_PROXIES", "192.0.2.1"),
        ],
    )
    .await;
    // Each request claims another client; all are counted as 127.0.0.1 — under the "writes"
    // group, which no other test limits.
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let res = app
            .client
            .post(format!("{}/api/v1/sync/failures/retry", app.address))
            .header("X-Forwarded-For", unique_client())
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
    }
    // Were the header believed, every request would be a new client with a fresh limit.
    // (Counts left by an earlier run within the minute may make the 429 come sooner.)
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(
        statuses.iter().filter(|s| **s != 429).count() <= 2,
        "{statuses:?}"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn two_instances_sharing_redis_enforce_one_combined_limit() {
    let Ok(_) = std::env::var("TEST_REDIS_URL") else {
        eprintln!("TEST_REDIS_URL not set; skipping the shared-limit test");
        return;
    };
    // Two instances of one deployment: one database (so one set of keys), one Redis.
    let a = TestApp::spawn_on(TestDatabase::sqlite().unwrap(), LIMITED).await;
    let shared_db = a._db.url.clone();
    let b = TestApp::spawn_with_url(TestDatabase::sqlite().unwrap(), &shared_db, LIMITED).await;
    let client = analyst_key(&a).await;
    let mut limited = 0;
    for i in 0..4 {
        let app = if i % 2 == 0 { &a } else { &b };
        if chat_as(app, &client).await.status().as_u16() == 429 {
            limited += 1;
        }
    }
    assert_eq!(limited, 2, "2 per minute across both instances, not 2 each");
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}

#[tokio::test]
async fn with_redis_gone_requests_are_still_served_with_per_instance_limits() {
    let Ok(redis_url) = std::env::var("TEST_REDIS_URL") else {
        eprintln!("TEST_REDIS_URL not set; skipping the Redis outage test");
        return;
    };
    let mut url = url::Url::parse(&redis_url).unwrap();
    let target: SocketAddr = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(6379))
        .parse()
        .unwrap();
    let proxy = FaultProxy::start(target).await;
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(proxy.addr.port())).unwrap();
    let mut settings = LIMITED.to_vec();
    let through = url.to_string();
    settings.push(("REDIS_URL", through.as_str()));
    settings.push(("STOCKPILOT_CACHE__CONNECT_TIMEOUT_SECS", "1"));
    let app = TestApp::spawn_on(TestDatabase::sqlite().unwrap(), &settings).await;
    let client = analyst_key(&app).await;
    assert_eq!(chat_as(&app, &client).await.status().as_u16(), 409);

    proxy.cut();
    // Served, never a 5xx from the limiter; this instance's own count already holds the
    // request it admitted before the cut, so the limit of 2 is not exceeded at the switch.
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(chat_as(&app, &client).await.status().as_u16());
    }
    assert_eq!(statuses, [409, 429, 429]);
    // The background probe opens the breaker without waiting for traffic (three failed pings,
    // one a second).
    let started = std::time::Instant::now();
    let (ready, check) = loop {
        let (_, ready) = app.get_json("/ready").await;
        let check = ready["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "rate_limiter")
            .unwrap_or_else(|| panic!("{ready}"))
            .clone();
        if check["status"] != "up" {
            break (ready, check);
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(6),
            "{ready}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_ne!(check["status"], "up", "{ready}");
    assert!(
        ready.to_string().contains("counted per instance"),
        "{ready}"
    );
    app.stop().await.unwrap();
}
