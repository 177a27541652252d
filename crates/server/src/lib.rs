//! The stockpilot binary as a library: CLI, configuration, telemetry and the wiring that
//! builds adapters → services → HTTP application. No business logic lives here.

pub mod cli;
mod commands;
pub mod config;
pub mod demo;
pub mod schedules;
mod startup;
pub mod telemetry;
pub mod wiring;

pub use startup::Application;

/// The version baked into the binary.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Installs the process-wide TLS crypto provider; must run before any HTTP client is built.
pub fn install_crypto_provider() {
    // Err only means another part of the process installed one first, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub use commands::analyze::run as run_analyze;
pub use commands::apikey::run as run_apikey;
pub use commands::healthcheck::probe as probe_health;
pub use commands::migrate::{run as run_migrate, run_on as run_migrate_on};
pub use commands::sync::{data as run_data, run as run_sync};

/// The URL `stockpilot healthcheck` probes by default.
pub fn commands_healthcheck_url(config: &config::Config) -> String {
    commands::healthcheck::default_url(&config.server.host, config.server.port)
}
