//! The `stockpilot` binary as an operator runs it: bad configuration, graceful SIGTERM,
//! request ids in the JSON logs, and the healthcheck command.

use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_stockpilot");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn a_bad_config_value_exits_non_zero_naming_the_key_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .env("STOCKPILOT_SERVER__PORT", "abc")
        .env("DATABASE_URL", "postgres://user:secretpw@/db")
        .args(["config", "check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("server.port: invalid type: found string \"abc\", expected u16 (from environment variable STOCKPILOT_SERVER__PORT)"), "{err}");
    assert!(err.contains("database.url:"), "{err}");
    assert!(!err.contains("secretpw"), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
}

#[test]
fn serves_logs_request_ids_and_stops_cleanly_on_sigterm() {
    stockpilot_server::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let log = dir.path().join("logs/stockpilot.log");
    let mut child = Command::new(BIN)
        .current_dir(dir.path())
        .env("STOCKPILOT_SERVER__HOST", "127.0.0.1")
        .env("STOCKPILOT_SERVER__PORT", port.to_string())
        .env("STOCKPILOT_LOGGING__FILE", &log)
        .env("STOCKPILOT_SERVER__SHUTDOWN_GRACE_SECS", "5")
        .args(["serve"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    // The healthcheck command is itself the readiness wait: bounded, no fixed sleeps.
    let healthy = (0..100).any(|_| {
        let ok = Command::new(BIN)
            .current_dir(dir.path())
            .env("STOCKPILOT_SERVER__PORT", port.to_string())
            .args(["healthcheck", "--timeout", "1"])
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success();
        if !ok {
            std::thread::sleep(Duration::from_millis(100));
        }
        ok
    });
    assert!(healthy, "server never became healthy");
    assert!(
        dir.path().join("data/stockpilot.db").exists(),
        "embedded SQLite default"
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    let status = rt.block_on(async {
        reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}/ready"))
            .header("X-Request-Id", "trace-me-42")
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 200);

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), Some(0), "graceful shutdown exits 0");

    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let tagged: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["span"]["request_id"] == "trace-me-42")
        .collect();
    assert!(
        !tagged.is_empty(),
        "the request's log lines carry its id:\n{text}"
    );
    assert!(
        tagged
            .iter()
            .any(|l| l["fields"]["message"] == "request completed" && l["fields"]["status"] == 200)
    );
    assert!(
        lines.iter().any(|l| l["fields"]["message"] == "stopped"),
        "{text}"
    );

    let after = Command::new(BIN)
        .env("STOCKPILOT_SERVER__PORT", port.to_string())
        .args(["healthcheck", "--timeout", "1"])
        .output()
        .unwrap();
    assert_eq!(
        after.status.code(),
        Some(1),
        "healthcheck fails once the server is gone"
    );
}
