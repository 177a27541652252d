//! The `stockpilot` binary as an operator runs it: bad configuration, graceful SIGTERM,
//! request ids in the JSON logs, and the healthcheck command.

use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_stockpilot");

/// A port nobody listens on now (for servers started as processes).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `stockpilot healthcheck` until it passes, at most `attempts` times.
fn wait_healthy(dir: &std::path::Path, port: u16, attempts: u32) -> bool {
    (0..attempts).any(|_| {
        let ok = Command::new(BIN)
            .current_dir(dir)
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
    })
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
    assert!(err.contains("server.port: \"abc\" is not a whole number in 0–65535 (from environment variable STOCKPILOT_SERVER__PORT)"), "{err}");
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
    assert!(
        wait_healthy(dir.path(), port, 100),
        "server never became healthy"
    );
    assert!(
        dir.path().join("data/stockpilot.db").exists(),
        "embedded SQLite default"
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    let status = rt.block_on(async {
        reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}/ready"))
            .header("X-Request-Id", "probe-7")
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 200);

    // First start on an empty database: an admin key, in a file only the owner can read.
    let key_file = dir.path().join("data/admin-api-key");
    let token = std::fs::read_to_string(&key_file)
        .unwrap()
        .trim()
        .to_owned();
    assert!(
        token.starts_with("sp_live_") && token.len() == 72,
        "{token}"
    );
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let (anonymous, with_key) = rt.block_on(async {
        let url = format!("http://127.0.0.1:{port}/api/v1/instruments");
        let client = reqwest::Client::new();
        let anonymous = client.get(&url).send().await.unwrap().status();
        let with_key = client
            .get(&url)
            .header("X-API-Key", &token)
            .header("X-Request-Id", "trace-me-42")
            .send()
            .await
            .unwrap()
            .status();
        (anonymous, with_key)
    });
    assert_eq!((anonymous.as_u16(), with_key.as_u16()), (401, 200));

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
    // A successful probe is logged at debug, so the default `info` log does not carry it.
    assert!(
        !lines.iter().any(|l| l["span"]["request_id"] == "probe-7"
            && l["fields"]["message"] == "request completed"),
        "a successful /ready probe was logged at info:\n{text}"
    );
    assert!(
        lines.iter().any(|l| l["fields"]["message"] == "stopped"),
        "{text}"
    );
    // The log names the key file, never the key.
    assert!(!text.contains(&token), "the bootstrap key reached the log");
    assert!(
        lines.iter().any(|l| l["fields"]["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("data/admin-api-key"))),
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

/// A minimal OTLP/HTTP receiver: accepts `POST /v1/traces`, keeps each protobuf body, answers
/// 200 with an empty `ExportTraceServiceResponse`.
fn otlp_receiver() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = bodies.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                if line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_ok() {
                kept.lock().unwrap().push(body);
            }
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
        }
    });
    (port, bodies)
}

#[test]
fn traces_reach_an_otlp_receiver_with_the_request_span_tree() {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use prost::Message;

    stockpilot_server::install_crypto_provider();
    let (otlp_port, bodies) = otlp_receiver();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(BIN)
        .current_dir(dir.path())
        .env("STOCKPILOT_SERVER__HOST", "127.0.0.1")
        .env("STOCKPILOT_SERVER__PORT", port.to_string())
        .env(
            "STOCKPILOT_DATA__DEMO_DIR",
            format!("{}/../../data/demo", env!("CARGO_MANIFEST_DIR")),
        )
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{otlp_port}"),
        )
        .env("OTEL_SERVICE_NAME", "stockpilot-otlp-test")
        .args(["serve"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        wait_healthy(dir.path(), port, 200),
        "server never became healthy"
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let token = std::fs::read_to_string(dir.path().join("data/admin-api-key")).unwrap();
    let status = rt.block_on(async {
        reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}/api/v1/instruments/AAPL/bars?start=2012-01-01&end=2012-03-31"))
            .bearer_auth(token.trim())
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 200);
    // SIGTERM: the exporter flushes its batch before the process exits.
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    assert_eq!(child.wait().unwrap().code(), Some(0));

    let mut spans = Vec::new();
    let mut services = Vec::new();
    for body in bodies.lock().unwrap().iter() {
        let request = ExportTraceServiceRequest::decode(body.as_slice()).unwrap();
        for rs in request.resource_spans {
            if let Some(resource) = rs.resource {
                for kv in resource.attributes {
                    if kv.key == "service.name" {
                        services.push(format!("{:?}", kv.value));
                    }
                }
            }
            for ss in rs.scope_spans {
                spans.extend(ss.spans);
            }
        }
    }
    assert!(
        services.iter().any(|s| s.contains("stockpilot-otlp-test")),
        "{services:?}"
    );
    let attr = |span: &opentelemetry_proto::tonic::trace::v1::Span, key: &str| {
        span.attributes
            .iter()
            .find(|kv| kv.key == key)
            .map(|kv| format!("{:?}", kv.value))
            .unwrap_or_default()
    };
    let request = spans
        .iter()
        .find(|s| {
            s.name == "http_request" && attr(s, "path").contains("/api/v1/instruments/AAPL/bars")
        })
        .unwrap_or_else(|| {
            panic!(
                "no http_request span for the bars request among {:?}",
                spans.iter().map(|s| &s.name).collect::<Vec<_>>()
            )
        });
    assert!(
        attr(request, "route").contains("/api/v1/instruments/{symbol}/bars"),
        "{request:?}"
    );
    let child_of = |parent: &opentelemetry_proto::tonic::trace::v1::Span, name: &str| {
        spans
            .iter()
            .find(|s| {
                s.name == name
                    && s.parent_span_id == parent.span_id
                    && s.trace_id == parent.trace_id
            })
            .cloned()
    };
    let market =
        child_of(request, "market.bars").expect("market.bars is a child of the request span");
    let db = child_of(&market, "db.daily_bars_text")
        .expect("db.daily_bars_text is a child of market.bars");
    assert!(attr(&db, "symbol").contains("AAPL"));
}

#[test]
fn output_into_a_closed_pipe_ends_quietly_instead_of_panicking() {
    let dir = tempfile::tempdir().unwrap();
    // The reader is gone before the command writes a byte (`stockpilot config show | head -0`).
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args(["config", "show"])
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
