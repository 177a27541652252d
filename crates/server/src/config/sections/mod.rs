//! Every section of the configuration, declared once with `settings!`, and the one list that
//! names them ([`config_sections!`]): the `Config` struct, its loading, the known keys, the
//! settings table of the docs and `.env.example` all come from it.

pub mod service;
pub mod values;
pub mod work;

pub use service::{
    AuthSettings, CsvSettings, DataSettings, LoggingSettings, MetricsSettings, SecuritySettings,
    ServerSettings, TelemetrySettings,
};
pub use stockpilot_application::market::QueryConfig;
pub use stockpilot_application::research::ResearchConfig;
pub use stockpilot_application::sync::SyncConfig;
pub use stockpilot_cache::CacheConfig;
pub use stockpilot_data_engineering::{FinancialDatasetsConfig, TushareConfig};
pub use stockpilot_db::DatabaseConfig;
pub use stockpilot_llm::{LlmConfig, SearchConfig};
pub use stockpilot_presentation::middleware::RateLimitConfig;
pub use values::{CommaList, LogFormat, ScheduledJobConfig, Secret};
pub use work::SchedulerSettings;

/// Declares the configuration: one line per section (its field in `Config`, its type, its
/// key prefix), in the order sections are read, checked and documented.
macro_rules! config_sections {
    ($($field:ident : $ty:ty = $prefix:literal),* $(,)?) => {
        /// The whole configuration of a stockpilot process, validated at start.
        #[derive(Debug, Clone)]
        pub struct Config {
            /// The profile of `stockpilot.toml` in use.
            pub profile: String,
            $( #[doc = concat!("`", $prefix, "`")] pub $field: $ty, )*
            /// The effective value and source of every key, for `config show`.
            pub entries: Vec<super::Entry>,
        }

        /// Every section: its key prefix and its declared settings.
        pub const SECTIONS: &[(&str, &[stockpilot_application::settings::Setting])] = &[
            $( ($prefix, <$ty as stockpilot_application::settings::Settings>::FIELDS), )*
        ];

        /// Every section's prefix and what it is for.
        pub const ABOUT: &[(&str, &str)] = &[
            $( ($prefix, <$ty as stockpilot_application::settings::Settings>::ABOUT), )*
        ];

        /// Every section's prefix and its defaults (as JSON), for the reference.
        pub fn defaults() -> Vec<(&'static str, serde_json::Value)> {
            vec![ $( ($prefix, serde_json::to_value(<$ty>::default()).unwrap_or_default()), )* ]
        }

        impl Config {
            /// Reads every section; bad values are recorded in `l` (see `Loader::section`).
            pub(super) fn read(profile: String, l: &mut super::Loader) -> Self {
                Self {
                    profile,
                    $( $field: l.section($prefix), )*
                    entries: Vec::new(),
                }
            }

            /// Checks every section in order: its declared ranges, then what its own checks
            /// in `config/checks.rs` say.
            pub(super) fn check(&self, l: &mut super::Loader) {
                $(
                    l.check_ranges($prefix, &self.$field);
                    super::checks::$field(self, l);
                )*
            }
        }
    };
}

config_sections! {
    data: DataSettings = "data",
    server: ServerSettings = "server",
    auth: AuthSettings = "auth",
    rate_limit: RateLimitConfig = "rate_limit",
    database: DatabaseConfig = "database",
    cache: CacheConfig = "cache",
    logging: LoggingSettings = "logging",
    telemetry: TelemetrySettings = "telemetry",
    metrics: MetricsSettings = "metrics",
    tushare: TushareConfig = "providers.tushare",
    financial_datasets: FinancialDatasetsConfig = "providers.financial_datasets",
    csv: CsvSettings = "providers.csv",
    sync: SyncConfig = "sync",
    research: ResearchConfig = "research",
    scheduler: SchedulerSettings = "scheduler",
    api: QueryConfig = "api",
    llm: LlmConfig = "llm",
    search: SearchConfig = "search",
    security: SecuritySettings = "security",
}

/// Every key a setting reads (`server.port`); anything else in a source is reported.
pub fn known_keys() -> Vec<String> {
    SECTIONS
        .iter()
        .flat_map(|(prefix, fields)| fields.iter().map(move |f| format!("{prefix}.{}", f.name)))
        .collect()
}
