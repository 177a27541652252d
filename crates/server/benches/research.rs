//! The research pipeline under load: a 20-symbol run with 7 analysts (4 quantitative, 3 LLM
//! personas) plus an LLM-written rationale per decision, against an OpenAI-compatible stub
//! that answers every call in a fixed 200 ms, through the real gateway, store (SQLite) and
//! runner. Reports the wall time beside the ideal bound `LLM calls ÷ concurrency × 200 ms`,
//! and the CPU time the quantitative analysts spend per symbol.
//!
//! `cargo bench -p stockpilot-server --bench research` (`RESEARCH_LLM_DELAY_MS`, default 200;
//! `RESEARCH_CONCURRENCY`, default 8; `RESEARCH_REPEATS`, default 3; a Markdown table on
//! stdout and in `BENCH_OUT` when set). A benchmark reports; it asserts nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::json;
use stockpilot_application::llm::{from_preset, presets};
use stockpilot_application::ports::{DataBatch, MarketDataStore, SystemClock};
use stockpilot_application::research::analysts::{Analyst, Budget, LlmAccess, catalogue};
use stockpilot_application::research::data::SymbolData;
use stockpilot_application::research::model::{ResultStatus, RunStatus};
use stockpilot_application::research::{ResearchService, ResearchSettings, Submission};
use stockpilot_db::SeaStore;
use stockpilot_db::testing::TestDatabase;
use stockpilot_domain::analysis::{RiskParams, risk_limits};
use stockpilot_domain::market::{DailyBar, Symbol};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ANALYSTS: [&str; 7] = [
    "technical",
    "fundamentals",
    "valuation",
    "risk",
    "value_investor",
    "growth_investor",
    "contrarian",
];

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The demo bars of AAPL, MSFT, IBM and GOOG copied onto 20 synthetic tickers.
fn bars() -> Vec<DailyBar> {
    let path = format!(
        "{}/../../data/demo/us-equities-daily-2000-2013.csv.gz",
        env!("CARGO_MANIFEST_DIR")
    );
    let reader = BufReader::new(flate2::read::GzDecoder::new(
        std::fs::File::open(path).unwrap(),
    ));
    let sources = ["AAPL", "MSFT", "IBM", "GOOG"];
    let mut rows: Vec<(usize, NaiveDate, [Decimal; 5])> = Vec::new();
    for line in reader.lines().skip(1) {
        let line = line.unwrap();
        let f: Vec<&str> = line.split(',').collect();
        if let Some(i) = sources.iter().position(|s| *s == f[0]) {
            let d = |i: usize| f[i].parse::<Decimal>().unwrap();
            rows.push((
                i,
                NaiveDate::parse_from_str(f[1], "%Y-%m-%d").unwrap(),
                [d(2), d(3), d(4), d(5), d(6)],
            ));
        }
    }
    let mut out = Vec::new();
    for n in 0..20u8 {
        let symbol = Symbol::parse(&format!("BN{}", (b'A' + n) as char)).unwrap();
        for (_, date, [open, high, low, close, volume]) in rows
            .iter()
            .filter(|(i, ..)| *i == usize::from(n) % sources.len())
        {
            out.push(DailyBar {
                symbol: symbol.clone(),
                trade_date: *date,
                open: *open,
                high: *high,
                low: *low,
                close: *close,
                pre_close: None,
                change: None,
                pct_change: None,
                volume: *volume,
                amount: None,
            });
        }
    }
    out
}

fn completion(content: &str) -> serde_json::Value {
    json!({
        "id": "c", "object": "chat.completion", "created": 1, "model": "stub",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 300, "completion_tokens": 60, "total_tokens": 360}
    })
}

fn main() {
    stockpilot_server::install_crypto_provider();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run());
}

