//! Backtesting: a simulator that turns target weights into orders, fills them on the next
//! trading day with the market's costs and rules, and values the book at every close. Pure
//! computation on prices already loaded; the model is written down in docs/backtesting.md.

mod engine;
pub mod ic;
pub mod metrics;
pub mod rules;
pub mod schedule;

pub use engine::{
    Benchmark, Day, Holding, OrderRecord, OrderStatus, Outcome, Panel, Reason, Side, Simulation,
    SimulationError, Targets,
};
pub use ic::{InformationCoefficient, information_coefficient};
pub use metrics::{Drawdown, MetricSettings, Metrics, metrics};
pub use rules::{Board, Costs, FillAt, RuleError, Rules, ShortRules};
pub use schedule::Rebalance;

#[cfg(test)]
mod engine_tests;
#[cfg(test)]
mod properties;
