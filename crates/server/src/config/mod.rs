//! The whole configuration of a stockpilot process, validated at start: every problem is
//! reported at once, each naming the key, what is wrong and the source that set it.

mod loader;
mod sources;

use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

pub use loader::{Entry, Problem, redact_url};
pub use sources::SourceOptions;

use loader::Loader;

#[derive(Debug, Clone)]
pub struct Config {
    pub profile: String,
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub cache: CacheConfig,
    pub logging: LoggingConfig,
    pub telemetry: TelemetryConfig,
    pub metrics: MetricsConfig,
    pub data: DataConfig,
    /// The effective value and source of every key, for `config show`.
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub host: String,
    pub port: u16,
    pub workers: usize,
    pub shutdown_grace: Duration,
    pub request_timeout: Duration,
    pub max_body_bytes: usize,
    pub max_concurrent_requests: usize,
}

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub url: SecretString,
    pub pool_min: u32,
    pub pool_max: u32,
    pub acquire_timeout: Duration,
    pub idle_timeout: Duration,
    pub auto_migrate: bool,
}

#[derive(Debug, Clone)]
pub struct CacheConfig {
    pub redis_url: Option<SecretString>,
    pub connect_timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Debug, Clone)]
pub struct LoggingConfig {
    pub level: String,
    pub format: LogFormat,
    pub file: Option<PathBuf>,
    pub file_max_bytes: u64,
    pub file_max_files: u32,
}

#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    pub otlp_endpoint: Option<String>,
    pub service_name: String,
    pub sample_ratio: f64,
}

#[derive(Debug, Clone)]
pub struct MetricsConfig {
    pub enabled: bool,
    pub path: String,
    pub port: Option<u16>,
}

#[derive(Debug, Clone)]
pub struct DataConfig {
    pub dir: PathBuf,
}

/// Every key a setting reads; anything else in a source is reported as unknown.
pub const KNOWN_KEYS: &[&str] = &[
    "server.host",
    "server.port",
    "server.workers",
    "server.shutdown_grace_secs",
    "server.request_timeout_secs",
    "server.max_body_bytes",
    "server.max_concurrent_requests",
    "database.url",
    "database.pool_min",
    "database.pool_max",
    "database.acquire_timeout_secs",
    "database.idle_timeout_secs",
    "database.auto_migrate",
    "cache.redis_url",
    "cache.connect_timeout_secs",
    "logging.level",
    "logging.format",
    "logging.file",
    "logging.file_max_bytes",
    "logging.file_max_files",
    "telemetry.otlp_endpoint",
    "telemetry.service_name",
    "telemetry.sample_ratio",
    "metrics.enabled",
    "metrics.path",
    "metrics.port",
    "data.dir",
];

/// Everything wrong with a configuration.
#[derive(Debug, Clone)]
pub struct ConfigErrors(pub Vec<Problem>);

