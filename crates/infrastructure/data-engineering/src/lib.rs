//! Market data adapters of stockpilot: each implements the application's
//! [`MarketDataSource`](stockpilot_application::ports::MarketDataSource) port for one provider
//! and converts the provider's wire shapes and units into domain values.
//!
//! | adapter | provider name | markets | module |
//! |---|---|---|---|
//! | [`TushareSource`] | `tushare` | CN | [`tushare`] |
//! | [`FinancialDatasetsSource`] | `financial_datasets` | US | [`financial_datasets`] |
//! | [`CsvSource`] | `csv` | CN, US (by symbol shape) | [`csv_source`] |
//!
//! The HTTP adapters share [`http`]: a [`Throttle`] per adapter instance (minimum interval
//! and/or calls per minute), per-request timeouts, and retries with exponential backoff and
//! seeded jitter on `Transient` and `RateLimited` failures only. Secrets are held as
//! [`secrecy::SecretString`] and scrubbed from every error message.
//!
//! Building an HTTP adapter needs a process-wide rustls crypto provider
//! (`rustls::crypto::ring::default_provider().install_default()`); without one the
//! constructors return [`SetupError::NoTlsProvider`] instead of panicking.

pub mod csv_source;
pub mod financial_datasets;
pub mod http;
mod num;
pub mod settings;
pub mod tushare;

pub use csv_source::{CsvSource, CsvSummary};
pub use financial_datasets::FinancialDatasetsSource;
pub use http::{SetupError, Throttle};
pub use settings::{
    CsvOrigin, CsvSettings, FinancialDatasetsConfig, FinancialDatasetsSettings, RetrySettings,
    ThrottleSettings, TushareConfig, TushareSettings,
};
pub use tushare::TushareSource;
