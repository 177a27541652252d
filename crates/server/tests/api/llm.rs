//! The LLM platform over HTTP: the default provider from LLM_BASE_URL (a local
//! OpenAI-compatible stub standing in for Ollama/vLLM), providers managed over the API with
//! keys sealed at rest and only masked in responses, usage, and web search.

use serde_json::{Value, json};
use stockpilot_db::testing::TestDatabase;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::TestApp;

const KEY: &str = "sk-live-test-abcdefghijklmnop9876";
const ENCRYPTION_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="; // 32 bytes, base64

async fn openai_stub(answer: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "c1", "object": "chat.completion", "created": 1, "model": "llama3.1",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 21, "completion_tokens": 7, "total_tokens": 28}
        })))
        .mount(&server)
        .await;
    server
}

async fn chat(app: &TestApp, body: Value) -> (u16, Value) {
    let (status, _, body) = app.post_json("/api/v1/llm/chat", &body).await;
    (status, body)
}

#[tokio::test]
async fn without_a_provider_llm_routes_answer_409_naming_the_settings() {
    let app = TestApp::spawn_on(TestDatabase::sqlite().unwrap(), &[]).await;
    let (status, body) = chat(
        &app,
        json!({"messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("LLM_BASE_URL"),
        "{body}"
    );
    let (_, providers) = app.get_json("/api/v1/llm/providers").await;
    assert_eq!(providers["items"], json!([]));
    let (status, _, body) = app
        .post_json(
            "/api/v1/llm/web-search",
            &json!({"query": "茅台 2024 年报"}),
        )
        .await;
    assert_eq!(status, 409);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("BOCHA_API_KEY")
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn llm_base_url_gives_a_default_provider_that_chats_and_records_usage() {
    let stub = openai_stub("Apple looks fairly valued.").await;
    let base = format!("{}/v1", stub.uri());
    let app = TestApp::spawn_on(
        TestDatabase::sqlite().unwrap(),
        &[
            ("LLM_BASE_URL", &base),
            ("LLM_MODEL", "llama3.1"),
            ("STOCKPILOT_LLM__PRICE_INPUT_PER_1K", "0.5"),
            ("STOCKPILOT_LLM__PRICE_OUTPUT_PER_1K", "1.5"),
        ],
    )
    .await;
    let (status, answer) = chat(&app, json!({"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "AAPL?"}], "temperature": 0.2})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["content"], "Apple looks fairly valued.");
    assert_eq!(
        (answer["provider"].as_str(), answer["model"].as_str()),
        (Some("default"), Some("llama3.1"))
    );
    assert_eq!(
        answer["usage"],
        json!({"prompt_tokens": 21, "completion_tokens": 7})
    );
    assert!(
        (answer["cost_usd"].as_f64().unwrap() - (21.0 * 0.5 + 7.0 * 1.5) / 1000.0).abs() < 1e-12
    );
    let sent: Value =
        serde_json::from_slice(&stub.received_requests().await.unwrap()[0].body).unwrap();
    assert_eq!(sent["model"], "llama3.1");
    assert_eq!(sent["messages"][1]["content"], "AAPL?");

    let (_, usage) = app.get_json("/api/v1/llm/usage?group_by=purpose").await;
    assert_eq!(usage["groups"][0]["key"], "chat", "{usage}");
    assert_eq!(
        (
            usage["total"]["calls"].as_u64(),
            usage["total"]["prompt_tokens"].as_u64()
        ),
        (Some(1), Some(21))
    );

    let (_, providers) = app.get_json("/api/v1/llm/providers").await;
    assert_eq!(providers["items"][0]["source"], "config");
    assert_eq!(providers["items"][0]["preset"], "custom");
    let (status, _, _) = app
        .post_json("/api/v1/llm/providers/default/test", &json!({}))
        .await;
    assert_eq!(status, 200);
    let res = app
        .client
        .patch(format!("{}/api/v1/llm/providers/default", app.address))
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        409,
        "configured providers are read-only over the API"
    );

    let cases = [
        (json!({"messages": []}), "messages"),
        (
            json!({"messages": [{"role": "user", "content": " "}]}),
            "messages[0].content",
        ),
        (
            json!({"messages": [{"role": "user", "content": "x"}], "temperature": 3.0}),
            "temperature",
        ),
        (
            json!({"messages": [{"role": "wizard", "content": "x"}]}),
            "body",
        ),
    ];
    for (body, field) in cases {
        let (status, res) = chat(&app, body.clone()).await;
        assert_eq!(status, 422, "{body}: {res}");
        assert_eq!(res["error"]["details"][0]["field"], field, "{body}: {res}");
    }
    let (status, res) = chat(
        &app,
        json!({"messages": [{"role": "user", "content": "x"}], "provider": "nope"}),
    )
    .await;
    assert_eq!(status, 404, "{res}");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn providers_are_managed_over_the_api_with_keys_sealed_and_masked() {
    let stub = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "choices": [{"message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1}
        })))
        .mount(&stub)
        .await;
    let db = TestDatabase::sqlite().unwrap();
    let db_url = db.url.clone();

    // Without an encryption key a provider key is refused, with the setting to set.
    let plain = TestApp::spawn_on(TestDatabase::sqlite().unwrap(), &[]).await;
    let (status, _, body) = plain
        .post_json("/api/v1/llm/providers", &json!({"name": "ds", "preset": "deepseek", "base_url": format!("{}/v1", stub.uri()), "api_key": KEY}))
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("STOCKPILOT_ENCRYPTION_KEY")
    );
    plain.stop().await.unwrap();

    let app = TestApp::spawn_with_url(
        db,
        &db_url,
        &[("STOCKPILOT_ENCRYPTION_KEY", ENCRYPTION_KEY)],
    )
    .await;
    let (status, _, bad) = app
        .post_json(
            "/api/v1/llm/providers",
            &json!({"name": "x", "base_url": "ftp://x", "model": "", "price_input_per_1k": -1}),
        )
        .await;
    assert_eq!(status, 422, "{bad}");
    let fields: Vec<&str> = bad["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["base_url", "model", "price_input_per_1k"]);

    let (status, headers, created) = app
        .post_json(
            "/api/v1/llm/providers",
            &json!({"name": "ds", "preset": "deepseek", "base_url": format!("{}/v1", stub.uri()), "api_key": KEY, "priority": 5}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(headers["location"], "/api/v1/llm/providers/ds");
    assert_eq!(created["api_key"], "sk-…9876");
    assert_eq!(
        (
            created["model"].as_str(),
            created["supports_json_schema"].as_bool()
        ),
        (Some("deepseek-chat"), Some(false)),
        "preset defaults"
    );

    let (status, answer) = chat(
        &app,
        json!({"messages": [{"role": "user", "content": "hi"}], "provider": "ds"}),
    )
    .await;
    assert_eq!(
        (status, answer["content"].as_str()),
        (200, Some("ok")),
        "the sealed key is opened for the call: {answer}"
    );

    // Only the sealed key is stored.
    let conn = sea_orm::Database::connect(db_url.as_str()).await.unwrap();
    use sea_orm::ConnectionTrait;
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT sealed_key FROM llm_providers WHERE name = 'ds'".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    let sealed: Vec<u8> = row.try_get_by_index(0).unwrap();
    assert!(sealed.len() > KEY.len());
    assert!(
        !String::from_utf8_lossy(&sealed).contains("abcdefghijklmnop"),
        "the key is not stored in clear"
    );

    let res = app
        .client
        .patch(format!("{}/api/v1/llm/providers/ds", app.address))
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (status, res) = chat(
        &app,
        json!({"messages": [{"role": "user", "content": "hi"}], "provider": "ds"}),
    )
    .await;
    assert_eq!(
        status, 503,
        "a disabled provider is unavailable at once, no restart: {res}"
    );

    let (_, listing) = app.get_json("/api/v1/llm/providers").await;
    let (_, one) = app.get_json("/api/v1/llm/providers/ds").await;
    for text in [listing.to_string(), one.to_string(), answer.to_string()] {
        assert!(!text.contains(KEY), "no response carries the key: {text}");
    }
    let res = app
        .client
        .delete(format!("{}/api/v1/llm/providers/ds", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let (status, _) = app.get_json("/api/v1/llm/providers/ds").await;
    assert_eq!(status, 404);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn web_search_goes_through_bocha_and_maps_its_errors() {
    let bocha = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/web-search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "code": 200, "log_id": "l", "msg": null,
            "data": {"_type": "SearchResponse", "queryContext": {"originalQuery": "茅台"},
                     "webPages": {"totalEstimatedMatches": 1, "value": [
                        {"name": "贵州茅台年报", "url": "https://example.com/m", "displayUrl": "example.com", "snippet": "营收增长", "siteName": "Example", "dateLastCrawled": "2024-07-22T00:00:00Z"}]}}
        })))
        .mount(&bocha)
        .await;
    let app = TestApp::spawn_on(
        TestDatabase::sqlite().unwrap(),
        &[
            ("BOCHA_API_KEY", "bocha-key-1"),
            ("STOCKPILOT_SEARCH__BASE_URL", &bocha.uri()),
        ],
    )
    .await;
    let (status, _, body) = app
        .post_json(
            "/api/v1/llm/web-search",
            &json!({"query": "茅台", "freshness": "oneMonth", "count": 5}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["title"], "贵州茅台年报");
    assert_eq!(body["results"][0]["published_at"], "2024-07-22T00:00:00Z");
    let (status, _, body) = app
        .post_json(
            "/api/v1/llm/web-search",
            &json!({"query": "x", "freshness": "lastWeek"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["details"][0]["field"].as_str()),
        (422, Some("freshness"))
    );
    let (status, _, _) = app
        .post_json(
            "/api/v1/llm/web-search",
            &json!({"query": "x", "count": 51}),
        )
        .await;
    assert_eq!(status, 422);

    bocha.reset().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_json(json!({"code": "403", "message": "余额不足", "log_id": "l"})),
        )
        .mount(&bocha)
        .await;
    let (status, _, body) = app
        .post_json("/api/v1/llm/web-search", &json!({"query": "another query"}))
        .await;
    assert_eq!(status, 502, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("out of balance")
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn json_chat_accepts_fenced_reasoned_json_and_reports_invalid_output_twice_as_llm_output_invalid()
 {
    let schema = json!({"name": "signal", "schema": {"type": "object", "properties": {"signal": {"type": "string"}}, "required": ["signal"]}, "example": {"signal": "neutral"}});
    let fenced =
        openai_stub("<think>weighing it up</think>\n```json\n{\"signal\": \"bullish\"}\n```").await;
    let app = TestApp::spawn_on(
        TestDatabase::sqlite().unwrap(),
        &[
            ("LLM_BASE_URL", &format!("{}/v1", fenced.uri())),
            ("LLM_MODEL", "qwen"),
        ],
    )
    .await;
    let (status, answer) = chat(
        &app,
        json!({"messages": [{"role": "user", "content": "AAPL?"}], "json_schema": schema}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["json"], json!({"signal": "bullish"}));
    let sent: Value =
        serde_json::from_slice(&fenced.received_requests().await.unwrap()[0].body).unwrap();
    assert_eq!(
        sent["response_format"]["type"], "json_object",
        "custom servers get json_object plus the schema in the prompt"
    );
    assert!(
        sent.to_string().contains("neutral"),
        "the example travels in the prompt: {sent}"
    );
    app.stop().await.unwrap();

    let prose = openai_stub("I would hold AAPL for now.").await;
    let app = TestApp::spawn_on(
        TestDatabase::sqlite().unwrap(),
        &[
            ("LLM_BASE_URL", &format!("{}/v1", prose.uri())),
            ("LLM_MODEL", "qwen"),
        ],
    )
    .await;
    let (status, err) = chat(
        &app,
        json!({"messages": [{"role": "user", "content": "AAPL?"}], "json_schema": schema}),
    )
    .await;
    assert_eq!(status, 502, "{err}");
    assert_eq!(err["error"]["code"], "llm_output_invalid");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'default'"),
        "{err}"
    );
    assert_eq!(
        err["error"]["details"][0]["message"],
        "I would hold AAPL for now."
    );
    assert_eq!(
        prose.received_requests().await.unwrap().len(),
        2,
        "retried exactly once"
    );
    app.stop().await.unwrap();
}
