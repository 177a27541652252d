//! The API answers as its OpenAPI document says. One server — the demo dataset, plus stub LLM,
//! web-search and Financial Datasets upstreams — is driven through every route; each JSON body
//! is validated with `jsonschema` (Draft 2020-12, formats checked) against the schema the served
//! document gives for its path, method and status. Successes are taken with non-empty lists
//! (synced valuations and statements, a failure in the sync ledger, a finished research run),
//! and every error status the document declares is provoked at least once. Finally every
//! operation of the document must have had a success validated, except the event stream, which
//! is not JSON (its 404 body is validated).
//!
//! Not covered: `/metrics` (text) and the Swagger UI (neither is in the document), and
//! `500 internal_error`, which no request can provoke. Bodies are held to the schemas as
//! written: a property a schema does not declare passes unless it says
//! `additionalProperties: false`.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::RequestBuilder;
use serde_json::{Value, json};
use stockpilot_application::auth::Role;
use stockpilot_db::testing::TestDatabase;
use wiremock::matchers::{body_string_contains, method, path, query_param};
use wiremock::{Match, Mock, MockServer, ResponseTemplate};

use crate::helpers::{TestApp, WITH_DEMO, client_with_key};

/// Operations whose success is not JSON: only their error bodies are validated.
const NOT_JSON: [(&str, &str); 1] = [("GET", "/api/v1/research/runs/{id}/events")];
/// Error statuses the document declares that no request can provoke.
const UNPROVOKABLE: [u16; 1] = [500];
const ENCRYPTION_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="; // 32 bytes, base64
const MISSING: &str = "0194f0a0-0000-7000-8000-000000000000";
const VIEW: &str = r#"{"signal": "bullish", "confidence": 70, "reasoning": "above sma_200"}"#;
const RATIONALE: &str = r#"{"rationale": "The figures agree.", "risk_warnings": ["stub"]}"#;

const JOBS: &str = "/api/v1/sync/jobs";
const JOB: &str = "/api/v1/sync/jobs/{id}";
const RETRY: &str = "/api/v1/sync/failures/retry";
const RUNS: &str = "/api/v1/research/runs";
const RUN: &str = "/api/v1/research/runs/{id}";
const CANCEL_RUN: &str = "/api/v1/research/runs/{id}/cancel";
const CHAT: &str = "/api/v1/llm/chat";
const SEARCH: &str = "/api/v1/llm/web-search";
const PROVIDERS: &str = "/api/v1/llm/providers";
const PROVIDER: &str = "/api/v1/llm/providers/{name}";
const KEYS: &str = "/api/v1/admin/api-keys";
const AUDIT: &str = "/api/v1/admin/audit-log";
const AAPL: &str = "/api/v1/instruments/AAPL";
const INSTRUMENT: &str = "/api/v1/instruments/{symbol}";
const BARS: &str = "/api/v1/instruments/{symbol}/bars";
const VALUATIONS: &str = "/api/v1/instruments/{symbol}/valuations";
const FINANCIALS: &str = "/api/v1/instruments/{symbol}/financials";
const INDICATORS: &str = "/api/v1/instruments/{symbol}/indicators";
const CALENDAR: &str = "/api/v1/calendar/{exchange}";

/// The served document, what has been validated against it, and every mismatch found.
#[derive(Default)]
struct Conformance {
    doc: Value,
    base: String,
    admin: reqwest::Client,
    /// `(METHOD, path template)` of each operation with a success validated.
    covered: BTreeSet<(String, String)>,
    /// Error statuses validated.
    errors: BTreeSet<u16>,
    failures: Vec<String>,
}

impl Conformance {
    fn url(&self, target: &str) -> String {
        format!("{}{target}", self.base)
    }

    async fn get(&mut self, template: &str, target: &str, want: u16) -> Value {
        let request = self.admin.get(self.url(target));
        self.send(template, request, want).await
    }

    async fn post(&mut self, template: &str, target: &str, body: Value, want: u16) -> Value {
        let request = self.admin.post(self.url(target)).json(&body);
        self.send(template, request, want).await
    }

    /// Runs `(template, target, body, status, list)`: a GET without `body`, else a POST;
    /// `list`, when named, must not be empty.
    async fn cases(&mut self, cases: &[(&str, &str, Option<Value>, u16, &str)]) {
        for (template, target, body, want, list) in cases {
            let body = match body {
                None => self.get(template, target, *want).await,
                Some(body) => self.post(template, target, body.clone(), *want).await,
            };
            if !list.is_empty() {
                nonempty(&body, list);
            }
        }
    }

