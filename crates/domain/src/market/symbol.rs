//! The security identifier every other market type is keyed by, checked once at the edge so
//! that code past it never re-validates a string.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::{Deserialize, Serialize, Serializer};
use thiserror::Error;

use super::exchange::{Exchange, Market};
use crate::text::excerpt;

/// A validated security symbol in the provider-neutral form used across stockpilot.
///
/// - A-shares: six digits, a dot and the exchange suffix: `600519.SH`, `000001.SZ`,
///   `430047.BJ`. The digits are not checked against the exchange's code ranges because
///   index codes (`000001.SH` is the SSE Composite) deliberately reuse other ranges.
/// - US: one to five capital letters with an optional one-letter share class: `AAPL`,
///   `BRK.B`.
///
/// Input is never normalised: `aapl` and `600519.sh` are rejected, so a symbol has exactly
/// one spelling and stored keys always match.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct Symbol {
    code: String,
    exchange: Exchange,
}

/// Which symbol rule an input was checked against; decides the wording of the error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolRule {
    /// Six digits and `.SH`, `.SZ` or `.BJ`.
    AShare,
    /// One to five capital letters with an optional `.CLASS` letter.
    Us,
    /// No market could be guessed (e.g. empty input), so both rules are described.
    Any,
}

impl fmt::Display for SymbolRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SymbolRule::AShare => {
                "A-share symbol: expected 6 digits and .SH, .SZ or .BJ (e.g. 600519.SH)"
            }
            SymbolRule::Us => {
                "US symbol: expected 1–5 capital letters with an optional .CLASS letter \
                 (e.g. AAPL, BRK.B)"
            }
            SymbolRule::Any => {
                "symbol: expected an A-share symbol (6 digits and .SH, .SZ or .BJ, \
                 e.g. 600519.SH) or a US symbol (1–5 capital letters with an optional \
                 .CLASS letter, e.g. AAPL, BRK.B)"
            }
        })
    }
}

/// The input is not a symbol; the message names the rule of the market it resembles.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("'{}' is not a valid {rule}", excerpt(.input))]
pub struct InvalidSymbol {
    /// The rejected input, unchanged.
    pub input: String,
    /// The rule the input was judged against.
    pub rule: SymbolRule,
}

impl Symbol {
    /// Parses a symbol of either market, telling them apart by shape.
    ///
    /// # Errors
    /// [`InvalidSymbol`] naming the A-share rule when the input contains a digit or an
    /// A-share suffix, the US rule otherwise, and both rules for empty input.
    pub fn parse(input: &str) -> Result<Symbol, InvalidSymbol> {
        if let Some(exchange) = a_share_exchange(input) {
            return Ok(Symbol::new(input, exchange));
        }
        if is_us_symbol(input) {
            return Ok(Symbol::new(input, Exchange::Us));
        }
        let rule = if input.is_empty() {
            SymbolRule::Any
        } else if looks_like_a_share(input) {
            SymbolRule::AShare
        } else {
            SymbolRule::Us
        };
        Err(InvalidSymbol {
            input: input.to_owned(),
            rule,
        })
    }

    /// Parses a symbol that must belong to `market`, e.g. a path segment under `/cn/…`.
    ///
    /// # Errors
    /// [`InvalidSymbol`] naming `market`'s rule, even if the input is valid elsewhere.
    pub fn parse_for(market: Market, input: &str) -> Result<Symbol, InvalidSymbol> {
        let (exchange, rule) = match market {
            Market::Cn => (a_share_exchange(input), SymbolRule::AShare),
            Market::Us => (is_us_symbol(input).then_some(Exchange::Us), SymbolRule::Us),
        };
        match exchange {
            Some(exchange) => Ok(Symbol::new(input, exchange)),
            None => Err(InvalidSymbol {
                input: input.to_owned(),
                rule,
            }),
        }
    }

    fn new(code: &str, exchange: Exchange) -> Symbol {
        Symbol {
            code: code.to_owned(),
            exchange,
        }
    }

