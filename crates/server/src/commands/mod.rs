//! What each subcommand does. Each returns the process exit code.

pub mod analyze;
pub mod apikey;
pub mod backtest;
pub mod healthcheck;
pub mod migrate;
pub mod simulate;
pub mod sync;
