//! Fakes shared by the integration tests: a recording usage store, an in-memory cache (and a
//! broken one), a log capture, and the OpenAI-compatible answer shapes the stubs replay.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDate;
use serde_json::{Value, json};
use stockpilot_application::ports::{
    Cache, CacheError, ChatMessage, CompletionRequest, LlmUsageStore, OutputSchema, ProviderConfig,
    StoreError, UsageGroup, UsageRecord, UsageSummary,
};
use stockpilot_llm::{GatewaySettings, OpenAiGateway};
use wiremock::{MockServer, Request, ResponseTemplate};

pub const KEY: &str = "sk-test-SECRET-0123456789abcdef";

pub fn tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A provider at `server` with the test key, a 2 s timeout and prices 0.5 / 1.5 per 1k tokens.
pub fn provider(name: &str, server: &MockServer) -> ProviderConfig {
    ProviderConfig {
        name: name.into(),
        preset: "custom".into(),
        base_url: format!("{}/v1", server.uri()),
        model: "test-model".into(),
        api_key: Some(KEY.into()),
        organization: None,
        supports_json_schema: true,
        max_context_tokens: 8_000,
        max_output_tokens: 1_000,
        timeout: Duration::from_secs(2),
        max_concurrent: 4,
        priority: 0,
        enabled: true,
        price_input_per_1k: 0.5,
        price_output_per_1k: 1.5,
        source: "config".into(),
    }
}

/// Defaults, but with millisecond backoffs so retries do not slow the suite.
pub fn fast_settings() -> GatewaySettings {
    GatewaySettings {
        max_retries: 2,
        base_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(50),
        breaker_failures: 5,
        breaker_cooldown: Duration::from_secs(30),
        cache_ttl: None,
        jitter_seed: 7,
    }
}

pub fn gateway(
    providers: Vec<ProviderConfig>,
    settings: GatewaySettings,
) -> (OpenAiGateway, Arc<RecordingUsage>) {
    tls();
    let usage = Arc::new(RecordingUsage::default());
    let gateway = OpenAiGateway::new(providers, settings, usage.clone(), None).unwrap();
    (gateway, usage)
}

pub fn chat_path() -> wiremock::matchers::PathExactMatcher {
    wiremock::matchers::path("/v1/chat/completions")
}

/// A chat completion answer with `content` and the given token usage.
pub fn answer_with(
    content: Value,
    finish_reason: &str,
    prompt: u64,
    completion: u64,
) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "test-model-2024-01-01",
        "choices": [{
            "index": 0,
            "message": { "role": "assistant", "content": content, "reasoning_content": "ignored" },
            "finish_reason": finish_reason
        }],
        "usage": { "prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion }
    }))
}

pub fn answer(content: &str) -> ResponseTemplate {
    answer_with(json!(content), "stop", 120, 30)
}

pub fn openai_error(status: u16, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "error": { "message": message, "type": "invalid_request_error", "param": null, "code": null }
    }))
}

pub fn signal_schema() -> OutputSchema {
    OutputSchema {
        name: "analyst_signal".into(),
        schema: json!({
            "type": "object",
            "properties": {
                "signal": { "type": "string", "enum": ["bullish", "bearish", "neutral"] },
                "confidence": { "type": "integer", "minimum": 0, "maximum": 100 }
            },
            "required": ["signal", "confidence"],
            "additionalProperties": false
        }),
        example: json!({ "signal": "neutral", "confidence": 50 }),
    }
}

#[derive(Debug, PartialEq, serde::Deserialize)]
pub struct Signal {
    pub signal: String,
    pub confidence: u8,
}

pub fn request(text: &str) -> CompletionRequest {
    CompletionRequest {
        messages: vec![
            ChatMessage::system("You are a value investor."),
            ChatMessage::user(text),
        ],
        provider: None,
        model: None,
        temperature: Some(0.2),
        max_tokens: Some(500),
        schema: None,
        purpose: "analyst:value_investor".into(),
    }
}

pub fn structured_request(text: &str) -> CompletionRequest {
    CompletionRequest {
        schema: Some(signal_schema()),
        ..request(text)
    }
}

pub async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap_or_default()
}

pub async fn bodies(server: &MockServer) -> Vec<Value> {
    requests(server)
        .await
        .iter()
        .map(|r| r.body_json::<Value>().unwrap())
        .collect()
}

#[derive(Default)]
pub struct RecordingUsage {
    pub rows: Mutex<Vec<UsageRecord>>,
    pub fail: bool,
}

impl RecordingUsage {
    pub fn rows(&self) -> Vec<UsageRecord> {
        self.rows.lock().unwrap().clone()
    }

    pub fn outcomes(&self) -> Vec<(String, String)> {
        self.rows()
            .into_iter()
            .map(|r| (r.provider, r.outcome.as_str().to_owned()))
            .collect()
    }
}

#[async_trait::async_trait]
impl LlmUsageStore for RecordingUsage {
    async fn record(&self, usage: &UsageRecord) -> Result<(), StoreError> {
        if self.fail {
            return Err(StoreError(anyhow::anyhow!("usage table is gone")));
        }
        self.rows.lock().unwrap().push(usage.clone());
        Ok(())
    }

    async fn summary(
        &self,
        _from: NaiveDate,
        _to: NaiveDate,
        _group: UsageGroup,
    ) -> Result<Vec<UsageSummary>, StoreError> {
        Ok(Vec::new())
    }

    async fn purpose_totals(&self, prefix: &str) -> Result<UsageSummary, StoreError> {
        let rows = self.rows.lock().unwrap();
        let mine = rows.iter().filter(|r| r.purpose.starts_with(prefix));
        Ok(mine.fold(UsageSummary::empty(prefix), |mut t, r| {
            t.calls += 1;
            t.errors += u64::from(r.outcome.as_str() == "error");
            t.prompt_tokens += r.prompt_tokens;
            t.completion_tokens += r.completion_tokens;
            t.cost_usd += r.cost_usd;
            t
        }))
    }
}

/// An in-memory cache that ignores TTLs (tests never outlive them) and counts reads.
#[derive(Default)]
pub struct MemoryCache {
    pub entries: Mutex<HashMap<String, Vec<u8>>>,
    pub ttls: Mutex<Vec<Duration>>,
}

#[async_trait::async_trait]
impl Cache for MemoryCache {
    fn backend(&self) -> &'static str {
        "memory"
    }
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        Ok(self.entries.lock().unwrap().get(key).cloned())
    }
    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        self.ttls.lock().unwrap().push(ttl);
        self.entries
            .lock()
            .unwrap()
            .insert(key.to_owned(), value.to_vec());
        Ok(())
    }
    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        self.entries.lock().unwrap().remove(key);
        Ok(())
    }
}

/// A cache whose backend is down.
pub struct BrokenCache;

#[async_trait::async_trait]
impl Cache for BrokenCache {
    fn backend(&self) -> &'static str {
        "redis"
    }
    async fn get(&self, _key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        Err(CacheError("connection refused".into()))
    }
    async fn set(&self, _key: &str, _value: &[u8], _ttl: Duration) -> Result<(), CacheError> {
        Err(CacheError("connection refused".into()))
    }
    async fn delete(&self, _key: &str) -> Result<(), CacheError> {
        Err(CacheError("connection refused".into()))
    }
}

/// Everything logged on this thread while the guard lives (tests are current-thread).
#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl CapturedLogs {
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        let sink = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
