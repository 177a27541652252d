//! `stockpilot backtest` as a user runs it on the demo data: the files it writes checked
//! against each other (metrics recomputed from equity.csv, fills after signals, one decision
//! per symbol and date), the IC against scipy, LLM analysts within a call budget, and bad
//! input refused naming the option.

use std::path::Path;
use std::process::{Command, Output};

use crate::helpers::csv_rows;

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BIN: &str = env!("CARGO_BIN_EXE_stockpilot");

/// Runs `stockpilot` in `dir` (its own SQLite database there) with `args` and `env`.
fn stockpilot(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(BIN);
    command
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env_remove("LLM_BASE_URL")
        .args(args);
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().unwrap()
}

/// A directory whose database holds the demo data.
fn with_demo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let import = stockpilot(dir.path(), &["data", "import-demo"], &[]);
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    dir
}

fn ok(run: &Output) -> String {
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    String::from_utf8_lossy(&run.stdout).into_owned()
}

fn num(text: &str) -> f64 {
    text.parse().unwrap()
}

#[test]
fn a_weekly_backtest_of_the_demo_writes_files_that_agree_with_each_other() {
    let dir = with_demo();
    let table = ok(&stockpilot(
        dir.path(),
        &[
            "backtest",
            "AAPL",
            "MSFT",
            "IBM",
            "--from",
            "2005-01-01",
            "--to",
            "2012-12-31",
            "--analysts",
            "technical,risk",
            "--rebalance",
            "weekly",
            "--out",
            "out",
        ],
        &[],
    ));
    assert!(
        table.contains("Sharpe") && table.contains("RANK IC"),
        "{table}"
    );
    let out = dir.path().join("out");
    let equity = csv_rows(&out.join("equity.csv"));
    let orders = csv_rows(&out.join("orders.csv"));
    let decisions = csv_rows(&out.join("decisions.csv"));
    let ic = csv_rows(&out.join("ic.csv"));
    let metrics: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();

    // metrics.json recomputed from equity.csv: total return, Sharpe (daily, ddof 1, √252,
    // no risk-free rate) and the maximum drawdown.
    let nav: Vec<f64> = equity.iter().map(|r| num(&r[3])).collect();
    let total = nav[nav.len() - 1] / nav[0] - 1.0;
    assert!((metrics["total_return"].as_f64().unwrap() - total).abs() < 1e-12);
    let r: Vec<f64> = nav.windows(2).map(|w| w[1] / w[0] - 1.0).collect();
    let n = r.len() as f64;
    let mean = r.iter().sum::<f64>() / n;
    let sd = (r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let sharpe = mean / sd * 252f64.sqrt();
    assert!(
        (metrics["sharpe"].as_f64().unwrap() - sharpe).abs() < 1e-9,
        "{} vs {sharpe}",
        metrics["sharpe"]
    );
    let mut peak = f64::MIN;
    let mut mdd: f64 = 0.0;
    for v in &nav {
        peak = peak.max(*v);
        mdd = mdd.max(1.0 - v / peak);
    }
    assert!((metrics["max_drawdown"].as_f64().unwrap() - mdd).abs() < 1e-12);
    assert!(total != 0.0 && mdd > 0.0, "the book traded");

    // One row per rebalance date, symbol and analyst (technical, risk, the decision).
    let dates: std::collections::BTreeSet<&str> = decisions.iter().map(|r| r[0].as_str()).collect();
    let b = &metrics["backtest"];
    assert_eq!(dates.len() as u64, b["rebalance_dates"].as_u64().unwrap());
    assert_eq!(decisions.len(), dates.len() * 3 * 3);
    assert_eq!(b["symbol_days"].as_u64().unwrap() as usize, dates.len() * 3);
    let first_signal = *dates.iter().next().unwrap();
    assert_eq!(b["first_rebalance"], json!(first_signal));
    // Weekly = the last trading day of each week; 2012-12-31 ends the range (a Monday).
    assert_eq!(first_signal, "2005-01-07");
    assert_eq!(*dates.iter().next_back().unwrap(), "2012-12-31");

    // Every fill follows its signal; the first fill comes after the first signal; nothing is
    // ordered on the last day.
    assert!(!orders.is_empty());
    assert!(orders.iter().all(|o| o[1] > o[0]));
    assert!(orders.iter().map(|o| o[1].as_str()).min().unwrap() > first_signal);
    assert!(orders.iter().all(|o| o[0] != "2012-12-31"));

    // Buys are sized within the risk limit (≤ 20 % per symbol) and the weights sum to ≤ 1.
    for row in decisions.iter().filter(|r| r[2] == "decision") {
        let w = num(&row[6]);
        assert!((0.0..=0.2 + 1e-12).contains(&w), "{row:?}");
    }
    // The IC table: technical and the decision, over the run and per year 2005–2012.
    let periods = |analyst: &str| ic.iter().filter(|r| r[0] == analyst).count();
    assert_eq!(periods("technical"), 9);
    assert_eq!(periods("decision"), 9);
    let all = ic
        .iter()
        .find(|r| r[0] == "technical" && r[1] == "all")
        .unwrap();
    let scored = decisions
        .iter()
        .filter(|r| r[2] == "technical" && !r[4].is_empty() && !r[7].is_empty())
        .count();
    assert_eq!(num(&all[2]) as usize, scored);

    // The IC against scipy on the same vectors (make test-all sets ORACLE_PYTHON).
    if let Ok(python) = std::env::var("ORACLE_PYTHON") {
        let script = format!(
            "{}/../../scripts/oracles/backtest_ic.py",
            env!("CARGO_MANIFEST_DIR")
        );
        let run = Command::new(python)
            .arg(script)
            .arg(out.join("decisions.csv"))
            .output()
            .unwrap();
        let oracle: Value = serde_json::from_slice(&ok_bytes(&run)).unwrap();
        let mut compared = 0;
        for row in &ic {
            let key = format!("{} {}", row[0], row[1]);
            let expected = &oracle[&key];
            assert_eq!(
                expected["n"].as_u64().unwrap() as usize,
                num(&row[2]) as usize,
                "{key}"
            );
            for (column, name) in [(3, "pearson"), (4, "spearman")] {
                match expected[name].as_f64() {
                    Some(x) => {
                        assert!(
                            (num(&row[column]) - x).abs() < 1e-12,
                            "{key} {name}: {} vs {x}",
                            row[column]
                        );
                        compared += 1;
                    }
                    None => assert!(row[column].is_empty(), "{key} {name}"),
                }
            }
        }
        assert_eq!(compared, 36);
    } else {
        eprintln!(
            "ORACLE_PYTHON is not set: the IC is not compared with scipy (make test-all does)"
        );
    }
}

fn ok_bytes(run: &Output) -> Vec<u8> {
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    run.stdout.clone()
}

fn completion(content: &str) -> Value {
    json!({
        "id": "c1", "object": "chat.completion", "created": 1, "model": "stub-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 21, "completion_tokens": 7, "total_tokens": 28}
    })
}

#[tokio::test]
async fn llm_analysts_run_within_their_call_budget_and_a_larger_need_is_refused_up_front() {
    let stub = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion(
            r#"{"signal": "bearish", "confidence": 60, "reasoning": "return_12m is negative"}"#,
        )))
        .mount(&stub)
        .await;
    let base = format!("{}/v1", stub.uri());
    let env = [("LLM_BASE_URL", base.as_str()), ("LLM_MODEL", "stub-model")];
    let dir = with_demo();
    let args = |budget: &'static str, out: &'static str| {
        vec![
            "backtest",
            "IBM",
            "--from",
            "2010-01-01",
            "--to",
            "2010-12-31",
            "--analysts",
            "technical,value_investor,risk",
            "--rebalance",
            "monthly",
            "--out",
            out,
            "--max-llm-calls",
            budget,
        ]
    };

    // 12 monthly dates × 1 symbol × 1 call: a budget of 11 is refused before any call.
    let refused = stockpilot(dir.path(), &args("11", "llm"), &env);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("--max-llm-calls: this backtest needs up to 12 LLM calls (1 per symbol and date × 1 symbols × 12 rebalance dates); the budget allows 11"),
        "{err}"
    );
    assert!(stub.received_requests().await.unwrap().is_empty());

    ok(&stockpilot(dir.path(), &args("12", "llm"), &env));
    let calls = stub.received_requests().await.unwrap();
    assert_eq!(calls.len(), 12);
    // Repeatable questions: temperature 0, so the gateway's answer cache can serve a replay.
    let body: Value = serde_json::from_slice(&calls[0].body).unwrap();
    assert_eq!(body["temperature"], json!(0.0));
    let metrics: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("llm/metrics.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(metrics["backtest"]["llm"]["calls"], json!(12));
    let decisions = csv_rows(&dir.path().join("llm/decisions.csv"));
    let views: Vec<_> = decisions
        .iter()
        .filter(|r| r[2] == "value_investor")
        .collect();
    assert_eq!(views.len(), 12);
    assert!(
        views
            .iter()
            .all(|r| r[3] == "bearish" && r[4] == "-0.6" && r[5] == "60")
    );

    // A view that is missing says why: with 100 tokens (28 a call) the later dates are skipped.
    ok(&stockpilot(
        dir.path(),
        &[args("12", "tight"), vec!["--max-tokens", "100"]].concat(),
        &env,
    ));
    let header = std::fs::read_to_string(dir.path().join("tight/decisions.csv")).unwrap();
    assert!(
        header.starts_with(
            "date,symbol,analyst,signal,score,confidence,weight,forward_return,reason\n"
        ),
        "{header}"
    );
    let decisions = csv_rows(&dir.path().join("tight/decisions.csv"));
    let views: Vec<_> = decisions
        .iter()
        .filter(|r| r[2] == "value_investor")
        .collect();
    // Dates run in order: four calls spend 112 tokens, the other eight dates are skipped.
    let (answered, skipped) = views.split_at(4);
    for r in answered {
        assert_eq!((r[3].as_str(), r[8].as_str()), ("bearish", ""), "{r:?}");
    }
    assert_eq!(skipped.len(), 8);
    for r in skipped {
        assert_eq!(
            (r[3].as_str(), r[4].as_str(), r[8].as_str()),
            (
                "skipped",
                "",
                "the run's token budget of 100 tokens is used up (112 used)"
            ),
            "{r:?}"
        );
    }

    // Without a provider, LLM analysts are refused by name, not skipped silently.
    let none = stockpilot(dir.path(), &args("100", "llm"), &[]);
    assert!(!none.status.success());
    let err = String::from_utf8_lossy(&none.stderr);
    assert!(
        err.contains("--analysts: the LLM analysts need a provider"),
        "{err}"
    );
}

