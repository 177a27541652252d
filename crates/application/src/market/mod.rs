//! Reading stored market data for the API: validated ranges, adjusted prices, indicators,
//! and the as-of date and provider of everything returned.

mod queries;

pub use queries::{
    BarsView, IndicatorColumn, IndicatorsView, MarketQueries, QueryConfig, QuerySettings, Sourced,
    bars_generation_key, register_metrics,
};
