//! Markets and exchanges: which venue a security trades on decides its symbol rule,
//! its trading calendar and its currency.

use crate::code_enum;

code_enum! {
    /// A national market served by one data provider.
    pub enum Market as "market" {
        /// China A-shares (Shanghai, Shenzhen, Beijing), priced in CNY.
        Cn = "CN",
        /// United States equities, priced in USD.
        Us = "US",
    }
}

code_enum! {
    /// The venue whose calendar a security follows. US venues share one calendar, so they
    /// are one value here.
    pub enum Exchange as "exchange" {
        /// Shanghai Stock Exchange (symbols ending `.SH`).
        Sse = "SSE",
        /// Shenzhen Stock Exchange (symbols ending `.SZ`).
        Szse = "SZSE",
        /// Beijing Stock Exchange (symbols ending `.BJ`).
        Bse = "BSE",
        /// NYSE, Nasdaq and the other US venues.
        Us = "US",
    }
}

impl Market {
    /// ISO 4217 code of the currency prices in this market are quoted in.
    pub const fn currency(self) -> &'static str {
        match self {
            Market::Cn => "CNY",
            Market::Us => "USD",
        }
    }
}

impl Exchange {
    /// The market this exchange belongs to.
    pub const fn market(self) -> Market {
        match self {
            Exchange::Sse | Exchange::Szse | Exchange::Bse => Market::Cn,
            Exchange::Us => Market::Us,
        }
    }

    /// The A-share symbol suffix (`SH`, `SZ`, `BJ`); US symbols carry none.
    pub const fn symbol_suffix(self) -> Option<&'static str> {
        match self {
            Exchange::Sse => Some("SH"),
            Exchange::Szse => Some("SZ"),
            Exchange::Bse => Some("BJ"),
            Exchange::Us => None,
        }
    }

    pub(crate) fn from_symbol_suffix(suffix: &str) -> Option<Exchange> {
        match suffix {
            "SH" => Some(Exchange::Sse),
            "SZ" => Some(Exchange::Szse),
            "BJ" => Some(Exchange::Bse),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error as DeError, StrDeserializer};

    fn from_serde<'a, T: Deserialize<'a>>(s: &'a str) -> Result<T, DeError> {
        let de: StrDeserializer<'a, DeError> = s.into_deserializer();
        T::deserialize(de)
    }

    #[test]
    fn market_codes_round_trip_through_from_str_and_serde() {
        for market in Market::ALL {
            assert_eq!(market.as_str().parse::<Market>(), Ok(*market));
            assert_eq!(from_serde::<Market>(market.as_str()).ok(), Some(*market));
        }
        assert_eq!(Market::Cn.to_string(), "CN");
        assert_eq!(Market::Us.as_str(), "US");
    }

    #[test]
    fn rejects_an_unknown_market_listing_the_allowed_codes() {
        let err = "HK".parse::<Market>().unwrap_err();
        assert_eq!(err.to_string(), "unknown market 'HK'; allowed: CN, US");
    }

    #[test]
    fn market_codes_are_case_sensitive() {
        assert!("cn".parse::<Market>().is_err());
        assert!(from_serde::<Market>("us").is_err());
    }

    #[test]
    fn exchanges_know_their_market_and_suffix() {
        assert_eq!(Exchange::Sse.market(), Market::Cn);
        assert_eq!(Exchange::Bse.market(), Market::Cn);
        assert_eq!(Exchange::Us.market(), Market::Us);
        assert_eq!(Exchange::Szse.symbol_suffix(), Some("SZ"));
        assert_eq!(Exchange::Us.symbol_suffix(), None);
        assert_eq!(Market::Cn.currency(), "CNY");
    }

    #[test]
    fn exchange_codes_parse_and_reject_unknown_ones() {
        assert_eq!("SZSE".parse::<Exchange>(), Ok(Exchange::Szse));
        assert_eq!(Exchange::Bse.to_string(), "BSE");
        let err = "NYSE".parse::<Exchange>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown exchange 'NYSE'; allowed: SSE, SZSE, BSE, US"
        );
    }
}