    /// Sends `request` (to a route of `template`), expects `want` and validates the body.
    async fn send(&mut self, template: &str, request: RequestBuilder, want: u16) -> Value {
        let (client, request) = request.build_split();
        let request = request.unwrap();
        let verb = request.method().as_str().to_owned();
        let res = client.execute(request).await.unwrap();
        let status = res.status().as_u16();
        let bytes = res.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                let text = String::from_utf8_lossy(&bytes);
                panic!("{verb} {template} → {status}: not JSON ({e}): {text}")
            })
        };
        assert_eq!(status, want, "{verb} {template}: {body}");
        self.check(&verb, template, status, &body);
        body
    }

    /// Validates `body` against the document's schema for the response, and records it.
    fn check(&mut self, verb: &str, template: &str, status: u16, body: &Value) {
        let route = format!("{verb} {template} → {status}");
        let operation = &self.doc["paths"][template][verb.to_ascii_lowercase()];
        let response = &operation["responses"][status.to_string()];
        if response.is_null() {
            self.failures.push(format!("{route}: not in the document"));
            return;
        }
        match (response.pointer("/content/application~1json/schema"), body) {
            (None, Value::Null) => {}
            (None, _) => self
                .failures
                .push(format!("{route}: a body, none documented")),
            (Some(schema), _) => {
                // `components` at the root, where `#/components/schemas/X` points.
                let mut root = json!({
                    "$schema": "https://json-schema.org/draft/2020-12/schema",
                    "components": self.doc["components"],
                });
                let own = schema.as_object().cloned().unwrap_or_default();
                root.as_object_mut().unwrap().extend(own);
                let built = jsonschema::draft202012::options()
                    .should_validate_formats(true)
                    .build(&root);
                match built {
                    Err(e) => self.failures.push(format!("{route}: bad schema: {e}")),
                    Ok(validator) => {
                        let errors: Vec<String> = validator
                            .iter_errors(body)
                            .map(|e| format!("{route} at '{}': {e}", e.instance_path()))
                            .collect();
                        self.failures.extend(errors);
                    }
                }
            }
        }
        if status < 300 {
            self.covered.insert((verb.to_owned(), template.to_owned()));
        } else {
            self.errors.insert(status);
        }
    }
}

#[track_caller]
fn nonempty(body: &Value, list: &str) {
    let items = body[list].as_array();
    assert!(
        items.is_some_and(|a| !a.is_empty()),
        "{list} is empty: {body}"
    );
}

fn id(body: &Value) -> &str {
    body["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id: {body}"))
}

/// `(METHOD, path template)` of every operation of the document.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (template, item) in doc["paths"].as_object().unwrap() {
        for verb in ["get", "post", "put", "patch", "delete"] {
            if item.get(verb).is_some() {
                ops.insert((verb.to_uppercase(), template.clone()));
            }
        }
    }
    ops
}

/// Answers `verb` requests to `at` that `only` matches with `reply`; lower numbers first.
async fn mount(
    server: &MockServer,
    (verb, at): (&str, &str),
    only: impl Match + 'static,
    reply: ResponseTemplate,
    priority: u8,
) {
    let mock = Mock::given(method(verb)).and(path(at)).and(only);
    mock.respond_with(reply)
        .with_priority(priority)
        .mount(server)
        .await;
}

fn completion(content: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "c1", "object": "chat.completion", "created": 1, "model": "stub-model",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 21, "completion_tokens": 7, "total_tokens": 28}
    }))
}

