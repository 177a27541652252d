//! Research runs over HTTP on the demo data: signals, decisions, stored events and the SSE
//! stream (replay, live tail, reconnect), runs without an LLM, bad input, cancelling, and a
//! runner killed mid-run that resumes without repeating finished analysts.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use stockpilot_application::ports::{
    CircuitState, Completion, CompletionRequest, LlmError, LlmGateway, ProviderConfig,
    ProviderStatus, ResearchStore, SystemClock, TokenUsage,
};
use stockpilot_application::research::model::RunStatus;
use stockpilot_application::research::{ResearchService, ResearchSettings, Submission};
use stockpilot_db::testing::TestDatabase;
use stockpilot_db::{DbSettings, SeaStore};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{TestApp, WITH_DEMO};

fn completion(content: &str) -> Value {
    json!({
        "id": "c1", "object": "chat.completion", "created": 1, "model": "stub-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 21, "completion_tokens": 7, "total_tokens": 28}
    })
}

const VIEW: &str = r#"{"signal": "bullish", "confidence": 70, "reasoning": "close above sma_200 and return_12m positive"}"#;
const RATIONALE: &str = r#"{"rationale": "The personas agree on strength in the figures given.", "risk_warnings": ["stub warning"]}"#;

/// An OpenAI-compatible stub: decision rationales for the portfolio manager's prompt, an
/// analyst view for everything else.
async fn llm_stub() -> MockServer {
    llm_stub_answering_rationales_with(RATIONALE).await
}

/// As [`llm_stub`], with `rationale` as the answer to the portfolio manager's prompt.
async fn llm_stub_answering_rationales_with(rationale: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_string_contains("portfolio manager"))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion(rationale)))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion(VIEW)))
        .with_priority(5)
        .mount(&server)
        .await;
    server
}

/// A server with the demo data and `stub` as its LLM provider, polling for runs quickly.
async fn app_with_llm(stub: &MockServer) -> TestApp {
    let base = format!("{}/v1", stub.uri());
    let mut settings = WITH_DEMO.to_vec();
    settings.extend([
        ("LLM_BASE_URL", base.as_str()),
        ("LLM_MODEL", "stub-model"),
        ("STOCKPILOT_RESEARCH__POLL_INTERVAL_MS", "20"),
    ]);
    TestApp::spawn_on(any_db().await, &settings).await
}

/// PostgreSQL when `TEST_DATABASE_URL` is set, else SQLite.
async fn any_db() -> TestDatabase {
    match TestDatabase::postgres().await.unwrap() {
        Some(pg) => pg,
        None => TestDatabase::sqlite().unwrap(),
    }
}

