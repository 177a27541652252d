//! Securities known to stockpilot: the reference data (name, listing, classification) that
//! bars, valuations and statements hang off.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::exchange::{Exchange, Market};
use super::symbol::Symbol;
use crate::code_enum;

code_enum! {
    /// Whether a security currently trades.
    pub enum ListingStatus as "listing status" {
        /// Trading normally.
        Listed = "listed",
        /// Removed from the exchange; history remains.
        Delisted = "delisted",
        /// Listed but suspended for now.
        Paused = "paused",
    }
}

/// A listed security and its reference data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instrument {
    /// The security's symbol; its exchange and market agree with the two fields below.
    pub symbol: Symbol,
    /// Short name as the exchange publishes it (e.g. 贵州茅台, Apple Inc.).
    pub name: String,
    /// The exchange whose calendar the security follows.
    pub exchange: Exchange,
    /// The market, and so the provider, it belongs to.
    pub market: Market,
    /// Industry classification in the provider's own taxonomy.
    pub industry: Option<String>,
    /// Region of the issuer (province for A-shares, state or country for US).
    pub area: Option<String>,
    /// ISO 4217 code of the trading currency.
    pub currency: String,
    /// First trading day.
    pub list_date: Option<NaiveDate>,
    /// Last trading day, for delisted securities.
    pub delist_date: Option<NaiveDate>,
    /// Current listing status.
    pub status: ListingStatus,
}

impl Instrument {
    /// Reference data with only what the symbol implies filled in: exchange, market and its
    /// currency, listed status; adapters fill the rest from the provider.
    pub fn new(symbol: Symbol, name: impl Into<String>) -> Instrument {
        Instrument {
            exchange: symbol.exchange(),
            market: symbol.market(),
            currency: symbol.market().currency().to_owned(),
            symbol,
            name: name.into(),
            industry: None,
            area: None,
            list_date: None,
            delist_date: None,
            status: ListingStatus::Listed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_exchange_market_and_currency_from_the_symbol() {
        let moutai = Instrument::new(Symbol::parse("600519.SH").unwrap(), "贵州茅台");
        assert_eq!(moutai.exchange, Exchange::Sse);
        assert_eq!(moutai.market, Market::Cn);
        assert_eq!(moutai.currency, "CNY");
        assert_eq!(moutai.status, ListingStatus::Listed);

        let apple = Instrument::new(Symbol::parse("AAPL").unwrap(), "Apple Inc.");
        assert_eq!(apple.currency, "USD");
    }

    #[test]
    fn listing_status_uses_lowercase_codes() {
        assert_eq!("paused".parse::<ListingStatus>(), Ok(ListingStatus::Paused));
        assert_eq!(ListingStatus::Delisted.as_str(), "delisted");
        let err = "L".parse::<ListingStatus>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown listing status 'L'; allowed: listed, delisted, paused"
        );
    }
}
