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
    pub providers: ProvidersConfig,
    pub sync: SyncConfig,
    pub scheduler: SchedulerConfig,
    pub api: ApiConfig,
    pub llm: LlmConfig,
    pub search: SearchConfig,
    pub security: SecurityConfig,
    pub research: ResearchConfig,
    pub rate_limit: RateLimitConfig,
    pub auth: AuthConfig,
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
    /// `Strict-Transport-Security` max-age; 0 = not sent.
    pub hsts_max_age_secs: u64,
    /// Proxies whose `X-Forwarded-For` names the client (comma-separated IPs in the source).
    pub trusted_proxies: Vec<stockpilot_presentation::middleware::ProxyNet>,
    /// `Host` names answered (`api.example.com`, `.example.com` for subdomains); empty = any.
    pub allowed_hosts: Vec<String>,
    /// Origins allowed cross-origin requests; empty = none, `*` = any (never with credentials).
    pub cors_allowed_origins: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// `false` only for local development: every request is served as an admin.
    pub enabled: bool,
    /// How long a looked-up key is trusted before asking the database again.
    pub key_cache_ttl: Duration,
    /// How often keys' `last_used_at` is written.
    pub usage_flush_interval: Duration,
    /// Where `serve` writes the admin key it creates on first start (mode 0600).
    pub bootstrap_key_file: PathBuf,
}

#[derive(Debug, Clone)]
pub struct RateLimitConfig {
    pub enabled: bool,
    pub reads_per_minute: u32,
    pub writes_per_minute: u32,
    pub chat_per_minute: u32,
    pub research_per_minute: u32,
}

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub url: SecretString,
    pub pool_min: u32,
    pub pool_max: u32,
    pub acquire_timeout: Duration,
    /// Client-side bound on each statement of a PostgreSQL database; `None` when off.
    pub statement_timeout: Option<Duration>,
    pub idle_timeout: Duration,
    pub auto_migrate: bool,
}

#[derive(Debug, Clone)]
pub struct CacheConfig {
    pub redis_url: Option<SecretString>,
    pub connect_timeout: Duration,
    /// Each Redis command's own timeout; failures and timeouts open the circuit breaker.
    pub command_timeout: Duration,
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
    /// Whether the metrics path on the main port needs no API key (else: `operator`).
    pub public: bool,
}

#[derive(Debug, Clone)]
pub struct DataConfig {
    pub dir: PathBuf,
    /// A directory holding the demo dataset; unset: the copy built into the binary.
    pub demo_dir: Option<PathBuf>,
    /// Load the demo dataset when `serve` starts on a database with no instruments.
    pub import_demo: bool,
}

/// Limits shared by the providers' adapters.
#[derive(Debug, Clone)]
pub struct ProviderLimits {
    pub base_url: String,
    pub timeout: Duration,
    pub calls_per_minute: Option<u32>,
    pub min_interval: Duration,
    pub max_retries: u32,
}

#[derive(Debug, Clone)]
pub struct ProvidersConfig {
    pub tushare_token: Option<SecretString>,
    pub tushare: ProviderLimits,
    pub financial_datasets_key: Option<SecretString>,
    pub financial_datasets: ProviderLimits,
    /// A directory of CSV files served as the `csv` provider; unset = no CSV provider.
    pub csv_dir: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct SyncConfig {
    pub workers: u32,
    pub batch_size: u32,
    pub max_attempts: u32,
    pub retry_backoff: Duration,
    pub incremental_limit_days: u32,
    pub history_start: chrono::NaiveDate,
    pub stale_after: Duration,
    pub poll_interval: Duration,
}

/// One periodic job from `[[<profile>.scheduler.jobs]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledJobConfig {
    pub name: String,
    /// Five-field cron expression in UTC (`minute hour day month weekday`).
    pub cron: String,
    pub kind: String,
    pub market: Option<String>,
    #[serde(default)]
    pub symbols: Vec<String>,
    pub provider: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    pub enabled: bool,
    pub tick: Duration,
    pub jobs: Vec<ScheduledJobConfig>,
}

