//! Each HTTP adapter's configuration section, declared once (`TushareConfig`,
//! `FinancialDatasetsConfig`: what a deployment sets, with its defaults and ranges), and the
//! adapter's settings built from it (`TushareSettings::configured`), which add what only tests
//! change (retry backoff, jitter seed, page sizes). Secrets are `SecretString`, so `Debug`
//! output never prints them.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use secrecy::SecretString;
use stockpilot_application::settings;
use stockpilot_application::settings::Secret;
use stockpilot_domain::market::Market;

/// Default Tushare endpoint (the SDK's classic one; the body is identical on every mirror).
pub const TUSHARE_BASE_URL: &str = "http://api.tushare.pro";
/// Default Financial Datasets endpoint.
pub const FINANCIAL_DATASETS_BASE_URL: &str = "https://api.financialdatasets.ai";

settings! {
    /// `providers.tushare`: China A-shares (Tushare Pro).
    pub struct TushareConfig {
        /// Tushare Pro token; enables the `tushare` provider for CN.
        token: Option<Secret> = None; secret = true, env = &["TUSHARE_TOKEN"], default_shown = "unset (no CN provider)",
        /// Endpoint the JSON body is posted to.
        base_url: String = TUSHARE_BASE_URL.to_owned(),
        /// Per request (seconds).
        timeout_secs: u64 = 30; range = (1.0, 600.0),
        /// Sliding-window limit shared by every job (≈50 / 200 / 500 for 120 / 2000 / 5000
        /// points).
        calls_per_minute: u32 = 50; range = (1.0, 100_000.0),
        /// Least time between two calls (ms).
        min_interval_ms: u64 = 0,
        /// Retries of timeouts, 5xx and rate limits within one call.
        max_retries: u32 = 3; range = (0.0, 10.0),
    }
}

settings! {
    /// `providers.financial_datasets`: US equities (Financial Datasets).
    pub struct FinancialDatasetsConfig {
        /// Enables the `financial_datasets` provider for US.
        api_key: Option<Secret> = None; secret = true, env = &["FINANCIAL_DATASETS_API_KEY"], default_shown = "unset (no FD provider)",
        /// API root.
        base_url: String = FINANCIAL_DATASETS_BASE_URL.to_owned(),
        /// Per request (seconds).
        timeout_secs: u64 = 30; range = (1.0, 600.0),
        /// Optional sliding-window limit.
        calls_per_minute: Option<u32> = None; range = (1.0, 100_000.0), example = "1000",
        /// Least time between two calls (ms).
        min_interval_ms: u64 = 100,
        /// Retries of timeouts, 5xx and 429 within one call.
        max_retries: u32 = 3; range = (0.0, 10.0),
    }
}

/// How often one adapter instance may call its provider. Both limits apply when both are set;
/// every task using the same adapter shares them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleSettings {
    /// Least time between the starts of two calls (zero: no spacing).
    pub min_interval: Duration,
    /// At most this many calls in any sliding 60-second window (`None`: no window limit).
    pub calls_per_minute: Option<u32>,
}

impl ThrottleSettings {
    /// No limit at all (tests, local files).
    pub fn unlimited() -> ThrottleSettings {
        ThrottleSettings {
            min_interval: Duration::ZERO,
            calls_per_minute: None,
        }
    }

    /// A sliding-window limit of `calls` per minute and no minimum spacing.
    pub fn per_minute(calls: u32) -> ThrottleSettings {
        ThrottleSettings {
            min_interval: Duration::ZERO,
            calls_per_minute: Some(calls),
        }
    }
}

/// Retries of retryable failures (`Transient`, `RateLimited`) within one adapter call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySettings {
    /// Retries after the first attempt (0: never retry). Default 3.
    pub max_retries: u32,
    /// Wait before the first retry; doubles each retry. Default 500 ms.
    pub base_backoff: Duration,
    /// Upper bound of any backoff, including a server's `Retry-After`. Default 30 s.
    pub max_backoff: Duration,
    /// Seed of the jitter generator; fixed in tests so waits are reproducible. The default is
    /// taken from the clock so that replicas do not retry in lockstep.
    pub jitter_seed: u64,
}

impl Default for RetrySettings {
    fn default() -> RetrySettings {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        RetrySettings {
            max_retries: 3,
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            jitter_seed: u64::from(nanos) ^ (u64::from(std::process::id()) << 32),
        }
    }
}

/// Settings of the Tushare Pro adapter.
#[derive(Debug, Clone)]
pub struct TushareSettings {
    /// Endpoint the JSON body is posted to (`providers.tushare.base_url`).
    pub base_url: String,
    /// The account token (`TUSHARE_TOKEN`); travels in the request body.
    pub token: SecretString,
    /// Timeout of one HTTP request, connect to last byte. Default 30 s.
    pub timeout: Duration,
    /// Call limit of the account's points tier (roughly 50, 200 or 500 per minute):
    /// `providers.tushare.calls_per_minute` and `min_interval_ms`.
    pub throttle: ThrottleSettings,
    /// Backoff of transient failures. Default [`RetrySettings::default`].
    pub retry: RetrySettings,
    /// How long to wait after a per-minute or per-hour limit message before trying again
    /// (each wait counts as one retry). Default 60 s.
    pub rate_limit_wait: Duration,
    /// Rows asked for per page (`limit`); capped per API at its documented maximum
    /// (`daily` 6000, `fina_indicator` 100). Default 5000.
    pub page_size: u32,
}

