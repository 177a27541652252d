//! A new user's first hour with an installed binary: started from an empty directory outside
//! the repository, with no configuration and no environment beyond `PATH` and `HOME`, it
//! serves the demo data built into it, runs research on it, and exports every alerting
//! series from the first scrape.
//!
//! `make test` runs the debug binary; `make test-all` runs this test again against the
//! release binary (`STOCKPILOT_BIN=target/release/stockpilot`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::binary::free_port;

fn binary() -> PathBuf {
    std::env::var_os("STOCKPILOT_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_stockpilot")),
        |p| std::fs::canonicalize(p).unwrap(),
    )
}

/// `stockpilot serve` in `dir` with nothing but `PATH`, `HOME` and the port.
fn serve(dir: &Path, port: u16) -> Child {
    serve_with(dir, port, &[])
}

/// As [`serve`], with `extra` settings in the environment.
fn serve_with(dir: &Path, port: u16, extra: &[(&str, &str)]) -> Child {
    let log = std::fs::File::create(dir.join("serve.log")).unwrap();
    Command::new(binary())
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("STOCKPILOT_SERVER__PORT", port.to_string())
        .envs(extra.iter().copied())
        .arg("serve")
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap()
}

fn stop(mut child: Child) {
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

/// Polls `/health` until it answers (bounded).
async fn wait_up(client: &reqwest::Client, base: &str) {
    for _ in 0..600 {
        if let Ok(r) = client.get(format!("{base}/health")).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server never answered /health");
}

async fn get(client: &reqwest::Client, url: String, key: &str) -> (u16, Value) {
    let res = client.get(url).bearer_auth(key).send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

/// The log lines (JSON) whose message is `message`.
fn logged(dir: &Path, message: &str) -> Vec<Value> {
    std::fs::read_to_string(dir.join("serve.log"))
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["fields"]["message"] == message)
        .collect()
}

#[tokio::test]
async fn the_installed_binary_serves_researches_and_exports_metrics_from_an_empty_directory() {
    stockpilot_server::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let child = serve(dir.path(), port);
    wait_up(&client, &base).await;

    // The first scrape, before any request or job of those kinds: zero-valued series.
    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for series in [
        r#"stockpilot_sync_jobs_total{kind="daily_incremental",status="failed"} 0"#,
        r#"stockpilot_research_runs_total{status="failed"} 0"#,
        r#"stockpilot_research_runs_total{status="succeeded"} 0"#,
        r#"stockpilot_http_requests_total{method="POST",route="/api/v1/research/runs",status="500"} 0"#,
        r#"stockpilot_http_request_duration_seconds_count{method="GET",route="/api/v1/instruments/{symbol}/bars"} 0"#,
        r#"stockpilot_sync_rows_total{dataset="valuations",provider="csv"} 0"#,
        r#"stockpilot_cache_operations_total{op="get",outcome="error"} 0"#,
        r#"stockpilot_rate_limited_total{group="research"} 0"#,
        r#"stockpilot_http_overloaded_total 0"#,
        r#"stockpilot_analyst_results_total{analyst="technical",status="failed"} 0"#,
    ] {
        assert!(metrics.contains(series), "missing {series}");
    }

    // The demo data came from the binary: the directory held nothing.
    let key = std::fs::read_to_string(dir.path().join("data/admin-api-key"))
        .unwrap()
        .trim()
        .to_owned();
    let (status, bars) = get(
        &client,
        format!("{base}/api/v1/instruments/AAPL/bars?start=2012-01-01&end=2012-12-31"),
        &key,
    )
    .await;
    assert_eq!((status, bars["count"].as_u64()), (200, Some(250)), "{bars}");

    let run = client
        .post(format!("{base}/api/v1/research/runs"))
        .bearer_auth(&key)
        .json(&json!({"symbols": ["AAPL"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(run.status().as_u16(), 202);
    let id = run.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut finished = Value::Null;
    for _ in 0..1500 {
        let (_, run) = get(&client, format!("{base}/api/v1/research/runs/{id}"), &key).await;
        if !["queued", "running"].contains(&run["status"].as_str().unwrap_or_default()) {
            finished = run;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(finished["status"], "succeeded", "{finished}");
    stop(child);
    assert_eq!(
        logged(
            dir.path(),
            "imported the demo dataset built into the binary"
        )
        .len(),
        1
    );

    // A second start finds the data and says in one line why it imports nothing.
    let child = serve(dir.path(), port);
    wait_up(&client, &base).await;
    stop(child);
    let skipped = logged(
        dir.path(),
        "the database already holds instruments: the demo dataset is not imported",
    );
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0]["fields"]["instruments"], 5);
}

#[tokio::test]
async fn a_start_without_the_demo_import_says_why_in_one_line() {
    stockpilot_server::install_crypto_provider();
    let client = reqwest::Client::new();
    let own_csv = tempfile::tempdir().unwrap();
    let own_csv_dir = own_csv.path().display().to_string();
    for (setting, value, line) in [
        (
            "STOCKPILOT_DATA__IMPORT_DEMO",
            "false",
            "data.import_demo is false: the demo dataset is not imported",
        ),
        (
            "STOCKPILOT_PROVIDERS__CSV__DIR",
            own_csv_dir.as_str(),
            "providers.csv.dir is set: the demo dataset is not imported (`stockpilot data import-demo` loads it on demand)",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = serve_with(dir.path(), port, &[(setting, value)]);
        wait_up(&client, &format!("http://127.0.0.1:{port}")).await;
        stop(child);
        assert_eq!(logged(dir.path(), line).len(), 1, "{setting}");
        assert!(
            logged(
                dir.path(),
                "imported the demo dataset built into the binary"
            )
            .is_empty(),
            "{setting}"
        );
    }
}