/// The upstreams: an OpenAI-compatible LLM (a rationale for the portfolio manager's prompt, a
/// view for the rest, MSFT's after 2 s so a run on it is still going when cancelled); Bocha
/// (out of balance for the query `broken`); Financial Datasets (one metrics row and one
/// statement; MSFT's metrics refused with 400, a `Malformed` failure for the ledger; IBM's
/// after 1.5 s, which keeps the one sync worker busy).
async fn stubs() -> (MockServer, MockServer, MockServer) {
    let (llm, bocha) = (MockServer::start().await, MockServer::start().await);
    let fd = MockServer::start().await;
    let chat = ("POST", "/v1/chat/completions");
    let slow_view = completion(VIEW).set_delay(Duration::from_secs(2));
    mount(
        &llm,
        chat,
        body_string_contains("Security: MSFT."),
        slow_view,
        1,
    )
    .await;
    mount(
        &llm,
        chat,
        body_string_contains("portfolio manager"),
        completion(RATIONALE),
        2,
    )
    .await;
    mount(&llm, chat, body_string_contains(""), completion(VIEW), 5).await;

    let search = ("POST", "/v1/web-search");
    let broke = json!({"code": "403", "message": "余额不足", "log_id": "l"});
    let broke = ResponseTemplate::new(403).set_body_json(broke);
    mount(&bocha, search, body_string_contains("\"broken\""), broke, 1).await;
    let found = ResponseTemplate::new(200).set_body_json(json!({
        "code": 200, "log_id": "l", "msg": null,
        "data": {"_type": "SearchResponse", "queryContext": {"originalQuery": "茅台"},
                 "webPages": {"totalEstimatedMatches": 1, "value": [
                    {"name": "贵州茅台年报", "url": "https://example.com/m", "snippet": "营收增长",
                     "displayUrl": "example.com", "siteName": "Example",
                     "dateLastCrawled": "2024-07-22T00:00:00Z"}]}}
    }));
    mount(&bocha, search, body_string_contains(""), found, 5).await;

    let metrics = ("GET", "/financial-metrics/");
    let row = ResponseTemplate::new(200).set_body_json(json!({"financial_metrics": [{
        "report_period": "2012-09-29", "market_cap": 623_500_000_000_i64,
        "price_to_earnings_ratio": 14.1, "price_to_book_ratio": 5.1, "return_on_equity": 0.35,
        "gross_margin": 0.44, "earnings_per_share": 44.15
    }]}));
    let refused = ResponseTemplate::new(400).set_body_json(json!({"error": "unknown ticker"}));
    mount(&fd, metrics, query_param("ticker", "MSFT"), refused, 1).await;
    let slow = row.clone().set_delay(Duration::from_millis(1500));
    mount(&fd, metrics, query_param("ticker", "IBM"), slow, 1).await;
    mount(&fd, metrics, body_string_contains(""), row, 5).await;
    let statement = ResponseTemplate::new(200).set_body_json(json!({"search_results": [{
        "ticker": "AAPL", "report_period": "2012-09-29", "currency": "USD",
        "revenue": 156_508_000_000_i64, "net_income": 41_733_000_000_i64,
        "total_assets": 176_064_000_000_i64, "net_cash_flow_from_operations": 50_856_000_000_i64
    }]}));
    let line_items = ("POST", "/financials/search/line-items");
    mount(&fd, line_items, body_string_contains(""), statement, 5).await;
    (llm, bocha, fd)
}