impl TushareSettings {
    /// The settings `config` declares, for `token`.
    pub fn configured(token: SecretString, config: &TushareConfig) -> TushareSettings {
        TushareSettings {
            base_url: config.base_url.clone(),
            token,
            timeout: Duration::from_secs(config.timeout_secs),
            throttle: ThrottleSettings {
                min_interval: Duration::from_millis(config.min_interval_ms),
                calls_per_minute: Some(config.calls_per_minute),
            },
            retry: RetrySettings {
                max_retries: config.max_retries,
                ..RetrySettings::default()
            },
            rate_limit_wait: Duration::from_secs(60),
            page_size: 5000,
        }
    }

    /// The declared defaults, for `token`.
    pub fn new(token: SecretString) -> TushareSettings {
        Self::configured(token, &TushareConfig::default())
    }
}

/// Settings of the Financial Datasets adapter.
#[derive(Debug, Clone)]
pub struct FinancialDatasetsSettings {
    /// API root; paths such as `/prices/` are appended (`providers.financial_datasets.base_url`).
    pub base_url: String,
    /// The API key (`FINANCIAL_DATASETS_API_KEY`); sent as `X-API-KEY`.
    pub api_key: SecretString,
    /// Timeout of one HTTP request. Default 30 s.
    pub timeout: Duration,
    /// Client-side limit. Default: at least 100 ms between calls, no window limit
    /// (the service answers 429 when it wants less).
    pub throttle: ThrottleSettings,
    /// Backoff of transient failures and 429s. Default [`RetrySettings::default`].
    pub retry: RetrySettings,
    /// `limit` of list endpoints (prices at most 5000). Default 5000.
    pub page_limit: u32,
    /// How many report periods to ask for per statement or metrics request. Default 100.
    pub max_periods: u32,
}

impl FinancialDatasetsSettings {
    /// The settings `config` declares, for `api_key`.
    pub fn configured(api_key: SecretString, config: &FinancialDatasetsConfig) -> Self {
        FinancialDatasetsSettings {
            base_url: config.base_url.clone(),
            api_key,
            timeout: Duration::from_secs(config.timeout_secs),
            throttle: ThrottleSettings {
                min_interval: Duration::from_millis(config.min_interval_ms),
                calls_per_minute: config.calls_per_minute,
            },
            retry: RetrySettings {
                max_retries: config.max_retries,
                ..RetrySettings::default()
            },
            page_limit: 5000,
            max_periods: 100,
        }
    }

    /// The declared defaults, for `api_key`.
    pub fn new(api_key: SecretString) -> FinancialDatasetsSettings {
        Self::configured(api_key, &FinancialDatasetsConfig::default())
    }
}

/// Where the CSV adapter's files come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CsvOrigin {
    /// Every `*.csv` and `*.csv.gz` file directly inside this directory (not recursively).
    Dir(PathBuf),
    /// Files held in memory (a dataset compiled into the binary): `(file name, contents)`,
    /// read exactly as the same files in a directory would be.
    Embedded {
        /// What logs and errors call it, e.g. `built-in demo dataset`.
        label: &'static str,
        files: &'static [(&'static str, &'static [u8])],
    },
}

impl std::fmt::Display for CsvOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CsvOrigin::Dir(dir) => write!(f, "{}", dir.display()),
            CsvOrigin::Embedded { label, .. } => f.write_str(label),
        }
    }
}

/// Settings of the CSV adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvSettings {
    /// The files read.
    pub origin: CsvOrigin,
    /// What `markets()` reports, i.e. which markets the adapter offers to serve when the
    /// server picks a provider per market. Default both; [`CsvSettings::serving`] narrows it
    /// (e.g. a US-only directory should not become the CN default).
    pub markets: &'static [Market],
}

impl CsvSettings {
    /// Reads `dir`, offered for both markets.
    pub fn new(dir: impl Into<PathBuf>) -> CsvSettings {
        CsvSettings {
            origin: CsvOrigin::Dir(dir.into()),
            markets: &[Market::Cn, Market::Us],
        }
    }

    /// Reads files held in memory, offered for both markets.
    pub fn embedded(
        label: &'static str,
        files: &'static [(&'static str, &'static [u8])],
    ) -> CsvSettings {
        CsvSettings {
            origin: CsvOrigin::Embedded { label, files },
            markets: &[Market::Cn, Market::Us],
        }
    }

    /// Offers the directory for `market` only.
    #[must_use]
    pub fn serving(mut self, market: Market) -> CsvSettings {
        self.markets = match market {
            Market::Cn => &[Market::Cn],
            Market::Us => &[Market::Us],
        };
        self
    }
}