#[test]
fn bad_input_is_refused_naming_the_option() {
    let dir = with_demo();
    let base = [
        "backtest",
        "--from",
        "2010-01-01",
        "--to",
        "2010-12-31",
        "--out",
        "bad",
    ];
    let cases: [(&[&str], &str); 8] = [
        (&["AAPL", "--analysts", "technical"], "--analysts: add risk"),
        (
            &["AAPL", "--analysts", "risk"],
            "--analysts: risk sizes positions but does not vote",
        ),
        (
            &["AAPL", "--analysts", "technical,oracle,risk"],
            "--analysts: 'oracle' is not one of",
        ),
        (
            &["AAPL", "600519.SH"],
            "SYMBOLS: 600519.SH and AAPL trade on different markets",
        ),
        (&["AAPL", "AAPL"], "SYMBOLS: AAPL is given twice"),
        (
            &["AAPL", "--analysts", "technical,risk,technical"],
            "--analysts: 'technical' is given twice",
        ),
        (
            &["AAPL", "--rebalance", "hourly"],
            "--rebalance: 'hourly' is not one of",
        ),
        (&["NOPE"], "NOPE: no such instrument in the store"),
    ];
    for (extra, expected) in cases {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        let run = stockpilot(dir.path(), &args, &[]);
        let err = String::from_utf8_lossy(&run.stderr);
        assert!(!run.status.success(), "{args:?}");
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let after = stockpilot(
        dir.path(),
        &[
            "backtest",
            "AAPL",
            "--from",
            "2011-01-01",
            "--to",
            "2010-01-01",
            "--out",
            "bad",
        ],
        &[],
    );
    let err = String::from_utf8_lossy(&after.stderr);
    assert!(
        err.contains("--from: 2011-01-01 is after to 2010-01-01"),
        "{err}"
    );
    let one_day = stockpilot(
        dir.path(),
        &[
            "backtest",
            "AAPL",
            "--from",
            "2010-01-04",
            "--to",
            "2010-01-04",
            "--out",
            "bad",
        ],
        &[],
    );
    let err = String::from_utf8_lossy(&one_day.stderr);
    assert!(
        err.contains("--to: 2010-01-04 to 2010-01-04 holds 1 trading day(s) of the symbols; a backtest needs at least 2"),
        "{err}"
    );
}