async fn run() {
    let delay = Duration::from_millis(env_u64("RESEARCH_LLM_DELAY_MS", 200));
    let concurrency = env_u64("RESEARCH_CONCURRENCY", 8) as usize;
    let repeats = env_u64("RESEARCH_REPEATS", 3);

    let db = TestDatabase::sqlite().unwrap();
    let conn = stockpilot_db::connect(&stockpilot_db::DbSettings {
        url: db.url.clone(),
        pool_min: 1,
        pool_max: 8,
        acquire_timeout: Duration::from_secs(30),
        idle_timeout: Duration::from_secs(600),
    })
    .await
    .unwrap();
    migration::ops::upgrade(&conn, &migration::ops::UpgradeTarget::Head)
        .await
        .unwrap();
    let store = Arc::new(SeaStore::new(conn));
    let all = bars();
    for chunk in all.chunks(20_000) {
        store
            .upsert("csv", &DataBatch::DailyBars(chunk.to_vec()))
            .await
            .unwrap();
    }
    let symbols: Vec<String> = (0..20u8)
        .map(|n| format!("BN{}", (b'A' + n) as char))
        .collect();

    let stub = MockServer::start().await;
    let view = r#"{"signal": "bullish", "confidence": 60, "reasoning": "close above sma_200"}"#;
    let rationale = r#"{"rationale": "The views agree.", "risk_warnings": []}"#;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_string_contains("portfolio manager"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(delay)
                .set_body_json(completion(rationale)),
        )
        .with_priority(1)
        .mount(&stub)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(delay)
                .set_body_json(completion(view)),
        )
        .with_priority(5)
        .mount(&stub)
        .await;
    let mut provider = from_preset("stub", presets::preset("custom").unwrap());
    provider.base_url = format!("{}/v1", stub.uri());
    provider.model = "stub".into();
    provider.max_concurrent = u32::try_from(concurrency).unwrap();
    provider.source = "config".into();
    let gateway = Arc::new(
        stockpilot_llm::OpenAiGateway::new(vec![provider], Default::default(), store.clone(), None)
            .unwrap(),
    );
    let settings = ResearchSettings {
        run_concurrency: concurrency,
        max_concurrent_analysts: concurrency.max(16),
        poll_interval: Duration::from_millis(10),
        ..ResearchSettings::default()
    };
    let service = ResearchService::new(
        store.clone(),
        store.clone(),
        Some(gateway),
        None,
        Arc::new(SystemClock),
        settings,
    );

    let mut walls = Vec::new();
    let mut llm_calls = 0;
    for _ in 0..repeats {
        let before = stub.received_requests().await.unwrap().len();
        let started = Instant::now();
        let run = service
            .submit(Submission {
                symbols: symbols.clone(),
                analysts: Some(ANALYSTS.iter().map(|a| (*a).to_owned()).collect()),
                as_of: Some(NaiveDate::from_ymd_opt(2012, 12, 31).unwrap()),
                ..Submission::default()
            })
            .await
            .unwrap();
        let claimed = service.claim(run.id, "bench").await.unwrap().unwrap();
        let (_stop, mut shutdown) = tokio::sync::watch::channel(false);
        assert!(
            stockpilot_application::queue::drive(&service, &claimed, "bench", &mut shutdown).await
        );
        let wall = started.elapsed();
        let view = service.view(run.id).await.unwrap();
        assert_eq!(view.run.status, RunStatus::Succeeded);
        assert!(
            view.results
                .iter()
                .all(|r| r.status == ResultStatus::Succeeded),
            "an analyst failed"
        );
        llm_calls = stub.received_requests().await.unwrap().len() - before;
        walls.push(wall);
    }
    walls.sort();
    let median = walls[walls.len() / 2];
    let ideal = delay.mul_f64(llm_calls as f64 / concurrency as f64);

    // CPU time of the quantitative analysts per symbol, on the loaded data (no I/O).
    let as_of = NaiveDate::from_ymd_opt(2012, 12, 31).unwrap();
    let mut data = Vec::new();
    for s in &symbols {
        data.push(
            SymbolData::load(
                store.as_ref(),
                store.as_ref(),
                &Symbol::parse(s).unwrap(),
                as_of,
            )
            .await
            .unwrap(),
        );
    }
    let quant: Vec<Arc<dyn Analyst>> = catalogue()
        .into_iter()
        .filter(|a| ["technical", "fundamentals", "valuation", "risk"].contains(&a.name()))
        .collect();
    let llm = LlmAccess {
        gateway: None,
        search: None,
        provider: None,
        budget: Arc::new(Budget::new(1, 0)),
        purpose_prefix: "run:bench ".into(),
        debate_rounds: 0,
        max_tokens_per_call: 16,
        temperature: stockpilot_application::research::analysts::RESEARCH_TEMPERATURE,
    };
    let rounds = 50;
    let mut per_analyst = vec![Duration::ZERO; quant.len()];
    let mut risk_total = Duration::ZERO;
    for _ in 0..rounds {
        let t = Instant::now();
        let series: Vec<_> = data
            .iter()
            .map(|d| (d.symbol.clone(), d.closes()))
            .collect();
        let limits = risk_limits(
            Decimal::from(1_000_000),
            &series,
            as_of,
            &RiskParams::default(),
        );
        risk_total += t.elapsed();
        for (d, l) in data.iter_mut().zip(limits) {
            d.risk_limit = Some(l);
        }
        for (i, a) in quant.iter().enumerate() {
            let t = Instant::now();
            for d in &data {
                std::hint::black_box(a.analyze(d, &llm).await.unwrap());
            }
            per_analyst[i] += t.elapsed();
        }
    }
    let per_symbol =
        |d: Duration| d.as_secs_f64() * 1000.0 / f64::from(rounds) / symbols.len() as f64;
    let total_cpu: f64 =
        per_analyst.iter().map(|d| per_symbol(*d)).sum::<f64>() + per_symbol(risk_total);

    let mut report = String::new();
    report.push_str("| measure | value | target |\n|---|---|---|\n");
    report.push_str(&format!(
        "| run: 20 symbols × 7 analysts, stub LLM {} ms, concurrency {concurrency} | median wall {:.3} s (runs: {}) | ≤ 1.2 × bound |\n",
        delay.as_millis(),
        median.as_secs_f64(),
        walls.iter().map(|w| format!("{:.3}", w.as_secs_f64())).collect::<Vec<_>>().join(", ")
    ));
    report.push_str(&format!(
        "| ideal bound: {llm_calls} LLM calls ÷ {concurrency} × {} ms | {:.3} s | |\n",
        delay.as_millis(),
        ideal.as_secs_f64()
    ));
    report.push_str(&format!(
        "| wall ÷ bound | {:.3} | ≤ 1.20 ({}) |\n",
        median.as_secs_f64() / ideal.as_secs_f64(),
        if median.as_secs_f64() <= 1.2 * ideal.as_secs_f64() {
            "met"
        } else {
            "not met"
        }
    ));
    for (a, d) in quant.iter().zip(&per_analyst) {
        report.push_str(&format!(
            "| CPU per symbol: {} | {:.3} ms | |\n",
            a.name(),
            per_symbol(*d)
        ));
    }
    report.push_str(&format!(
        "| CPU per symbol: risk limits across the 20 symbols (share) | {:.3} ms | |\n",
        per_symbol(risk_total)
    ));
    report.push_str(&format!(
        "| CPU per symbol: all quantitative analysts | {total_cpu:.3} ms | < 5 ms ({}) |\n",
        if total_cpu < 5.0 { "met" } else { "not met" }
    ));
    print!("{report}");
    if let Ok(out) = std::env::var("BENCH_OUT") {
        std::fs::File::create(out)
            .unwrap()
            .write_all(report.as_bytes())
            .unwrap();
    }
}
