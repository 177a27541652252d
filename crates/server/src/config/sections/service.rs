//! The service's own sections: where it keeps data, how it serves HTTP, authenticates and
//! limits callers, its database and cache, logs, traces and metrics.

use std::path::PathBuf;

use stockpilot_application::settings;

use super::values::{CommaList, LogFormat, Secret};

fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(2)
}

settings! {
    /// `data`: local state.
    pub struct DataSettings {
        /// Directory for the embedded SQLite database and other local state.
        dir: PathBuf = PathBuf::from("./data"),
        /// A directory holding the demo dataset's files, read instead of the copy built into
        /// the binary; must exist when set. The demo dataset is served as the `csv` provider
        /// when `providers.csv.dir` is unset.
        demo_dir: Option<PathBuf> = None; default_shown = "the copy built into the binary", example = "./data/demo",
        /// `serve` loads the demo dataset when the database holds no instruments yet (and
        /// `providers.csv.dir` is unset); otherwise one log line at start says why not.
        import_demo: bool = true,
    }
}

settings! {
    /// `server`: the HTTP server.
    pub struct ServerSettings {
        /// Listen address.
        host: String = "0.0.0.0".to_owned(),
        /// Listen port (0 = any free port).
        port: u16 = 8080,
        /// HTTP worker threads.
        workers: usize = default_workers(); range = (1.0, 256.0), default_shown = "number of CPUs", example = "4",
        /// On SIGTERM/SIGINT, the time in-flight requests get to finish (seconds).
        shutdown_grace_secs: u64 = 30; range = (0.0, 3600.0),
        /// Time to produce a response before `503 request_timeout` (seconds).
        request_timeout_secs: u64 = 30; range = (1.0, 3600.0),
        /// `Strict-Transport-Security: max-age=N; includeSubDomains` on every response (0: not
        /// sent); set it only when every client reaches the service over HTTPS.
        hsts_max_age_secs: u64 = 0,
        /// Larger request bodies get `413 payload_too_large`.
        max_body_bytes: usize = 1_048_576; range = (1024.0, 1_073_741_824.0),
        /// Requests in progress beyond this get `503 overloaded` with `Retry-After` (`/health`
        /// and `/ready` are exempt).
        max_concurrent_requests: usize = 1024; range = (1.0, f64::INFINITY),
        /// Comma-separated IPs or networks (`10.0.0.0/8`) of reverse proxies whose
        /// `X-Forwarded-For` names the client (for rate limits and the audit log); anyone
        /// else's header is ignored.
        trusted_proxies: CommaList = CommaList::default(); default_shown = "empty", example = "10.0.0.10,10.0.0.11",
        /// Comma-separated host names the server answers (`api.example.com`; `.example.com`
        /// for any subdomain; empty: any); another `Host` header gets `400 host_not_allowed`.
        /// Only the `Host` header counts, never `X-Forwarded-Host`. `/health` and `/ready`
        /// answer any host (orchestrators probe by address).
        allowed_hosts: CommaList = CommaList::default(); default_shown = "empty (any host)", example = "api.example.com",
        /// Comma-separated origins (`https://app.example.com`) allowed cross-origin calls, or
        /// `*` for any (empty: none); credentials (cookies) are never allowed, so `*` cannot
        /// expose a browser's session. Allowed request headers: `Authorization`,
        /// `Content-Type`, `X-API-Key`, `Last-Event-ID`, `X-Request-Id`.
        cors_allowed_origins: CommaList = CommaList::default(); default_shown = "empty (no CORS)", example = "https://app.example.com",
    }
}

settings! {
    /// `auth`: API keys.
    pub struct AuthSettings {
        /// Require an API key on every route but `/health`, `/ready`, `/api/v1/health`,
        /// `/api/v1/openapi.json`, `/docs` (and `/metrics` when `metrics.public`). `false`
        /// serves everyone as an admin and logs a loud warning at start: local development
        /// only.
        enabled: bool = true,
        /// How long an instance trusts a key it looked up (seconds); a key revoked on another
        /// instance stops working there within this time (at once on the instance that
        /// revoked it).
        key_cache_ttl_secs: u64 = 10,
        /// Keys' `last_used_at` is written this often (seconds; one write per key used, not
        /// one per request).
        usage_flush_secs: u64 = 60; range = (1.0, f64::INFINITY),
        /// When `serve` starts and no unrevoked key exists, it creates an admin key and
        /// writes it here, mode 0600; the log names the file, never the key.
        bootstrap_key_file: Option<PathBuf> = None; default_shown = "<data.dir>/admin-api-key", example = "/var/lib/stockpilot/admin-api-key",
    }
}

settings! {
    /// `logging`: log lines on standard output (and a file).
    pub struct LoggingSettings {
        /// A level or filter directive (`info,stockpilot_server=debug`).
        level: String = "info".to_owned(); env = &["LOG_LEVEL"],
        /// `json` or `pretty`.
        format: LogFormat = LogFormat::Json; env = &["LOG_FORMAT"],
        /// Also write logs to this file.
        file: Option<PathBuf> = None; example = "/var/log/stockpilot/stockpilot.log",
        /// Rotate the file beyond this size (bytes).
        file_max_bytes: u64 = 50 * 1024 * 1024; range = (4096.0, f64::INFINITY),
        /// Rotated files kept (`<file>.1` newest).
        file_max_files: u32 = 5; range = (1.0, 100.0),
    }
}

settings! {
    /// `telemetry`: OpenTelemetry traces.
    pub struct TelemetrySettings {
        /// OTLP/HTTP collector base URL (unset: no export); spans go to
        /// `<endpoint>/v1/traces`.
        otlp_endpoint: Option<String> = None; env = &["OTEL_EXPORTER_OTLP_ENDPOINT"], example = "http://otel-collector:4318",
        /// `service.name` of exported spans.
        service_name: String = "stockpilot".to_owned(); env = &["OTEL_SERVICE_NAME"],
        /// Fraction of new traces kept (parent-based).
        sample_ratio: f64 = 1.0; range = (0.0, 1.0),
    }
}

settings! {
    /// `metrics`: Prometheus.
    pub struct MetricsSettings {
        /// Serve Prometheus metrics.
        enabled: bool = true,
        /// Path of the metrics endpoint (not under `/api/`, not a probe path).
        path: String = "/metrics".to_owned(),
        /// Serve metrics on this port instead of the main one (no key is asked there: keep
        /// the port private).
        port: Option<u16> = None; default_shown = "unset (main port)", example = "9100",
        /// Metrics on the main port need no API key; `false`: an `operator` key.
        public: bool = true,
    }
}

settings! {
    /// `security`: sealing stored secrets.
    pub struct SecuritySettings {
        /// 32 bytes as base64 (44 chars) or hex (64 chars); seals provider API keys stored in
        /// the database. Without it, storing a key is refused with 409.
        encryption_key: Option<Secret> = None; secret = true, env = &["STOCKPILOT_ENCRYPTION_KEY"],
    }
}

settings! {
    /// `providers.csv`: local files.
    pub struct CsvSettings {
        /// A directory of `*.csv` / `*.csv.gz` files served as the `csv` provider (column
        /// mapping in [data.md](data.md)).
        dir: Option<PathBuf> = None; default_shown = "unset (the demo dataset when present)", example = "/srv/market-data",
    }
}