impl std::fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "invalid configuration ({} problem(s)):", self.0.len())?;
        for p in &self.0 {
            writeln!(f, "  - {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(2)
}

impl Config {
    /// Loads from the process environment and the files named in `opts`.
    ///
    /// # Errors
    /// [`ConfigErrors`] listing every problem found.
    pub fn load(opts: &SourceOptions) -> Result<Self, ConfigErrors> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::load_from(opts, &env)
    }

    /// Loads from an explicit set of environment variables (tests use this).
    ///
    /// # Errors
    /// [`ConfigErrors`] listing every problem found.
    pub fn load_from(opts: &SourceOptions, env: &[(String, String)]) -> Result<Self, ConfigErrors> {
        let (fig, profile, source_problems) = sources::build(opts, env);
        let mut l = Loader::new(fig);
        l.problems
            .extend(source_problems.into_iter().map(Problem::from));

        let data = DataConfig {
            dir: l.get("data.dir", PathBuf::from("./data")),
        };
        let server = ServerConfig {
            host: l.get("server.host", "0.0.0.0".to_owned()),
            port: l.get("server.port", 8080u16),
            workers: l.get("server.workers", default_workers()),
            shutdown_grace: Duration::from_secs(l.get("server.shutdown_grace_secs", 30u64)),
            request_timeout: Duration::from_secs(l.get("server.request_timeout_secs", 30u64)),
            max_body_bytes: l.get("server.max_body_bytes", 1_048_576usize),
            max_concurrent_requests: l.get("server.max_concurrent_requests", 1024usize),
        };
        let default_db = format!(
            "sqlite://{}?mode=rwc",
            data.dir.join("stockpilot.db").display()
        );
        let url = l.secret("database.url").unwrap_or_else(|| {
            l.show_derived("database.url", format!("\"{default_db}\""));
            SecretString::from(default_db)
        });
        let database = DatabaseConfig {
            url,
            pool_min: l.get("database.pool_min", 1u32),
            pool_max: l.get("database.pool_max", 10u32),
            acquire_timeout: Duration::from_secs(l.get("database.acquire_timeout_secs", 5u64)),
            idle_timeout: Duration::from_secs(l.get("database.idle_timeout_secs", 600u64)),
            auto_migrate: l.get("database.auto_migrate", true),
        };
        let cache = CacheConfig {
            redis_url: l.secret("cache.redis_url"),
            connect_timeout: Duration::from_secs(l.get("cache.connect_timeout_secs", 2u64)),
        };
        let logging = LoggingConfig {
            level: l.get("logging.level", "info".to_owned()),
            format: l.get("logging.format", LogFormat::Json),
            file: l.opt("logging.file"),
            file_max_bytes: l.get("logging.file_max_bytes", 50 * 1024 * 1024u64),
            file_max_files: l.get("logging.file_max_files", 5u32),
        };
        let telemetry = TelemetryConfig {
            otlp_endpoint: l.opt("telemetry.otlp_endpoint"),
            service_name: l.get("telemetry.service_name", "stockpilot".to_owned()),
            sample_ratio: l.get("telemetry.sample_ratio", 1.0f64),
        };
        let metrics = MetricsConfig {
            enabled: l.get("metrics.enabled", true),
            path: l.get("metrics.path", "/metrics".to_owned()),
            port: l.opt("metrics.port"),
        };
        let config = Self {
            profile: profile.to_string(),
            server,
            database,
            cache,
            logging,
            telemetry,
            metrics,
            data,
            entries: Vec::new(),
        };
        config.validate(&mut l);
        l.report_unknown(KNOWN_KEYS);
        if l.problems.is_empty() {
            Ok(Self {
                entries: l.entries,
                ..config
            })
        } else {
            Err(ConfigErrors(l.problems))
        }
    }

    fn validate(&self, l: &mut Loader) {
        let s = &self.server;
        l.check("server.workers", (1..=256).contains(&s.workers), || {
            format!("must be between 1 and 256, got {}", s.workers)
        });
        l.check(
            "server.shutdown_grace_secs",
            s.shutdown_grace.as_secs() <= 3600,
            || {
                format!(
                    "must be at most 3600 seconds, got {}",
                    s.shutdown_grace.as_secs()
                )
            },
        );
        l.check(
            "server.request_timeout_secs",
            (1..=3600).contains(&s.request_timeout.as_secs()),
            || {
                format!(
                    "must be between 1 and 3600 seconds, got {}",
                    s.request_timeout.as_secs()
                )
            },
        );
        l.check(
            "server.max_body_bytes",
            (1024..=1 << 30).contains(&s.max_body_bytes),
            || {
                format!(
                    "must be between 1024 and 1073741824 bytes, got {}",
                    s.max_body_bytes
                )
            },
        );
        l.check(
            "server.max_concurrent_requests",
            s.max_concurrent_requests >= 1,
            || "must be at least 1".into(),
        );

        let db = &self.database;
        let url = db.url.expose_secret();
        let scheme_ok = stockpilot_db::Backend::of_url(url).is_some();
        l.check("database.url", scheme_ok, || {
            "must start with postgres://, postgresql:// or sqlite: (value not shown: it may hold a password)".into()
        });
        if scheme_ok && !url.starts_with("sqlite") {
            let parsed = url::Url::parse(url);
            l.check("database.url", matches!(&parsed, Ok(u) if u.host_str().is_some_and(|h| !h.is_empty())), || {
                match &parsed {
                    Err(e) => format!("is not a valid URL ({e}); expected postgres://user:password@host:5432/database"),
                    Ok(_) => "has no host; expected postgres://user:password@host:5432/database".into(),
                }
            });
        }
        l.check(
            "database.pool_max",
            (1..=1000).contains(&db.pool_max),
            || format!("must be between 1 and 1000, got {}", db.pool_max),
        );
        l.check("database.pool_min", db.pool_min <= db.pool_max, || {
            format!(
                "must not exceed database.pool_max ({}), got {}",
                db.pool_max, db.pool_min
            )
        });
        l.check(
            "database.acquire_timeout_secs",
            (1..=300).contains(&db.acquire_timeout.as_secs()),
            || {
                format!(
                    "must be between 1 and 300 seconds, got {}",
                    db.acquire_timeout.as_secs()
                )
            },
        );

        if let Some(redis) = &self.cache.redis_url {
            let scheme = redis
                .expose_secret()
                .split(':')
                .next()
                .unwrap_or_default()
                .to_owned();
            l.check("cache.redis_url", ["redis", "rediss", "unix", "redis+unix"].contains(&scheme.as_str()), || {
                "must start with redis://, rediss:// or unix:// (value not shown: it may hold a password)".into()
            });
        }
        l.check(
            "cache.connect_timeout_secs",
            (1..=60).contains(&self.cache.connect_timeout.as_secs()),
            || "must be between 1 and 60 seconds".into(),
        );

        let level = self.logging.level.clone();
        l.check("logging.level", tracing_subscriber::EnvFilter::try_new(&level).is_ok(), || {
            format!("'{level}' is not a level or filter; use trace, debug, info, warn, error or a directive like 'info,stockpilot=debug'")
        });
        l.check(
            "logging.file_max_bytes",
            self.logging.file_max_bytes >= 4096,
            || "must be at least 4096 bytes".into(),
        );
        l.check(
            "logging.file_max_files",
            (1..=100).contains(&self.logging.file_max_files),
            || "must be between 1 and 100".into(),
        );

        let ratio = self.telemetry.sample_ratio;
        l.check(
            "telemetry.sample_ratio",
            (0.0..=1.0).contains(&ratio),
            || format!("must be between 0.0 and 1.0, got {ratio}"),
        );
        if let Some(endpoint) = &self.telemetry.otlp_endpoint {
            let ok =
                url::Url::parse(endpoint).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
            l.check("telemetry.otlp_endpoint", ok, || {
                format!("'{endpoint}' is not an http(s) URL such as http://otel-collector:4318")
            });
        }
        l.check(
            "telemetry.service_name",
            !self.telemetry.service_name.trim().is_empty(),
            || "must not be empty".into(),
        );

        let m = &self.metrics;
        let reserved = ["/health", "/ready", "/api/v1/health"];
        l.check("metrics.path", m.path.starts_with('/') && m.path.len() > 1 && !reserved.contains(&m.path.as_str()) && !m.path.starts_with("/api/"), || {
            format!("must be a path such as /metrics, not under /api/ and not /health or /ready; got '{}'", m.path)
        });
        if let Some(port) = m.port {
            l.check("metrics.port", port != self.server.port || port == 0, || {
                format!("must differ from server.port ({port}); leave it unset to serve metrics on the main port")
            });
        }
    }

    /// The effective configuration as TOML, secrets redacted, each line noting its source.
    pub fn render(&self) -> String {
        let mut out = format!("# profile: {}\n", self.profile);
        let mut section = "";
        for e in &self.entries {
            let (sec, name) = e.key.split_once('.').unwrap_or(("", e.key));
            if sec != section {
                out.push_str(&format!("\n[{sec}]\n"));
                section = sec;
            }
            let line = if e.shown == "(unset)" {
                format!("# {name} is unset")
            } else {
                format!("{name} = {}", e.shown)
            };
            out.push_str(&format!("{line:<56} # {}\n", e.source));
        }
        out
    }
}

#[cfg(test)]
mod tests;
