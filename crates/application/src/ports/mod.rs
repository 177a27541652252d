//! Ports: what use cases need from adapters. Each is an `#[async_trait]` trait used as
//! `Arc<dyn Port>`; no driver type crosses one.

mod cache;
mod market_data;
mod readiness;

pub use cache::{Cache, CacheError};
pub use market_data::{Dataset, MarketDataSource, SourceError};
pub use readiness::{DependencyProbe, ProbeFailure};
