//! Specification of the symbol rules, one behaviour per test.

use std::collections::HashMap;

use serde::Deserialize;
use serde::de::IntoDeserializer;
use serde::de::value::{Error as DeError, StrDeserializer};

use super::*;

fn from_serde(s: &str) -> Result<Symbol, DeError> {
    let de: StrDeserializer<'_, DeError> = s.into_deserializer();
    Symbol::deserialize(de)
}

#[test]
fn accepts_a_shares_of_each_exchange() {
    let cases = [
        ("600519.SH", Exchange::Sse),
        ("000001.SZ", Exchange::Szse),
        ("430047.BJ", Exchange::Bse),
    ];
    for (input, exchange) in cases {
        let symbol = Symbol::parse(input).unwrap();
        assert_eq!(symbol.as_str(), input);
        assert_eq!(symbol.exchange(), exchange);
        assert_eq!(symbol.market(), Market::Cn);
    }
}

#[test]
fn accepts_us_tickers_with_and_without_a_share_class() {
    for input in ["A", "AAPL", "GOOGL", "BRK.B"] {
        let symbol = Symbol::parse(input).unwrap();
        assert_eq!(symbol.to_string(), input);
        assert_eq!(symbol.exchange(), Exchange::Us);
        assert_eq!(symbol.market(), Market::Us);
    }
}

#[test]
fn rejects_an_a_share_with_five_digits_naming_the_a_share_rule() {
    let err = Symbol::parse("60051.SH").unwrap_err();
    assert_eq!(err.rule, SymbolRule::AShare);
    assert_eq!(err.input, "60051.SH");
    assert_eq!(
        err.to_string(),
        "'60051.SH' is not a valid A-share symbol: expected 6 digits and .SH, .SZ or .BJ \
         (e.g. 600519.SH)"
    );
}

#[test]
fn rejects_a_symbol_with_lowercase_letters() {
    let err = Symbol::parse("aapl").unwrap_err();
    assert_eq!(err.rule, SymbolRule::Us);
    assert_eq!(
        err.to_string(),
        "'aapl' is not a valid US symbol: expected 1–5 capital letters with an optional \
         .CLASS letter (e.g. AAPL, BRK.B)"
    );
    assert_eq!(
        Symbol::parse("600519.sh").unwrap_err().rule,
        SymbolRule::AShare
    );
    assert!(Symbol::parse("brk.b").is_err());
    assert!(Symbol::parse("BRK.b").is_err());
}

#[test]
fn rejects_malformed_a_shares() {
    for input in [
        "600519",
        "6005190.SH",
        "600519.SS",
        "600519.",
        "60051A.SH",
        "600519.SH.",
        "600519SH",
        " 600519.SH",
        "６００５１９.SH",
    ] {
        let err = Symbol::parse(input).unwrap_err();
        assert_eq!(err.rule, SymbolRule::AShare, "{input}");
    }
}

#[test]
fn rejects_malformed_us_tickers() {
    for input in [
        "ABCDEF", "BRK.", "BRK.BB", ".B", "BRK.B.C", "AA PL", "AAPL ", "ÄPPL",
    ] {
        let err = Symbol::parse(input).unwrap_err();
        assert_eq!(err.rule, SymbolRule::Us, "{input}");
    }
}

#[test]
fn rejects_empty_input_describing_both_rules() {
    let err = Symbol::parse("").unwrap_err();
    assert_eq!(err.rule, SymbolRule::Any);
    assert!(err.to_string().contains("600519.SH"));
    assert!(err.to_string().contains("AAPL"));
}

#[test]
fn a_letters_only_input_with_an_a_share_suffix_is_judged_as_an_a_share() {
    assert_eq!(
        Symbol::parse("ABC.sz").unwrap_err().rule,
        SymbolRule::AShare
    );
}

#[test]
fn parse_for_requires_the_given_market() {
    assert_eq!(
        Symbol::parse_for(Market::Cn, "600519.SH")
            .unwrap()
            .exchange(),
        Exchange::Sse
    );
    assert_eq!(
        Symbol::parse_for(Market::Us, "BRK.B").unwrap().as_str(),
        "BRK.B"
    );

    let err = Symbol::parse_for(Market::Cn, "AAPL").unwrap_err();
    assert_eq!(err.rule, SymbolRule::AShare);
    assert!(
        err.to_string()
            .starts_with("'AAPL' is not a valid A-share symbol")
    );

    let err = Symbol::parse_for(Market::Us, "600519.SH").unwrap_err();
    assert_eq!(err.rule, SymbolRule::Us);
}

#[test]
fn echoes_at_most_forty_characters_of_long_input() {
    let long = "X".repeat(1000);
    let message = Symbol::parse(&long).unwrap_err().to_string();
    assert!(message.starts_with(&format!("'{}…'", "X".repeat(40))));
}

#[test]
fn deserializes_only_valid_symbols() {
    assert_eq!(from_serde("000001.SZ").unwrap().exchange(), Exchange::Szse);
    let err = from_serde("000001.sz").unwrap_err();
    assert!(err.to_string().contains("not a valid A-share symbol"));
}

#[test]
fn orders_and_hashes_by_the_written_symbol() {
    let mut symbols: Vec<Symbol> = ["MSFT", "600519.SH", "AAPL", "000001.SZ"]
        .into_iter()
        .map(|s| s.parse().unwrap())
        .collect();
    symbols.sort();
    let sorted: Vec<&str> = symbols.iter().map(Symbol::as_str).collect();
    assert_eq!(sorted, ["000001.SZ", "600519.SH", "AAPL", "MSFT"]);

    let closes: HashMap<Symbol, u32> = symbols.into_iter().zip(1..).collect();
    assert_eq!(closes.get("AAPL"), Some(&3));
}

#[test]
fn converts_from_strings() {
    assert_eq!(
        Symbol::try_from("AAPL").unwrap(),
        Symbol::parse("AAPL").unwrap()
    );
    let owned = Symbol::try_from(String::from("BRK.B")).unwrap();
    assert_eq!(owned.into_string(), "BRK.B");
}

proptest::proptest! {
    /// Whatever the documented pattern generates, `Symbol::parse` accepts: API clients (and the
    /// fuzzer) that build symbols from the document's pattern are never refused.
    #[test]
    fn every_string_of_the_documented_pattern_parses(
        text in proptest::string::string_regex(
            SYMBOL_PATTERN.trim_start_matches('^').trim_end_matches('$'),
        )
        .unwrap_or_else(|e| panic!("SYMBOL_PATTERN: {e}"))
    ) {
        proptest::prop_assert!(Symbol::parse(&text).is_ok(), "{text}");
    }
}