#[tokio::test]
async fn every_route_answers_with_bodies_its_openapi_document_describes() {
    let (llm, bocha, fd) = stubs().await;
    let (llm_base, bocha_uri, fd_uri) = (format!("{}/v1", llm.uri()), bocha.uri(), fd.uri());
    let mut settings = WITH_DEMO.to_vec();
    settings.extend([
        ("LLM_BASE_URL", llm_base.as_str()),
        ("LLM_MODEL", "stub-model"),
        ("BOCHA_API_KEY", "bocha-key-1"),
        ("STOCKPILOT_SEARCH__BASE_URL", bocha_uri.as_str()),
        ("FINANCIAL_DATASETS_API_KEY", "fd-key-1"),
        (
            "STOCKPILOT_PROVIDERS__FINANCIAL_DATASETS__BASE_URL",
            fd_uri.as_str(),
        ),
        ("STOCKPILOT_ENCRYPTION_KEY", ENCRYPTION_KEY),
        ("STOCKPILOT_RESEARCH__POLL_INTERVAL_MS", "20"),
        // A failure is due for a retry at once.
        ("STOCKPILOT_SYNC__RETRY_BACKOFF_SECS", "0"),
        ("STOCKPILOT_SERVER__MAX_BODY_BYTES", "4096"),
        // Limits out of reach but for research starts, to provoke a 429.
        ("STOCKPILOT_RATE_LIMIT__ENABLED", "true"),
        ("STOCKPILOT_RATE_LIMIT__READS_PER_MINUTE", "1000000"),
        ("STOCKPILOT_RATE_LIMIT__WRITES_PER_MINUTE", "1000000"),
        ("STOCKPILOT_RATE_LIMIT__CHAT_PER_MINUTE", "1000000"),
        ("STOCKPILOT_RATE_LIMIT__RESEARCH_PER_MINUTE", "5"),
    ]);
    let app = TestApp::spawn_on(TestDatabase::sqlite().unwrap(), &settings).await;
    let (status, doc) = app.get_json("/api/v1/openapi.json").await;
    assert_eq!(status, 200, "{doc}");
    let (base, admin) = (app.address.clone(), app.client.clone());
    let mut c = Conformance {
        doc,
        base,
        admin,
        ..Conformance::default()
    };
    c.get("/api/v1/openapi.json", "/api/v1/openapi.json", 200)
        .await;

    // Sync jobs run one at a time, oldest first: the GOOG job waits behind the slow valuations
    // job, and is cancelled while queued.
    let fd_job = |kind: &str, symbols: &[&str]| {
        json!({"kind": kind, "symbols": symbols, "provider": "financial_datasets",
               "start": "2012-01-01", "end": "2012-12-31", "batch_size": 1})
    };
    let valuations = c
        .post(
            JOBS,
            JOBS,
            fd_job("valuations", &["IBM", "AAPL", "MSFT"]),
            202,
        )
        .await;
    let financials = c
        .post(JOBS, JOBS, fd_job("financials_history", &["AAPL"]), 202)
        .await;
    let goog = json!({"kind": "daily_history", "symbols": ["GOOG"], "provider": "csv"});
    let cancel = format!("{JOBS}/{}/cancel", id(&c.post(JOBS, JOBS, goog, 202).await));
    let cancelled = c
        .post("/api/v1/sync/jobs/{id}/cancel", &cancel, json!({}), 200)
        .await;
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");

    // Research: the event stream ends with its run, so reading it to the end waits for the run.
    let run = json!({"symbols": ["AAPL"], "analysts": ["technical", "risk", "value_investor"],
                     "as_of": "2012-12-31"});
    let run_url = format!("{RUNS}/{}", id(&c.post(RUNS, RUNS, run, 202).await));
    let events = app.get(&format!("{run_url}/events")).await;
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    assert!(events.text().await.unwrap().contains("event: run_finished"));
    let run = c.get(RUN, &run_url, 200).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    nonempty(&run, "results");
    nonempty(&run, "decisions");
    let msft = json!({"symbols": ["MSFT"], "analysts": ["value_investor"]});
    let second = format!("{RUNS}/{}/cancel", id(&c.post(RUNS, RUNS, msft, 202).await));
    c.post(CANCEL_RUN, &second, json!({}), 202).await;
    // A new key's sixth research start within the minute is refused.
    let limited = app.auth.create("limited", Role::Analyst, "tests").await;
    let limited = client_with_key(&limited.unwrap().token);
    for want in [422, 422, 422, 422, 422, 429] {
        let request = limited.post(c.url(RUNS)).json(&json!({"symbols": []}));
        c.send(RUNS, request, want).await;
    }

    // LLM: chats, providers (one from configuration, one created over the API), web search.
    let ask = |provider: Value| json!({"messages": [{"role": "user", "content": "AAPL?"}], "provider": provider});
    let answer = c.post(CHAT, CHAT, ask(Value::Null), 200).await;
    assert_eq!(answer["provider"], "default", "{answer}");
    for (content_type, body, want) in [
        ("application/json", "{\"messages\": [".to_owned(), 400),
        ("text/plain", "{}".to_owned(), 415),
        ("application/json", "x".repeat(16 * 1024), 413),
    ] {
        let request = c
            .admin
            .post(c.url(CHAT))
            .header("content-type", content_type);
        c.send(CHAT, request.body(body), want).await;
    }
    let local = json!({"name": "local", "preset": "ollama", "base_url": llm_base,
                       "model": "stub-model", "api_key": "sk-local-test-0123456789"});
    let created = c.post(PROVIDERS, PROVIDERS, local.clone(), 201).await;
    assert!(!created.to_string().contains("0123456789"), "{created}");
    let test = "/api/v1/llm/providers/{name}/test";
    let tested = c
        .post(test, "/api/v1/llm/providers/local/test", json!({}), 200)
        .await;
    assert_eq!(tested["ok"], true, "{tested}");
    for (name, want) in [("local", 200), ("default", 409), ("nope", 404)] {
        let request = c.admin.patch(c.url(&format!("{PROVIDERS}/{name}")));
        c.send(PROVIDER, request.json(&json!({"enabled": false})), want)
            .await;
    }
    // Keys and roles: a reader's key is refused an admin route, then revoked.
    let key = c
        .post(
            KEYS,
            KEYS,
            json!({"name": "reader desk", "role": "reader"}),
            201,
        )
        .await;
    let reader = client_with_key(key["token"].as_str().unwrap());
    let request = reader
        .post(c.url(KEYS))
        .json(&json!({"name": "x", "role": "admin"}));
    c.send(KEYS, request, 403).await;
    let anonymous = reqwest::Client::new().get(c.url("/api/v1/instruments"));
    c.send("/api/v1/instruments", anonymous, 401).await;
    for (key_id, want) in [(id(&key), 200), (MISSING, 404)] {
        let request = c.admin.delete(c.url(&format!("{KEYS}/{key_id}")));
        c.send("/api/v1/admin/api-keys/{id}", request, want).await;
    }

    // The sync jobs' results: valuations and statements stored, MSFT in the failure ledger.
    for job in [&valuations, &financials] {
        let done = app.wait_for_job(id(job)).await;
        assert_eq!(done["status"], "succeeded", "{done}");
    }
    let job = c
        .get(JOB, &format!("{JOBS}/{}", id(&valuations)), 200)
        .await;
    assert_eq!(job["symbols_failed"], 1, "{job}");
    let failures = c
        .get("/api/v1/sync/failures", "/api/v1/sync/failures", 200)
        .await;
    assert_eq!(failures["items"][0]["symbol"], "MSFT", "{failures}");
    let retry = json!({"market": "US", "provider": "financial_datasets"});
    let retry = c.post(RETRY, RETRY, retry, 202).await;
    assert_eq!(
        retry["jobs"][0]["params"]["retry"][0]["symbol"], "MSFT",
        "{retry}"
    );

    c.cases(&[
        (
            "/api/v1/sync/jobs/{id}/cancel",
            &cancel,
            Some(json!({})),
            409,
            "",
        ),
        (JOBS, JOBS, Some(json!({"kind": "weekly"})), 422, ""),
        (
            JOBS,
            JOBS,
            Some(json!({"kind": "daily_history", "market": "CN"})),
            409,
            "",
        ),
        (RETRY, RETRY, Some(json!({"market": "HK"})), 422, ""),
        (
            CANCEL_RUN,
            &format!("{run_url}/cancel"),
            Some(json!({})),
            409,
            "",
        ),
        (
            CANCEL_RUN,
            &format!("{RUNS}/{MISSING}/cancel"),
            Some(json!({})),
            404,
            "",
        ),
        (CHAT, CHAT, Some(ask("nope".into())), 404, ""),
        (CHAT, CHAT, Some(json!({"messages": []})), 422, ""),
        (CHAT, CHAT, Some(ask("local".into())), 503, ""),
        (PROVIDERS, PROVIDERS, Some(local), 409, ""),
        (
            SEARCH,
            SEARCH,
            Some(json!({"query": "茅台"})),
            200,
            "results",
        ),
        (SEARCH, SEARCH, Some(json!({"query": "broken"})), 502, ""),
        (
            SEARCH,
            SEARCH,
            Some(json!({"query": "x", "count": 51})),
            422,
            "",
        ),
        (
            KEYS,
            KEYS,
            Some(json!({"name": "x", "role": "root"})),
            422,
            "",
        ),
        ("/health", "/health", None, 200, ""),
        ("/ready", "/ready", None, 200, "checks"),
        ("/api/v1/health", "/api/v1/health", None, 200, "checks"),
        (
            "/api/v1/instruments",
            "/api/v1/instruments?market=US",
            None,
            200,
            "items",
        ),
        (
            "/api/v1/instruments",
            "/api/v1/instruments?market=HK",
            None,
            422,
            "",
        ),
        (INSTRUMENT, AAPL, None, 200, ""),
        (INSTRUMENT, "/api/v1/instruments/ZZZZ", None, 404, ""),
        (INSTRUMENT, "/api/v1/instruments/60051.SH", None, 422, ""),
        (
            BARS,
            &format!("{AAPL}/bars?start=2012-12-03&adjust=forward"),
            None,
            200,
            "bars",
        ),
        (BARS, "/api/v1/instruments/ZZZZ/bars", None, 404, ""),
        (BARS, &format!("{AAPL}/bars?adjust=split"), None, 422, ""),
        (
            VALUATIONS,
            &format!("{AAPL}/valuations?start=2012-09-01"),
            None,
            200,
            "valuations",
        ),
        (
            VALUATIONS,
            "/api/v1/instruments/ZZZZ/valuations",
            None,
            404,
            "",
        ),
        (
            FINANCIALS,
            &format!("{AAPL}/financials"),
            None,
            200,
            "items",
        ),
        (
            FINANCIALS,
            &format!("{AAPL}/financials?period=quarterly"),
            None,
            200,
            "items",
        ),
        (
            FINANCIALS,
            &format!("{AAPL}/financials?statement=cash_flow"),
            None,
            200,
            "items",
        ),
        (
            FINANCIALS,
            &format!("{AAPL}/financials?statement=indicators"),
            None,
            200,
            "items",
        ),
        (
            FINANCIALS,
            &format!("{AAPL}/financials?statement=profit"),
            None,
            422,
            "",
        ),
        (
            INDICATORS,
            &format!("{AAPL}/indicators?set=sma:3,rsi:14"),
            None,
            200,
            "dates",
        ),
        (
            INDICATORS,
            &format!("{AAPL}/indicators?set=sma:0"),
            None,
            422,
            "",
        ),
        (
            CALENDAR,
            "/api/v1/calendar/SSE?start=2024-01-01&end=2024-01-31",
            None,
            200,
            "days",
        ),
        (CALENDAR, "/api/v1/calendar/LSE", None, 422, ""),
        (JOBS, JOBS, None, 200, "items"),
        (JOBS, "/api/v1/sync/jobs?status=done", None, 422, ""),
        (JOB, &format!("{JOBS}/{MISSING}"), None, 404, ""),
        (
            "/api/v1/research/analysts",
            "/api/v1/research/analysts",
            None,
            200,
            "analysts",
        ),
        (RUNS, RUNS, None, 200, "items"),
        (RUNS, "/api/v1/research/runs?status=done", None, 422, ""),
        (RUN, &format!("{RUNS}/{MISSING}"), None, 404, ""),
        (
            NOT_JSON[0].1,
            &format!("{RUNS}/{MISSING}/events"),
            None,
            404,
            "",
        ),
        (PROVIDERS, PROVIDERS, None, 200, "items"),
        (PROVIDER, "/api/v1/llm/providers/local", None, 200, ""),
        (PROVIDER, "/api/v1/llm/providers/nope", None, 404, ""),
        (
            "/api/v1/llm/usage",
            "/api/v1/llm/usage?group_by=purpose",
            None,
            200,
            "groups",
        ),
        (KEYS, KEYS, None, 200, "items"),
        (AUDIT, AUDIT, None, 200, "items"),
        (
            AUDIT,
            "/api/v1/admin/audit-log?outcome=maybe",
            None,
            422,
            "",
        ),
    ])
    .await;
    for (name, want) in [("local", 204), ("default", 409)] {
        let request = c.admin.delete(c.url(&format!("{PROVIDERS}/{name}")));
        c.send(PROVIDER, request, want).await;
    }

    // Every operation had a success validated, but those that are not JSON; every error status
    // the document declares was validated, but those no request can provoke.
    // (`openapi::tests` checks the document lists exactly the route table's operations.)
    let documented = operations(&c.doc);
    for (verb, template) in NOT_JSON {
        let ok = &c.doc["paths"][template][verb.to_ascii_lowercase()]["responses"]["200"];
        let content = &ok["content"];
        if content.get("application/json").is_some() || content.get("text/event-stream").is_none() {
            c.failures.push(format!(
                "{verb} {template}: not the event stream skipped here"
            ));
        }
    }
    for (verb, template) in documented.difference(&c.covered) {
        if !NOT_JSON.contains(&(verb.as_str(), template.as_str())) {
            c.failures
                .push(format!("{verb} {template}: no success validated"));
        }
    }
    let declared: BTreeSet<u16> = c.doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(Value::as_object)
        .flat_map(|item| item.values())
        .filter_map(|operation| operation.get("responses")?.as_object())
        .flat_map(|responses| responses.keys().filter_map(|k| k.parse::<u16>().ok()))
        .filter(|status| *status >= 400 && !UNPROVOKABLE.contains(status))
        .collect();
    for status in declared.difference(&c.errors) {
        c.failures
            .push(format!("error status {status}: never validated"));
    }
    let report = c.failures.join("\n");
    assert!(
        c.failures.is_empty(),
        "{} conformance failures:\n{report}",
        c.failures.len()
    );
    app.stop().await.unwrap();
}