/// The default LLM provider given by configuration (`LLM_BASE_URL`, `LLM_MODEL`, `LLM_API_KEY`).
#[derive(Debug, Clone)]
pub struct LlmConfig {
    pub name: String,
    pub preset: Option<String>,
    pub base_url: Option<String>,
    pub model: Option<String>,
    pub api_key: Option<SecretString>,
    pub supports_json_schema: Option<bool>,
    pub timeout: Duration,
    pub max_concurrent: u32,
    pub price_input_per_1k: f64,
    pub price_output_per_1k: f64,
    pub max_retries: u32,
    pub breaker_failures: u32,
    pub breaker_cooldown: Duration,
    /// Identical-request cache; zero = off.
    pub cache_ttl: Duration,
}

#[derive(Debug, Clone)]
pub struct SearchConfig {
    pub bocha_api_key: Option<SecretString>,
    pub base_url: String,
    pub timeout: Duration,
    pub cache_ttl: Duration,
}

#[derive(Debug, Clone)]
pub struct SecurityConfig {
    /// Seals provider API keys stored in the database (AES-256-GCM).
    pub encryption_key: Option<SecretString>,
}

#[derive(Debug, Clone)]
pub struct ResearchConfig {
    pub workers: u32,
    pub max_concurrent_analysts: u32,
    pub run_concurrency: u32,
    pub max_tokens: u64,
    pub max_tokens_per_call: u32,
    pub stale_after: Duration,
    pub poll_interval: Duration,
    /// `resume` (finished analysts kept, the rest re-run) or `mark` (status `interrupted`).
    pub on_interrupted: String,
    pub portfolio_value: u64,
}

#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub max_range_days: u32,
    pub cache_ttl: Duration,
}

