//! Research runs: analyst teams over the stored data, a decision per symbol, executed in the
//! background with every step stored as an event.

pub mod analysts;
pub mod data;
pub mod model;
mod runner;
mod service;

pub use service::{
    AnalystInfo, MAX_DEBATE_ROUNDS, MAX_RUN_TOKENS, MAX_SYMBOLS, Progress, ResearchService,
    ResearchSettings, RunView, Submission,
};
