//! No secret reaches a log line or a response: the real binary runs with every kind of secret
//! configured (LLM key, Tushare token, Bocha key, encryption key, a provider key stored over
//! the API), at debug level, through chat, a failing authenticated sync whose provider echoes
//! the token back, a failing web search, and a research run; then its whole log is searched.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::binary::free_port;

const BIN: &str = env!("CARGO_BIN_EXE_stockpilot");

const LLM_KEY: &str = "sk-llmsecret-7f3a9c2e1b";
const TUSHARE_TOKEN: &str = "tushare-secret-0c9d8e7f6a";
const BOCHA_KEY: &str = "bocha-secret-5e4d3c2b1a";
const STORED_KEY: &str = "sk-storedsecret-a1b2c3d4e5";
// 32 bytes, base64.
const ENCRYPTION_KEY: &str = "c2VjcmV0LWVuY3J5cHRpb24ta2V5LTMyLWJ5dGVzISE=";
/// The database password in `DATABASE_URL` (PostgreSQL with trust auth accepts any).
const DB_PASSWORD: &str = "pg-secret-9f8e7d6c";

#[tokio::test]
async fn no_secret_reaches_the_logs_or_a_response() {
    stockpilot_server::install_crypto_provider();
    let llm = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "c", "object": "chat.completion", "created": 1, "model": "stub",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "{\"signal\": \"neutral\", \"confidence\": 50, \"reasoning\": \"flat\"}"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
        })))
        .mount(&llm)
        .await;
    // Providers that echo the credential back in their error messages.
    let tushare = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "code": 40101, "msg": format!("token {TUSHARE_TOKEN} is invalid"), "data": null
        })))
        .mount(&tushare)
        .await;
    let bocha = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "code": 401, "msg": format!("bad key Bearer {BOCHA_KEY}")
        })))
        .mount(&bocha)
        .await;

    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("stockpilot.log");
    let port = free_port();
    // On PostgreSQL (make test-all) the URL carries a password, as deployments' URLs do.
    let pg = stockpilot_db::testing::TestDatabase::postgres()
        .await
        .unwrap();
    let database_url = match &pg {
        Some(db) => {
            let mut url = url::Url::parse(&db.url).unwrap();
            url.set_password(Some(DB_PASSWORD)).unwrap();
            url.to_string()
        }
        None => format!(
            "sqlite://{}/data/stockpilot.db?mode=rwc",
            dir.path().display()
        ),
    };
    let child = Command::new(BIN)
        .current_dir(dir.path())
        .env("STOCKPILOT_SERVER__HOST", "127.0.0.1")
        .env("STOCKPILOT_SERVER__PORT", port.to_string())
        .env(
            "STOCKPILOT_DATA__DEMO_DIR",
            format!("{}/../../data/demo", env!("CARGO_MANIFEST_DIR")),
        )
        .env("STOCKPILOT_LOGGING__FILE", &log)
        .env("DATABASE_URL", &database_url)
        .env("LOG_LEVEL", "debug")
        .env("LLM_BASE_URL", format!("{}/v1", llm.uri()))
        .env("LLM_MODEL", "stub")
        .env("LLM_API_KEY", LLM_KEY)
        .env("TUSHARE_TOKEN", TUSHARE_TOKEN)
        .env("STOCKPILOT_PROVIDERS__TUSHARE__BASE_URL", tushare.uri())
        .env("BOCHA_API_KEY", BOCHA_KEY)
        .env("STOCKPILOT_SEARCH__BASE_URL", bocha.uri())
        .env("STOCKPILOT_ENCRYPTION_KEY", ENCRYPTION_KEY)
        .env("STOCKPILOT_RESEARCH__POLL_INTERVAL_MS", "20")
        .env("STOCKPILOT_SYNC__POLL_INTERVAL_MS", "20")
        // The test polls fast; the default 600 reads a minute would answer 429.
        .env("STOCKPILOT_RATE_LIMIT__READS_PER_MINUTE", "100000")
        .args(["serve"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let api = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..300 {
        if reqwest::Client::new()
            .get(format!("{api}/ready"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "server never became ready");
    // The first-run admin key, then a second key made with it over the API.
    let admin_key = std::fs::read_to_string(dir.path().join("data/admin-api-key"))
        .unwrap()
        .trim()
        .to_owned();
    let client = crate::helpers::client_with_key(&admin_key);
    let created: serde_json::Value = client
        .post(format!("{api}/api/v1/admin/api-keys"))
        .json(&json!({"name": "desk", "role": "analyst"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let analyst_key = created["token"].as_str().unwrap().to_owned();
    let chat = reqwest::Client::new()
        .post(format!("{api}/api/v1/llm/chat"))
        .header("X-API-Key", &analyst_key)
        .json(&json!({"messages": [{"role": "user", "content": "hello"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(chat.status(), 200);

    let mut bodies = Vec::new();
    let mut post = async |path: &str, body: serde_json::Value| {
        let res = client
            .post(format!("{api}{path}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        bodies.push(text.clone());
        (status, text)
    };
    let (status, _) = post(
        "/api/v1/llm/chat",
        json!({"messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = post(
        "/api/v1/llm/providers",
        json!({"name": "stored", "preset": "deepseek", "base_url": format!("{}/v1", llm.uri()), "api_key": STORED_KEY}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _) = post("/api/v1/llm/web-search", json!({"query": "AAPL news"})).await;
    assert!(status >= 400, "the failing search answered {status}");
    let (status, job) = post(
        "/api/v1/sync/jobs",
        json!({"kind": "calendar", "market": "CN", "provider": "tushare"}),
    )
    .await;
    assert_eq!(status, 202, "{job}");
    let job_id = serde_json::from_str::<serde_json::Value>(&job).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, run) = post(
        "/api/v1/research/runs",
        json!({"symbols": ["AAPL"], "analysts": ["technical", "value_investor"], "as_of": "2012-12-31"}),
    )
    .await;
    assert_eq!(status, 202, "{run}");
    let run_id = serde_json::from_str::<serde_json::Value>(&run).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut ended = (false, false);
    for _ in 0..500 {
        let job: serde_json::Value = client
            .get(format!("{api}/api/v1/sync/jobs/{job_id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let run: serde_json::Value = client
            .get(format!("{api}/api/v1/research/runs/{run_id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ended = (
            ["failed", "succeeded", "paused"].contains(&job["status"].as_str().unwrap()),
            run["status"] == "succeeded",
        );
        if ended == (true, true) {
            bodies.push(job.to_string());
            bodies.push(run.to_string());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        ended,
        (true, true),
        "the sync job and the research run did not end"
    );
    for path in [
        "/api/v1/llm/providers",
        "/api/v1/llm/usage",
        "/api/v1/sync/failures",
    ] {
        bodies.push(
            client
                .get(format!("{api}{path}"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
    }

    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let logs = format!(
        "{}\n{}\n{}",
        std::fs::read_to_string(&log).unwrap(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // The run was logged in detail: the search below looked at real lines.
    assert!(logs.lines().count() > 50, "{logs}");
    assert!(
        logs.contains("request completed") && logs.contains("research run"),
        "{logs}"
    );
    assert!(logs.contains("tushare"), "the failing sync is in the log");
    let mut secrets = vec![
        LLM_KEY,
        TUSHARE_TOKEN,
        BOCHA_KEY,
        STORED_KEY,
        ENCRYPTION_KEY,
        admin_key.as_str(),
        analyst_key.as_str(),
    ];
    if pg.is_some() {
        secrets.push(DB_PASSWORD);
    }
    for secret in secrets {
        let leaks: Vec<&str> = logs.lines().filter(|l| l.contains(secret)).collect();
        assert!(
            leaks.is_empty(),
            "{secret} leaked into the logs: {leaks:#?}"
        );
        for body in &bodies {
            assert!(
                !body.contains(secret),
                "{secret} leaked into a response: {body}"
            );
        }
    }
}
