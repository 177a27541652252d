//! Daily valuation metrics (multiples, share counts, market caps) that screens and the
//! valuation analysts read without recomputing them from statements.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::symbol::Symbol;

/// One security's valuation at one session's close. Any metric a provider lacks is `null`;
/// loss-making companies usually have no P/E.
///
/// Units: share counts in shares, market caps in currency units, multiples as plain ratios
/// (a P/E of 25.3 is `25.3`), rates in percent (a 1.2 % dividend yield is `1.2`).
// Tushare reports shares in 10,000s and caps in 10,000 CNY; adapters convert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DailyValuation {
    /// The security.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub symbol: Symbol,
    /// The session.
    pub trade_date: NaiveDate,
    /// Volume over float shares, in percent.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub turnover_rate: Option<Decimal>,
    /// Price over last annual earnings per share.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub pe: Option<Decimal>,
    /// Price over trailing-twelve-month earnings per share.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub pe_ttm: Option<Decimal>,
    /// Price over book value per share.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub pb: Option<Decimal>,
    /// Market cap over last annual revenue.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub ps: Option<Decimal>,
    /// Market cap over trailing-twelve-month revenue.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub ps_ttm: Option<Decimal>,
    /// Trailing dividends over price, in percent.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub dividend_yield: Option<Decimal>,
    /// Shares outstanding, in shares.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub total_shares: Option<Decimal>,
    /// Freely tradable shares, in shares.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub float_shares: Option<Decimal>,
    /// Close × total shares, in currency units.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub total_market_cap: Option<Decimal>,
    /// Close × float shares, in currency units.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub float_market_cap: Option<Decimal>,
}

impl DailyValuation {
    /// A valuation with every metric unknown, for adapters to fill in.
    pub fn empty(symbol: Symbol, trade_date: NaiveDate) -> DailyValuation {
        DailyValuation {
            symbol,
            trade_date,
            turnover_rate: None,
            pe: None,
            pe_ttm: None,
            pb: None,
            ps: None,
            ps_ttm: None,
            dividend_yield: None,
            total_shares: None,
            float_shares: None,
            total_market_cap: None,
            float_market_cap: None,
        }
    }
}
