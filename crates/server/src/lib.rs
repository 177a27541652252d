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

/// `println!` for command output. When the reader goes away early (`stockpilot config show |
/// head`), the process ends quietly with status 0 instead of panicking on the broken pipe.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            $crate::output_failed(&e);
        }
    }};
}

/// Ends the process after standard output failed: quietly when the reader closed the pipe,
/// else with a message and status 1.
pub fn output_failed(e: &std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("error: cannot write to standard output: {e}");
    std::process::exit(1);
}

/// The version baked into the binary.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Installs the process-wide TLS crypto provider; must run before any HTTP client is built.
pub fn install_crypto_provider() {
    // Err only means another part of the process installed one first, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub use commands::analyze::run as run_analyze;
pub use commands::apikey::run as run_apikey;
pub use commands::backtest::run as run_backtest;
pub use commands::healthcheck::probe as probe_health;
pub use commands::migrate::{run as run_migrate, run_on as run_migrate_on};
pub use commands::simulate::run as run_simulate;
pub use commands::sync::{data as run_data, run as run_sync};

/// The URL `stockpilot healthcheck` probes by default.
pub fn commands_healthcheck_url(config: &config::Config) -> String {
    commands::healthcheck::default_url(&config.server.host, config.server.port)
}