    /// The symbol as written, e.g. `600519.SH`.
    pub fn as_str(&self) -> &str {
        &self.code
    }

    /// The exchange whose calendar this security follows.
    pub fn exchange(&self) -> Exchange {
        self.exchange
    }

    /// The market, and so the data provider, this security belongs to.
    pub fn market(&self) -> Market {
        self.exchange.market()
    }

    /// Gives back the owned string without copying.
    pub fn into_string(self) -> String {
        self.code
    }
}

fn a_share_exchange(input: &str) -> Option<Exchange> {
    let (digits, suffix) = input.split_once('.')?;
    let six_digits = digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit());
    if six_digits {
        Exchange::from_symbol_suffix(suffix)
    } else {
        None
    }
}

fn is_us_symbol(input: &str) -> bool {
    let capitals = |part: &str| part.bytes().all(|b| b.is_ascii_uppercase());
    let (root, class) = match input.split_once('.') {
        Some((root, class)) => (root, Some(class)),
        None => (input, None),
    };
    (1..=5).contains(&root.len())
        && capitals(root)
        && class.is_none_or(|class| class.len() == 1 && capitals(class))
}

/// Digits or an A-share suffix in any case mean the caller meant an A-share; letters alone
/// mean a ticker. Used only to pick the rule the error message explains.
fn looks_like_a_share(input: &str) -> bool {
    let has_digit = input.bytes().any(|b| b.is_ascii_digit());
    let has_suffix = input.rsplit_once('.').is_some_and(|(_, suffix)| {
        ["SH", "SZ", "BJ"]
            .iter()
            .any(|s| suffix.eq_ignore_ascii_case(s))
    });
    has_digit || has_suffix
}

// Equality, hashing and ordering use the string alone (the exchange is derived from it), which
// keeps them consistent with `str` and makes the `Borrow<str>` impl sound for map lookups.
impl PartialEq for Symbol {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code
    }
}

impl Eq for Symbol {}

impl Hash for Symbol {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.code.hash(state);
    }
}

impl PartialOrd for Symbol {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Symbol {
    fn cmp(&self, other: &Self) -> Ordering {
        self.code.cmp(&other.code)
    }
}

impl Borrow<str> for Symbol {
    fn borrow(&self) -> &str {
        &self.code
    }
}

impl AsRef<str> for Symbol {
    fn as_ref(&self) -> &str {
        &self.code
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code)
    }
}

impl FromStr for Symbol {
    type Err = InvalidSymbol;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Symbol::parse(s)
    }
}

impl TryFrom<String> for Symbol {
    type Error = InvalidSymbol;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Symbol::parse(&value)
    }
}

impl TryFrom<&str> for Symbol {
    type Error = InvalidSymbol;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Symbol::parse(value)
    }
}

impl Serialize for Symbol {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.code)
    }
}

/// The symbol rule of both markets as a regular expression (what [`Symbol::parse`] accepts):
/// six digits and `.SH`, `.SZ` or `.BJ` (A-shares), or 1–5 capital letters with an optional
/// `.CLASS` letter (US). Path parameters of the API repeat it literally (an attribute takes a
/// literal); a test keeps them equal.
pub const SYMBOL_PATTERN: &str = r"^([0-9]{6}\.(SH|SZ|BJ)|[A-Z]{1,5}(\.[A-Z])?)$";

/// A symbol in a request: a string following [`SYMBOL_PATTERN`].
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Symbol {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(SYMBOL_PATTERN))
            .description(Some(
                "A symbol: six digits and `.SH`, `.SZ` or `.BJ` (A-shares, e.g. `600519.SH`), \
                 or 1–5 capital letters with an optional `.CLASS` letter (US, e.g. `AAPL`, \
                 `BRK.B`).",
            ))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Symbol {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("Symbol")
    }
}

#[cfg(test)]
#[path = "symbol_tests.rs"]
mod tests;
