//! Domain layer of stockpilot: market entities, validated value objects and pure numeric
//! kernels. Nothing here does I/O or knows about providers, databases or HTTP.

pub mod analysis;
pub mod backtest;
pub mod indicators;
pub mod market;

pub mod text;