/// Every key a setting reads; anything else in a source is reported as unknown.
pub const KNOWN_KEYS: &[&str] = &[
    "server.host",
    "server.port",
    "server.workers",
    "server.shutdown_grace_secs",
    "server.request_timeout_secs",
    "server.max_body_bytes",
    "server.hsts_max_age_secs",
    "server.trusted_proxies",
    "server.allowed_hosts",
    "server.cors_allowed_origins",
    "auth.enabled",
    "auth.key_cache_ttl_secs",
    "auth.usage_flush_secs",
    "auth.bootstrap_key_file",
    "metrics.public",
    "rate_limit.enabled",
    "rate_limit.reads_per_minute",
    "rate_limit.writes_per_minute",
    "rate_limit.chat_per_minute",
    "rate_limit.research_per_minute",
    "server.max_concurrent_requests",
    "database.url",
    "database.pool_min",
    "database.pool_max",
    "database.acquire_timeout_secs",
    "database.statement_timeout_secs",
    "database.idle_timeout_secs",
    "database.auto_migrate",
    "cache.redis_url",
    "cache.connect_timeout_secs",
    "cache.command_timeout_ms",
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
    "data.demo_dir",
    "data.import_demo",
    "providers.tushare.token",
    "providers.tushare.base_url",
    "providers.tushare.timeout_secs",
    "providers.tushare.calls_per_minute",
    "providers.tushare.min_interval_ms",
    "providers.tushare.max_retries",
    "providers.financial_datasets.api_key",
    "providers.financial_datasets.base_url",
    "providers.financial_datasets.timeout_secs",
    "providers.financial_datasets.calls_per_minute",
    "providers.financial_datasets.min_interval_ms",
    "providers.financial_datasets.max_retries",
    "providers.csv.dir",
    "research.workers",
    "research.max_concurrent_analysts",
    "research.run_concurrency",
    "research.max_tokens",
    "research.max_tokens_per_call",
    "research.stale_after_secs",
    "research.poll_interval_ms",
    "research.on_interrupted",
    "research.portfolio_value",
    "sync.workers",
    "sync.batch_size",
    "sync.max_attempts",
    "sync.retry_backoff_secs",
    "sync.incremental_limit_days",
    "sync.history_start",
    "sync.stale_after_secs",
    "sync.poll_interval_ms",
    "scheduler.enabled",
    "scheduler.tick_secs",
    "scheduler.jobs",
    "api.max_range_days",
    "api.cache_ttl_secs",
    "llm.name",
    "llm.preset",
    "llm.base_url",
    "llm.model",
    "llm.api_key",
    "llm.supports_json_schema",
    "llm.timeout_secs",
    "llm.max_concurrent",
    "llm.price_input_per_1k",
    "llm.price_output_per_1k",
    "llm.max_retries",
    "llm.breaker_failures",
    "llm.breaker_cooldown_secs",
    "llm.cache_ttl_secs",
    "search.bocha_api_key",
    "search.base_url",
    "search.timeout_secs",
    "search.cache_ttl_secs",
    "security.encryption_key",
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

/// A comma-separated list setting, trimmed, without empty items.
fn list(l: &mut Loader, key: &'static str) -> Vec<String> {
    let text: String = l.get(key, String::new());
    text.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `*`, or `scheme://host[:port]` with nothing after it.
fn valid_origin(origin: &str) -> bool {
    if origin == "*" {
        return true;
    }
    match url::Url::parse(origin) {
        Ok(u) => {
            matches!(u.scheme(), "http" | "https")
                && u.host_str().is_some()
                && origin.trim_end_matches('/') == u.origin().ascii_serialization()
        }
        Err(_) => false,
    }
}

/// A duration of `secs` seconds brought into `lo..=hi` (NaN becomes `lo`); the value itself
/// is checked and reported by the caller, this only keeps a bad one from panicking.
fn seconds_within(secs: f64, lo: f64, hi: f64) -> Duration {
    Duration::from_secs_f64(if secs.is_nan() {
        lo
    } else {
        secs.clamp(lo, hi)
    })
}

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

        let dir: PathBuf = l.get("data.dir", PathBuf::from("./data"));
        let data = DataConfig {
            demo_dir: l.opt("data.demo_dir"),
            import_demo: l.get("data.import_demo", true),
            dir,
        };
        let server = ServerConfig {
            host: l.get("server.host", "0.0.0.0".to_owned()),
            port: l.get("server.port", 8080u16),
            workers: l.get("server.workers", default_workers()),
            shutdown_grace: Duration::from_secs(l.get("server.shutdown_grace_secs", 30u64)),
            request_timeout: Duration::from_secs(l.get("server.request_timeout_secs", 30u64)),
            max_body_bytes: l.get("server.max_body_bytes", 1_048_576usize),
            max_concurrent_requests: l.get("server.max_concurrent_requests", 1024usize),
            hsts_max_age_secs: l.get("server.hsts_max_age_secs", 0u64),
            trusted_proxies: Vec::new(),
            allowed_hosts: list(&mut l, "server.allowed_hosts"),
            cors_allowed_origins: list(&mut l, "server.cors_allowed_origins"),
        };
        for origin in &server.cors_allowed_origins {
            l.check("server.cors_allowed_origins", valid_origin(origin), || {
                format!(
                    "'{origin}' is not an origin; expected scheme://host[:port] \
                     (https://app.example.com) or *"
                )
            });
        }
        for host in &server.allowed_hosts {
            l.check(
                "server.allowed_hosts",
                !host.is_empty() && !host.contains(['/', ' ', '*']),
                || format!("'{host}' is not a host name; expected api.example.com or .example.com"),
            );
        }
        let auth = AuthConfig {
            enabled: l.get("auth.enabled", true),
            key_cache_ttl: Duration::from_secs(l.get("auth.key_cache_ttl_secs", 10u64)),
            usage_flush_interval: Duration::from_secs(l.get("auth.usage_flush_secs", 60u64)),
            bootstrap_key_file: l.get("auth.bootstrap_key_file", data.dir.join("admin-api-key")),
        };
        l.check(
            "auth.usage_flush_secs",
            !auth.usage_flush_interval.is_zero(),
            || "must be at least 1".to_owned(),
        );
        let proxies_text: String = l.get("server.trusted_proxies", String::new());
        let mut server = server;
        for part in proxies_text
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            match part.parse::<stockpilot_presentation::middleware::ProxyNet>() {
                Ok(net) => server.trusted_proxies.push(net),
                Err(e) => l.check("server.trusted_proxies", false, || e),
            }
        }
        let rate_limit = RateLimitConfig {
            enabled: l.get("rate_limit.enabled", true),
            reads_per_minute: l.get("rate_limit.reads_per_minute", 600u32),
            writes_per_minute: l.get("rate_limit.writes_per_minute", 120u32),
            chat_per_minute: l.get("rate_limit.chat_per_minute", 30u32),
            research_per_minute: l.get("rate_limit.research_per_minute", 10u32),
        };
        let default_db = format!(
            "sqlite://{}?mode=rwc",
            data.dir.join("stockpilot.db").display()
        );
        let url = l.secret("database.url").unwrap_or_else(|| {
            l.show_derived("database.url", format!("\"{default_db}\""));
            SecretString::from(default_db)
        });
        let acquire_secs = l.get("database.acquire_timeout_secs", 0.5f64);
        l.check(
            "database.acquire_timeout_secs",
            (0.05..=300.0).contains(&acquire_secs),
            || format!("{acquire_secs} is out of range 0.05–300 seconds"),
        );
        let statement_secs = l.get("database.statement_timeout_secs", 5.0f64);
        l.check(
            "database.statement_timeout_secs",
            statement_secs == 0.0 || (0.05..=3600.0).contains(&statement_secs),
            || format!("{statement_secs} is out of range 0.05–3600 seconds (0 turns it off)"),
        );
        let database = DatabaseConfig {
            url,
            pool_min: l.get("database.pool_min", 1u32),
            pool_max: l.get("database.pool_max", 10u32),
            acquire_timeout: seconds_within(acquire_secs, 0.05, 300.0),
            statement_timeout: (statement_secs != 0.0)
                .then(|| seconds_within(statement_secs, 0.05, 3600.0)),
            idle_timeout: Duration::from_secs(l.get("database.idle_timeout_secs", 600u64)),
            auto_migrate: l.get("database.auto_migrate", true),
        };
        let cache = CacheConfig {
            redis_url: l.secret("cache.redis_url"),
            connect_timeout: Duration::from_secs(l.get("cache.connect_timeout_secs", 2u64)),
            command_timeout: Duration::from_millis(l.get("cache.command_timeout_ms", 100u64)),
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
            public: l.get("metrics.public", true),
        };
        let providers = ProvidersConfig {
            tushare_token: l.secret("providers.tushare.token"),
            tushare: ProviderLimits {
                base_url: l.get(
                    "providers.tushare.base_url",
                    "http://api.tushare.pro".to_owned(),
                ),
                timeout: Duration::from_secs(l.get("providers.tushare.timeout_secs", 30u64)),
                calls_per_minute: Some(l.get("providers.tushare.calls_per_minute", 50u32)),
                min_interval: Duration::from_millis(
                    l.get("providers.tushare.min_interval_ms", 0u64),
                ),
                max_retries: l.get("providers.tushare.max_retries", 3u32),
            },
            financial_datasets_key: l.secret("providers.financial_datasets.api_key"),
            financial_datasets: ProviderLimits {
                base_url: l.get(
                    "providers.financial_datasets.base_url",
                    "https://api.financialdatasets.ai".to_owned(),
                ),
                timeout: Duration::from_secs(
                    l.get("providers.financial_datasets.timeout_secs", 30u64),
                ),
                calls_per_minute: l.opt("providers.financial_datasets.calls_per_minute"),
                min_interval: Duration::from_millis(
                    l.get("providers.financial_datasets.min_interval_ms", 100u64),
                ),
                max_retries: l.get("providers.financial_datasets.max_retries", 3u32),
            },
            csv_dir: l.opt("providers.csv.dir"),
        };
        let default_sync = stockpilot_application::sync::SyncSettings::default();
        let sync = SyncConfig {
            workers: l.get("sync.workers", 1u32),
            batch_size: l.get("sync.batch_size", default_sync.batch_size),
            max_attempts: l.get("sync.max_attempts", default_sync.max_attempts),
            retry_backoff: Duration::from_secs(l.get(
                "sync.retry_backoff_secs",
                default_sync.retry_backoff.as_secs(),
            )),
            incremental_limit_days: l.get(
                "sync.incremental_limit_days",
                default_sync.incremental_limit_days,
            ),
            history_start: l.get("sync.history_start", default_sync.history_start),
            stale_after: Duration::from_secs(
                l.get("sync.stale_after_secs", default_sync.stale_after.as_secs()),
            ),
            poll_interval: Duration::from_millis(l.get("sync.poll_interval_ms", 2000u64)),
        };
        let scheduler = SchedulerConfig {
            enabled: l.get("scheduler.enabled", false),
            tick: Duration::from_secs(l.get("scheduler.tick_secs", 30u64)),
            jobs: l.get("scheduler.jobs", Vec::new()),
        };
        let api = ApiConfig {
            max_range_days: l.get("api.max_range_days", 366 * 30u32),
            cache_ttl: Duration::from_secs(l.get("api.cache_ttl_secs", 60u64)),
        };
        let llm = LlmConfig {
            name: l.get("llm.name", "default".to_owned()),
            preset: l.opt("llm.preset"),
            base_url: l.opt("llm.base_url"),
            model: l.opt("llm.model"),
            api_key: l.secret("llm.api_key"),
            supports_json_schema: l.opt("llm.supports_json_schema"),
            timeout: Duration::from_secs(l.get("llm.timeout_secs", 60u64)),
            max_concurrent: l.get("llm.max_concurrent", 4u32),
            price_input_per_1k: l.get("llm.price_input_per_1k", 0.0f64),
            price_output_per_1k: l.get("llm.price_output_per_1k", 0.0f64),
            max_retries: l.get("llm.max_retries", 2u32),
            breaker_failures: l.get("llm.breaker_failures", 5u32),
            breaker_cooldown: Duration::from_secs(l.get("llm.breaker_cooldown_secs", 30u64)),
            cache_ttl: Duration::from_secs(l.get("llm.cache_ttl_secs", 0u64)),
        };
        let search = SearchConfig {
            bocha_api_key: l.secret("search.bocha_api_key"),
            base_url: l.get("search.base_url", "https://api.bochaai.com".to_owned()),
            timeout: Duration::from_secs(l.get("search.timeout_secs", 15u64)),
            cache_ttl: Duration::from_secs(l.get("search.cache_ttl_secs", 600u64)),
        };
        let security = SecurityConfig {
            encryption_key: l.secret("security.encryption_key"),
        };
        let research = ResearchConfig {
            workers: l.get("research.workers", 2u32),
            max_concurrent_analysts: l.get("research.max_concurrent_analysts", 16u32),
            run_concurrency: l.get("research.run_concurrency", 8u32),
            max_tokens: l.get("research.max_tokens", 200_000u64),
            max_tokens_per_call: l.get("research.max_tokens_per_call", 2_048u32),
            stale_after: Duration::from_secs(l.get("research.stale_after_secs", 60u64)),
            poll_interval: Duration::from_millis(l.get("research.poll_interval_ms", 1000u64)),
            on_interrupted: l.get("research.on_interrupted", "resume".to_owned()),
            portfolio_value: l.get("research.portfolio_value", 1_000_000u64),
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
            providers,
            sync,
            scheduler,
            api,
            llm,
            search,
            security,
            research,
            rate_limit,
            auth,
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
        let command_ms = self.cache.command_timeout.as_millis();
        l.check(
            "cache.command_timeout_ms",
            (10..=10_000).contains(&command_ms),
            || format!("{command_ms} is out of range 10–10000"),
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

        // [base_url, timeout_secs, max_retries, calls_per_minute] of each HTTP provider.
        let providers: [(&ProviderLimits, [&'static str; 4]); 2] = [
            (
                &self.providers.tushare,
                [
                    "providers.tushare.base_url",
                    "providers.tushare.timeout_secs",
                    "providers.tushare.max_retries",
                    "providers.tushare.calls_per_minute",
                ],
            ),
            (
                &self.providers.financial_datasets,
                [
                    "providers.financial_datasets.base_url",
                    "providers.financial_datasets.timeout_secs",
                    "providers.financial_datasets.max_retries",
                    "providers.financial_datasets.calls_per_minute",
                ],
            ),
        ];
        for (limits, [url_key, timeout_key, retries_key, rate_key]) in providers {
            let ok = url::Url::parse(&limits.base_url)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
            l.check(url_key, ok, || {
                format!("'{}' is not an http(s) URL", limits.base_url)
            });
            l.check(
                timeout_key,
                (1..=600).contains(&limits.timeout.as_secs()),
                || "must be between 1 and 600 seconds".into(),
            );
            l.check(retries_key, limits.max_retries <= 10, || {
                format!("must be at most 10, got {}", limits.max_retries)
            });
            l.check(
                rate_key,
                limits
                    .calls_per_minute
                    .is_none_or(|n| (1..=100_000).contains(&n)),
                || "must be between 1 and 100000".into(),
            );
        }
        for (key, dir) in [
            ("providers.csv.dir", &self.providers.csv_dir),
            ("data.demo_dir", &self.data.demo_dir),
        ] {
            if let Some(dir) = dir {
                l.check(key, dir.is_dir(), || {
                    format!("{} is not a directory", dir.display())
                });
            }
        }
        for (key, value) in [
            (
                "rate_limit.reads_per_minute",
                self.rate_limit.reads_per_minute,
            ),
            (
                "rate_limit.writes_per_minute",
                self.rate_limit.writes_per_minute,
            ),
            (
                "rate_limit.chat_per_minute",
                self.rate_limit.chat_per_minute,
            ),
            (
                "rate_limit.research_per_minute",
                self.rate_limit.research_per_minute,
            ),
        ] {
            l.check(key, (1..=10_000_000).contains(&value), || {
                format!("must be between 1 and 10000000, got {value}")
            });
        }
        let r = &self.research;
        l.check("research.workers", r.workers <= 64, || {
            format!("must be between 0 and 64, got {}", r.workers)
        });
        l.check(
            "research.max_concurrent_analysts",
            (1..=1024).contains(&r.max_concurrent_analysts),
            || {
                format!(
                    "must be between 1 and 1024, got {}",
                    r.max_concurrent_analysts
                )
            },
        );
        l.check(
            "research.run_concurrency",
            (1..=256).contains(&r.run_concurrency),
            || format!("must be between 1 and 256, got {}", r.run_concurrency),
        );
        l.check(
            "research.max_tokens",
            (1..=stockpilot_application::research::MAX_RUN_TOKENS).contains(&r.max_tokens),
            || {
                format!(
                    "must be between 1 and {}, got {}",
                    stockpilot_application::research::MAX_RUN_TOKENS,
                    r.max_tokens
                )
            },
        );
        l.check(
            "research.max_tokens_per_call",
            (16..=1_000_000).contains(&r.max_tokens_per_call),
            || {
                format!(
                    "must be between 16 and 1000000, got {}",
                    r.max_tokens_per_call
                )
            },
        );
        l.check(
            "research.stale_after_secs",
            (1..=86_400).contains(&r.stale_after.as_secs()),
            || "must be between 1 and 86400 seconds".into(),
        );
        l.check(
            "research.poll_interval_ms",
            (10..=600_000).contains(&r.poll_interval.as_millis()),
            || "must be between 10 and 600000 ms".into(),
        );
        l.check(
            "research.on_interrupted",
            ["resume", "mark"].contains(&r.on_interrupted.as_str()),
            || {
                format!(
                    "must be \"resume\" or \"mark\", got \"{}\"",
                    r.on_interrupted
                )
            },
        );
        l.check("research.portfolio_value", r.portfolio_value > 0, || {
            "must be a positive amount".into()
        });
        let s = &self.sync;
        l.check("sync.workers", s.workers <= 64, || {
            format!("must be between 0 and 64, got {}", s.workers)
        });
        l.check(
            "sync.batch_size",
            (1..=1000).contains(&s.batch_size),
            || format!("must be between 1 and 1000, got {}", s.batch_size),
        );
        l.check(
            "sync.max_attempts",
            (1..=100).contains(&s.max_attempts),
            || format!("must be between 1 and 100, got {}", s.max_attempts),
        );
        l.check(
            "sync.incremental_limit_days",
            (1..=3660).contains(&s.incremental_limit_days),
            || "must be between 1 and 3660".into(),
        );
        l.check(
            "sync.stale_after_secs",
            (10..=86_400).contains(&s.stale_after.as_secs()),
            || "must be between 10 and 86400 seconds".into(),
        );
        l.check(
            "sync.poll_interval_ms",
            (10..=600_000).contains(&s.poll_interval.as_millis()),
            || "must be between 10 and 600000 ms".into(),
        );
        l.check(
            "scheduler.tick_secs",
            (1..=3600).contains(&self.scheduler.tick.as_secs()),
            || "must be between 1 and 3600 seconds".into(),
        );
        let mut names = std::collections::HashSet::new();
        for (i, job) in self.scheduler.jobs.iter().enumerate() {
            let problem = crate::schedules::check(job).err().or_else(|| {
                (!names.insert(job.name.clone()))
                    .then(|| format!("duplicate schedule name '{}'", job.name))
            });
            l.check("scheduler.jobs", problem.is_none(), || {
                format!("job {i} ({}): {}", job.name, problem.unwrap_or_default())
            });
        }
        l.check(
            "api.max_range_days",
            (1..=366 * 100).contains(&self.api.max_range_days),
            || "must be between 1 and 36600".into(),
        );

        self.validate_llm(l);

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

    fn validate_llm(&self, l: &mut Loader) {
        let c = &self.llm;
        if let Some(provider) = crate::wiring::configured_llm(self) {
            for problem in stockpilot_application::llm::validate(&provider) {
                let key: &'static str = match problem.field.as_str() {
                    "name" => "llm.name",
                    "preset" => "llm.preset",
                    "base_url" => "llm.base_url",
                    "model" => "llm.model",
                    "api_key" => "llm.api_key",
                    "price_input_per_1k" => "llm.price_input_per_1k",
                    "price_output_per_1k" => "llm.price_output_per_1k",
                    "timeout_secs" => "llm.timeout_secs",
                    "max_concurrent" => "llm.max_concurrent",
                    _ => "llm.base_url",
                };
                l.check(key, false, || problem.message.clone());
            }
        }
        l.check("llm.max_retries", c.max_retries <= 10, || {
            "must be at most 10".into()
        });
        l.check(
            "llm.breaker_failures",
            (1..=1000).contains(&c.breaker_failures),
            || "must be between 1 and 1000".into(),
        );
        l.check(
            "llm.breaker_cooldown_secs",
            (1..=3600).contains(&c.breaker_cooldown.as_secs()),
            || "must be between 1 and 3600".into(),
        );
        let ok = url::Url::parse(&self.search.base_url)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        l.check("search.base_url", ok, || {
            format!("'{}' is not an http(s) URL", self.search.base_url)
        });
        l.check(
            "search.timeout_secs",
            (1..=120).contains(&self.search.timeout.as_secs()),
            || "must be between 1 and 120".into(),
        );
        if let Some(key) = &self.security.encryption_key {
            let problem = stockpilot_llm::AesGcmBox::from_key_text(key.expose_secret()).err();
            l.check("security.encryption_key", problem.is_none(), || {
                format!("{} (value not shown)", problem.unwrap_or_default())
            });
        }
    }

    /// The effective configuration as TOML, secrets redacted, each line noting its source.
    pub fn render(&self) -> String {
        let mut out = format!("# profile: {}\n", self.profile);
        // Each section once, in the order sections are first read, keys in reading order.
        let mut sections: Vec<&str> = Vec::new();
        for e in &self.entries {
            let section = e.key.split_once('.').map_or("", |(s, _)| s);
            if !sections.contains(&section) {
                sections.push(section);
            }
        }
        let mut entries: Vec<&Entry> = self.entries.iter().collect();
        entries.sort_by_key(|e| {
            let section = e.key.split_once('.').map_or("", |(s, _)| s);
            sections.iter().position(|s| *s == section)
        });
        let mut section = None;
        for e in entries {
            let (sec, name) = e.key.split_once('.').unwrap_or(("", e.key));
            if section != Some(sec) {
                out.push_str(&format!("\n[{sec}]\n"));
                section = Some(sec);
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