/// Polls the run (one request per poll, bounded) until it has ended.
async fn wait_for_run(app: &TestApp, id: &str) -> Value {
    for _ in 0..1500 {
        let (_, run) = app.get_json(&format!("/api/v1/research/runs/{id}")).await;
        if !["queued", "running"].contains(&run["status"].as_str().unwrap_or_default()) {
            return run;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("research run {id} did not end");
}

/// `(id, event, data)` of every frame of an SSE body.
fn frames(body: &str) -> Vec<(i64, String, Value)> {
    body.split("\n\n")
        .filter(|f| f.contains("data: "))
        .map(|frame| {
            let mut id = -1;
            let mut event = String::new();
            let mut data = Value::Null;
            for line in frame.lines() {
                if let Some(v) = line.strip_prefix("id: ") {
                    id = v.parse().unwrap();
                } else if let Some(v) = line.strip_prefix("event: ") {
                    event = v.to_owned();
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data = serde_json::from_str(v).unwrap();
                }
            }
            (id, event, data)
        })
        .collect()
}

async fn stream(app: &TestApp, id: &str, last_event_id: Option<&str>) -> (u16, String, String) {
    let mut req = app
        .client
        .get(format!("{}/api/v1/research/runs/{id}/events", app.address));
    if let Some(last) = last_event_id {
        req = req.header("Last-Event-ID", last);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, res.text().await.unwrap())
}

#[tokio::test]
async fn a_three_symbol_run_gives_signals_decisions_stored_events_and_a_resumable_stream() {
    let stub = llm_stub().await;
    let app = app_with_llm(&stub).await;

    let (status, headers, created) = app
        .post_json(
            "/api/v1/research/runs",
            &json!({"symbols": ["AAPL", "MSFT", "IBM"], "as_of": "2012-12-31"}),
        )
        .await;
    assert_eq!(status, 202, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(
        headers["location"].to_str().unwrap(),
        format!("/api/v1/research/runs/{id}")
    );
    assert_eq!(created["analysts"].as_array().unwrap().len(), 8);

    // Connected while the run is still going: replays what happened, then tails it live.
    let (live_status, content_type, live) = stream(&app, &id, None).await;
    assert_eq!(live_status, 200);
    assert_eq!(content_type, "text/event-stream");

    let run = wait_for_run(&app, &id).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["progress"]["total"], 24);
    assert_eq!(run["progress"]["done"], 24);
    assert_eq!(run["progress"]["failed"], 0);
    let results = run["results"].as_array().unwrap();
    let result = |symbol: &str, analyst: &str| -> &Value {
        results
            .iter()
            .find(|r| r["symbol"] == symbol && r["analyst"] == analyst)
            .unwrap_or_else(|| panic!("no result {symbol}/{analyst}"))
    };
    for symbol in ["AAPL", "MSFT", "IBM"] {
        for persona in ["value_investor", "growth_investor", "contrarian"] {
            let r = result(symbol, persona);
            assert_eq!(r["status"], "succeeded", "{r}");
            assert_eq!(r["signal"]["signal"], "bullish");
            assert_eq!(r["signal"]["confidence"], 70);
            assert_eq!(r["usage"]["llm_calls"], 1);
            // The model saw the stored figures, and the result names them with their dates.
            let close = r["signal"]["inputs"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["name"] == "close")
                .unwrap();
            assert_eq!(close["as_of"], "2012-12-31");
        }
        // Nothing to read and no provider news: no view and no LLM call, never a made-up one.
        let news = result(symbol, "news_sentiment");
        assert_eq!(news["signal"]["signal"], "insufficient_data", "{news}");
        assert_eq!(news["usage"]["llm_calls"], 0);
        for quant in ["fundamentals", "valuation"] {
            assert_eq!(
                result(symbol, quant)["signal"]["signal"],
                "insufficient_data"
            );
        }
        let technical = &result(symbol, "technical")["signal"];
        assert_ne!(technical["signal"], "insufficient_data", "{technical}");
        let risk = &result(symbol, "risk")["signal"];
        assert!(
            risk["inputs"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["name"] == "max_position_pct")
        );
    }
    // Each symbol's decision: the vote, sized by the risk limit, with the LLM's rationale.
    let decisions = run["decisions"].as_array().unwrap();
    assert_eq!(decisions.len(), 3);
    for d in decisions {
        assert_eq!(d["rationale_by"], "llm", "{d}");
        assert_eq!(
            d["reasoning"],
            "The personas agree on strength in the figures given."
        );
        assert!(
            d["vote_reasoning"]
                .as_str()
                .unwrap()
                .starts_with("weighted vote")
        );
        assert!(
            d["risk_warnings"]
                .as_array()
                .unwrap()
                .contains(&json!("stub warning"))
        );
        assert!(
            d["contributing"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c.as_str().unwrap().starts_with("value_investor: bullish"))
        );
        let pct = d["position_pct"].as_f64().unwrap();
        assert!(
            pct <= d["max_position_pct"].as_f64().unwrap() + 1e-12,
            "{d}"
        );
    }
    // 3 personas × 3 symbols + 3 rationales, each 21 + 7 tokens.
    let calls = stub.received_requests().await.unwrap();
    assert_eq!(calls.len(), 12);
    assert_eq!(run["prompt_tokens"], 12 * 21);
    assert_eq!(run["usage"]["completion_tokens"], 12 * 7);

    // Stored events, replayed after the run: numbered 1…n, from run_started to run_finished.
    let (_, _, replay) = stream(&app, &id, None).await;
    let events = frames(&replay);
    let ids: Vec<i64> = events.iter().map(|(id, ..)| *id).collect();
    assert_eq!(ids, (1..=events.len() as i64).collect::<Vec<_>>());
    assert_eq!(events.first().unwrap().1, "run_started");
    assert_eq!(events.last().unwrap().1, "run_finished");
    let count = |kind: &str| events.iter().filter(|(_, k, _)| k == kind).count();
    assert_eq!(count("analyst_started"), 24);
    assert_eq!(count("analyst_finished"), 24);
    assert_eq!(count("decision"), 3);
    assert_eq!(events.last().unwrap().2["data"]["decisions"], 3);
    // The live stream missed nothing and ended with the run.
    assert_eq!(frames(&live), events);

    // A reconnect with Last-Event-ID gets exactly what came after.
    let (status, _, after) = stream(&app, &id, Some("10")).await;
    assert_eq!(status, 200);
    let rest = frames(&after);
    assert_eq!(rest.first().unwrap().0, 11);
    assert_eq!(rest, events[10..].to_vec());

    // The list finds it by symbol and status; a finished run cannot be cancelled.
    let (_, list) = app
        .get_json("/api/v1/research/runs?symbol=MSFT&status=succeeded")
        .await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], id.as_str());
    let (_, list) = app.get_json("/api/v1/research/runs?symbol=GOOG").await;
    assert_eq!(list["total"], 0);
    let (status, _, body) = app
        .post_json(&format!("/api/v1/research/runs/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(status, 409, "{body}");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn without_an_llm_a_run_completes_with_quantitative_signals_and_llm_analysts_skipped() {
    let mut settings = WITH_DEMO.to_vec();
    settings.push(("STOCKPILOT_RESEARCH__POLL_INTERVAL_MS", "20"));
    let app = TestApp::spawn_on(TestDatabase::sqlite().unwrap(), &settings).await;
    let (status, _, created) = app
        .post_json("/api/v1/research/runs", &json!({"symbols": ["IBM", "FB"]}))
        .await;
    assert_eq!(status, 202, "{created}");
    // No as_of: the newest stored bar of the symbols (the demo file ends 2013-03-01).
    assert_eq!(created["as_of"], "2013-03-01");
    let run = wait_for_run(&app, created["id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    for r in run["results"].as_array().unwrap() {
        match r["analyst"].as_str().unwrap() {
            "news_sentiment" | "value_investor" | "growth_investor" | "contrarian" => {
                assert_eq!(r["status"], "skipped", "{r}");
                assert!(
                    r["reason"].as_str().unwrap().contains("LLM_BASE_URL"),
                    "{r}"
                );
                assert!(r["signal"].is_null());
            }
            _ => assert_eq!(r["status"], "succeeded", "{r}"),
        }
    }
    let fb_technical = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["symbol"] == "FB" && r["analyst"] == "technical")
        .unwrap();
    // FB has 196 bars in the demo file: too few for a 200-bar view, and it says so.
    assert_eq!(fb_technical["signal"]["signal"], "insufficient_data");
    assert!(
        fb_technical["signal"]["reasoning"]
            .as_str()
            .unwrap()
            .contains("196")
    );
    for d in run["decisions"].as_array().unwrap() {
        assert_eq!(d["rationale_by"], "deterministic");
    }
    let ibm_technical = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["symbol"] == "IBM" && r["analyst"] == "technical")
        .unwrap();
    assert_eq!(
        crate::docs::shape(ibm_technical),
        crate::docs::shape(&crate::docs::documented_example(
            "docs/research.md",
            "**Every result** is served in this shape"
        )),
        "docs/research.md documents the served shape of a result"
    );
    let (_, catalogue) = app.get_json("/api/v1/research/analysts").await;
    let technical = &catalogue["analysts"][0];
    assert_eq!(
        technical["description"],
        stockpilot_domain::analysis::technical_description()
    );
    let names: Vec<&str> = catalogue["analysts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "technical",
            "fundamentals",
            "valuation",
            "risk",
            "news_sentiment",
            "value_investor",
            "growth_investor",
            "contrarian",
            "debate"
        ]
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn bad_research_requests_get_422_naming_the_field() {
    let mut settings = WITH_DEMO.to_vec();
    settings.push(("STOCKPILOT_RESEARCH__WORKERS", "0"));
    let app = TestApp::spawn_on(TestDatabase::sqlite().unwrap(), &settings).await;
    let cases = [
        (json!({"symbols": []}), "symbols"),
        (
            json!({"symbols": (0..21).map(|i| format!("T{i}")).collect::<Vec<_>>()}),
            "symbols",
        ),
        (json!({"symbols": ["AAPL", "aapl"]}), "symbols[1]"),
        (
            json!({"symbols": ["AAPL"], "analysts": ["astrologer"]}),
            "analysts[0]",
        ),
        (
            json!({"symbols": ["AAPL"], "analysts": ["debate"]}),
            "debate_rounds",
        ),
        (
            json!({"symbols": ["AAPL"], "debate_rounds": 9}),
            "debate_rounds",
        ),
        (json!({"symbols": ["AAPL"], "max_tokens": 0}), "max_tokens"),
        (json!({"symbols": ["AAPL"], "as_of": "2013-13-01"}), "as_of"),
        (json!({"symbols": ["AAPL"], "as_of": "2999-01-01"}), "as_of"),
        (
            json!({"symbols": ["AAPL"], "llm_provider": "nope"}),
            "llm_provider",
        ),
        (json!({"symbols": ["AAPL", "ZZZZ", "QQQQ"]}), "symbols[1]"),
    ];
    for (body, field) in cases {
        let (status, _, error) = app.post_json("/api/v1/research/runs", &body).await;
        assert_eq!(status, 422, "{body} → {error}");
        assert_eq!(error["error"]["code"], "validation_failed");
        let fields: Vec<&str> = error["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&field), "{body} → {error}");
    }
    // Unknown symbols are listed together.
    let (_, _, error) = app
        .post_json(
            "/api/v1/research/runs",
            &json!({"symbols": ["AAPL", "ZZZZ", "QQQQ"]}),
        )
        .await;
    assert_eq!(error["error"]["message"], "unknown symbols: ZZZZ, QQQQ");
    let (status, _, error) = app
        .post_json("/api/v1/research/runs", &json!({"symbol": ["AAPL"]}))
        .await;
    assert_eq!(status, 422);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `symbol`"),
        "{error}"
    );

    let missing = "01900000-0000-7000-8000-000000000000";
    assert_eq!(
        app.get(&format!("/api/v1/research/runs/{missing}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.get(&format!("/api/v1/research/runs/{missing}/events"))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.get("/api/v1/research/runs?status=done").await.status(),
        422
    );
    assert_eq!(
        app.get("/api/v1/research/runs?since=2024-02-01&until=2024-01-01")
            .await
            .status(),
        422
    );

    // With no worker the run stays queued; cancelling ends it at once, with its event.
    let (_, _, created) = app
        .post_json("/api/v1/research/runs", &json!({"symbols": ["AAPL"]}))
        .await;
    let id = created["id"].as_str().unwrap();
    let (status, _, cancelled) = app
        .post_json(&format!("/api/v1/research/runs/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(status, 202);
    assert_eq!(cancelled["status"], "cancelled");
    let (_, _, body) = stream(&app, id, None).await;
    let events = frames(&body);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].1, "run_cancelled");
    let res = app
        .client
        .get(format!("{}/api/v1/research/runs/{id}/events", app.address))
        .header("Last-Event-ID", "abc")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["details"][0]["field"], "Last-Event-ID");
    app.stop().await.unwrap();
}

/// A gateway whose answers about one symbol wait behind a gate, so a run can be killed
/// while that symbol's LLM analyst is in flight. Counts calls per purpose and symbol.
struct GatedGateway {
    gate_symbol: &'static str,
    open: AtomicBool,
    opened: tokio::sync::Notify,
    calls: Mutex<HashMap<String, u32>>,
}

#[async_trait::async_trait]
impl LlmGateway for GatedGateway {
    async fn complete(&self, request: CompletionRequest) -> Result<Completion, LlmError> {
        let text: String = request
            .messages
            .iter()
            .map(|m| m.content.as_str())
            .collect();
        let symbol = ["AAPL", "MSFT"]
            .into_iter()
            .find(|s| text.contains(&format!("Security: {s}.")))
            .unwrap_or("?");
        *self
            .calls
            .lock()
            .unwrap()
            .entry(format!(
                "{symbol} {}",
                request.purpose.split(' ').next_back().unwrap()
            ))
            .or_default() += 1;
        while symbol == self.gate_symbol && !self.open.load(Ordering::SeqCst) {
            let opened = self.opened.notified();
            if self.open.load(Ordering::SeqCst) {
                break;
            }
            opened.await;
        }
        let content = if request.purpose.ends_with("decision") {
            RATIONALE
        } else {
            VIEW
        };
        Ok(Completion {
            content: content.to_owned(),
            provider: "gated".into(),
            model: "m".into(),
            usage: TokenUsage {
                prompt_tokens: 10,
                completion_tokens: 5,
            },
            latency: Duration::ZERO,
            finish_reason: Some("stop".into()),
            cost_usd: 0.0,
            cached: false,
        })
    }
    fn status(&self) -> Vec<ProviderStatus> {
        vec![ProviderStatus {
            name: "gated".into(),
            enabled: true,
            circuit: CircuitState::Closed,
            in_flight: 0,
        }]
    }
    fn reload(&self, _providers: Vec<ProviderConfig>) {}
}

async fn service(
    db: &TestDatabase,
    gateway: Arc<GatedGateway>,
    stale_after: Duration,
) -> (Arc<ResearchService>, Arc<SeaStore>) {
    let conn = stockpilot_db::connect(&DbSettings {
        url: db.url.clone(),
        pool_min: 1,
        pool_max: 4,
        acquire_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(60),
    })
    .await
    .unwrap();
    let store = Arc::new(SeaStore::new(conn));
    let settings = ResearchSettings {
        stale_after,
        poll_interval: Duration::from_millis(10),
        ..ResearchSettings::default()
    };
    let service = Arc::new(ResearchService::new(
        store.clone(),
        store.clone(),
        Some(gateway),
        None,
        Arc::new(SystemClock),
        settings,
    ));
    (service, store)
}

#[tokio::test]
async fn a_runner_killed_mid_run_is_resumed_without_repeating_finished_analysts() {
    let db = any_db().await;
    // The server migrates and loads the demo data; its own research workers stay off.
    let mut settings = WITH_DEMO.to_vec();
    settings.push(("STOCKPILOT_RESEARCH__WORKERS", "0"));
    let app = TestApp::spawn_on(db, &settings).await;
    let gateway = Arc::new(GatedGateway {
        gate_symbol: "MSFT",
        open: AtomicBool::new(false),
        opened: tokio::sync::Notify::new(),
        calls: Mutex::new(HashMap::new()),
    });
    let (first, store) = service(&app._db, gateway.clone(), Duration::from_secs(60)).await;
    let run = first
        .submit(Submission {
            symbols: vec!["AAPL".into(), "MSFT".into()],
            analysts: Some(vec!["technical".into(), "value_investor".into()]),
            as_of: Some(chrono::NaiveDate::from_ymd_opt(2012, 12, 31).unwrap()),
            ..Submission::default()
        })
        .await
        .unwrap();
    let (_stop, shutdown) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(stockpilot_application::queue::run_worker(
        first.clone(),
        "first".into(),
        shutdown,
    ));

    // Wait (woken by each stored event) until AAPL is decided, MSFT's technical view is
    // stored and MSFT's LLM analyst is in flight behind the gate.
    let mut ready = false;
    for _ in 0..500 {
        let results = store.results(run.id).await.unwrap();
        let decided = store.decisions(run.id).await.unwrap();
        let msft_asked = gateway
            .calls
            .lock()
            .unwrap()
            .contains_key("MSFT analyst:value_investor");
        if results.len() == 3 && decided.len() == 1 && msft_asked {
            ready = true;
            break;
        }
        first.wait_for_events(Duration::from_millis(50)).await;
    }
    assert!(ready, "the run did not reach the kill point");
    // Kill: the worker's task is dropped mid-call, with no chance to clean up.
    worker.abort();
    assert!(worker.await.unwrap_err().is_cancelled());
    let killed = store.run(run.id).await.unwrap().unwrap();
    assert_eq!(killed.status, RunStatus::Running);

    // A new runner (another process) sees the run's heartbeat is stale and resumes it.
    gateway.open.store(true, Ordering::SeqCst);
    gateway.opened.notify_waiters();
    let (second, _) = service(&app._db, gateway.clone(), Duration::from_millis(1)).await;
    assert!(second.work_once("second").await.unwrap());
    let view = second.view(run.id).await.unwrap();
    assert_eq!(view.run.status, RunStatus::Succeeded);
    assert_eq!(view.run.attempts, 2);
    assert_eq!(view.results.len(), 4);
    assert_eq!(view.decisions.len(), 2);

    let events = store.events(run.id, 0, 1000).await.unwrap();
    let started = |symbol: &str, analyst: &str| {
        events
            .iter()
            .filter(|e| {
                e.kind == "analyst_started"
                    && e.data["symbol"] == symbol
                    && e.data["analyst"] == analyst
            })
            .count()
    };
    assert_eq!(started("AAPL", "technical"), 1);
    assert_eq!(started("AAPL", "value_investor"), 1);
    assert_eq!(started("MSFT", "technical"), 1);
    // The one analyst in flight at the kill ran again; nothing finished did.
    assert_eq!(started("MSFT", "value_investor"), 2);
    assert_eq!(events.iter().filter(|e| e.kind == "run_started").count(), 2);
    assert_eq!(events.iter().filter(|e| e.kind == "decision").count(), 2);
    let calls = gateway.calls.lock().unwrap().clone();
    assert_eq!(calls["AAPL analyst:value_investor"], 1);
    assert_eq!(calls["AAPL decision"], 1);
    assert_eq!(calls["MSFT analyst:value_investor"], 2);
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=events.len() as i64).collect::<Vec<_>>());
    app.stop().await.unwrap();
}

/// The rationale call answers with something that is not the JSON asked for, twice: the
/// decision keeps the vote's reasoning, and the run's usage still counts both calls, as the
/// usage ledger does.
#[tokio::test]
async fn a_run_counts_every_llm_call_the_ledger_records_failed_rationales_included() {
    let server = llm_stub_answering_rationales_with("no JSON here").await;
    let app = app_with_llm(&server).await;
    let (status, _, created) = app
        .post_json(
            "/api/v1/research/runs",
            &json!({"symbols": ["AAPL"], "as_of": "2012-12-31",
                    "analysts": ["technical", "value_investor", "risk"]}),
        )
        .await;
    assert_eq!(status, 202, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let run = wait_for_run(&app, &id).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    let decision = &run["decisions"][0];
    assert_eq!(decision["rationale_by"], "deterministic", "{decision}");
    // One persona call, then the rationale asked twice (the answer and one retry).
    assert_eq!(run["usage"]["llm_calls"], 3, "{}", run["usage"]);
    assert_eq!(run["usage"]["prompt_tokens"], 3 * 21);
    assert_eq!(run["usage"]["completion_tokens"], 3 * 7);
    let calls_made = server.received_requests().await.unwrap().len();
    assert_eq!(calls_made, 3);

    // The ledger's own view of the run's calls agrees.
    let today = chrono::Utc::now().date_naive();
    let (status, ledger) = app
        .get_json(&format!(
            "/api/v1/llm/usage?group_by=purpose&from={today}&to={today}"
        ))
        .await;
    assert_eq!(status, 200, "{ledger}");
    let mine: u64 = ledger["groups"]
        .as_array()
        .unwrap_or_else(|| panic!("{ledger}"))
        .iter()
        .filter(|g| {
            g["key"]
                .as_str()
                .unwrap_or_default()
                .starts_with(&format!("run:{id} "))
        })
        .map(|g| g["calls"].as_u64().unwrap())
        .sum();
    assert_eq!(mine, 3, "{ledger}");
    app.stop().await.unwrap();
}
