//! News and insider trades: the qualitative data the research side reads, stored as the
//! provider reported it.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::symbol::Symbol;

/// One news article about one company.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewsArticle {
    pub symbol: Symbol,
    pub title: String,
    pub source: Option<String>,
    pub author: Option<String>,
    /// Day of publication.
    pub published_on: NaiveDate,
    pub url: String,
    /// The provider's own sentiment label (e.g. positive, negative, neutral), if any.
    pub sentiment: Option<String>,
}

/// One reported insider transaction. Shares in shares, prices and values in currency units;
/// a sale has negative `shares`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InsiderTrade {
    pub symbol: Symbol,
    pub insider_name: String,
    pub title: Option<String>,
    pub is_board_director: Option<bool>,
    pub transaction_date: Option<NaiveDate>,
    pub filing_date: NaiveDate,
    pub shares: Option<Decimal>,
    pub price_per_share: Option<Decimal>,
    pub value: Option<Decimal>,
    pub shares_owned_after: Option<Decimal>,
    pub security_title: Option<String>,
}
