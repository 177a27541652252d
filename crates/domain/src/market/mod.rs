//! Market data entities and value objects: what a security, a price bar, a calendar or a
//! statement is, and the rules their values obey, independent of any provider or store.

mod adjust;
mod bars;
mod calendar;
mod code;
mod exchange;
mod fundamentals;
mod instrument;
mod news;
mod range;
mod symbol;
mod valuation;

pub use adjust::{ADJUSTED_PRICE_SCALE, Adjust, AdjustmentFactor, adjust_bars};
pub use bars::{BarProblem, DailyBar, InvalidBar};
pub use calendar::{MixedExchanges, TradingCalendar, TradingDay};
pub use code::UnknownCode;
#[cfg(feature = "openapi")]
pub use code::{closed_set_schema, code_schema};
pub use exchange::{Exchange, Market};
pub use fundamentals::{
    ANNUAL_PUBLICATION_LAG_DAYS, FinancialIndicators, FinancialLineItems, FinancialStatement,
    INTERIM_PUBLICATION_LAG_DAYS, ReportPeriod, StatementKind, known_on,
};
pub use instrument::{Instrument, ListingStatus};
pub use news::{InsiderTrade, NewsArticle};
pub use range::{DateRange, InvalidDateRange};
pub use symbol::{InvalidSymbol, SYMBOL_PATTERN, Symbol, SymbolRule};
pub use valuation::DailyValuation;
