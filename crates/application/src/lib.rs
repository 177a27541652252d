//! Use cases of stockpilot and the ports (traits) they need from the outside world.
//!
//! Nothing here knows about HTTP, SQL or Redis: adapters implement the ports in
//! `crates/infrastructure/*`, and the server wires them together.

pub mod auth;
pub mod backoff;
pub mod backtest;
pub mod error;
pub mod health;
pub mod ids;
pub mod llm;
pub mod market;
pub mod ports;
pub mod queue;
pub mod research;
pub mod settings;
pub mod sync;

pub use error::{AppError, FieldProblem};
pub use ids::{InvalidId, JobId, KeyId, RunId};
