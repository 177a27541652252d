//! Lenient decoding of the numbers and dates providers send: numbers as JSON numbers or as
//! strings (plain or scientific), dates as `YYYYMMDD`, `YYYY-MM-DD` or a datetime. Errors are
//! short descriptions meant to be wrapped into a `Malformed` message.

use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Parses a decimal written plainly (`-12.5`) or in scientific notation (`1.2e-3`).
pub(crate) fn parse_decimal(text: &str) -> Result<Decimal, String> {
    let text = text.trim();
    let parsed = if text.contains(['e', 'E']) {
        Decimal::from_scientific(text)
    } else {
        Decimal::from_str(text)
    };
    parsed.map_err(|_| format!("'{}' is not a number", short(text)))
}

/// A JSON cell as a decimal: null and empty strings are `None`.
pub(crate) fn decimal_from_json(value: &Value) -> Result<Option<Decimal>, String> {
    match value {
        Value::Null => Ok(None),
        // serde_json prints floats in their shortest round-trip form (130.31 stays 130.31),
        // so going through the text keeps exactly the digits the provider sent.
        Value::Number(n) => parse_decimal(&n.to_string()).map(Some),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => parse_decimal(s).map(Some),
        other => Err(format!("expected a number, found {}", kind(other))),
    }
}

/// Parses `YYYYMMDD`, `YYYY-MM-DD`, or the date part of `YYYY-MM-DDThh:mm…`.
pub(crate) fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let text = text.trim();
    let bad = || format!("'{}' is not a date", short(text));
    if text.len() == 8 && text.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDate::parse_from_str(text, "%Y%m%d").map_err(|_| bad());
    }
    let day = text.get(..10).ok_or_else(bad)?;
    NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| bad())
}

/// A JSON cell as a date: null and empty strings are `None`; numbers like `20240102` work.
pub(crate) fn date_from_json(value: &Value) -> Result<Option<NaiveDate>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => parse_date(s).map(Some),
        Value::Number(n) => parse_date(&n.to_string()).map(Some),
        other => Err(format!("expected a date, found {}", kind(other))),
    }
}

/// A JSON cell as text: null and empty strings are `None`; numbers are printed.
pub(crate) fn text_from_json(value: &Value) -> Result<Option<String>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.trim().to_owned())),
        Value::Number(n) => Ok(Some(n.to_string())),
        other => Err(format!("expected text, found {}", kind(other))),
    }
}

/// `value × factor`, for unit conversions (lots → shares, 10k CNY → CNY).
pub(crate) fn scaled(value: Decimal, factor: i64) -> Result<Decimal, String> {
    value
        .checked_mul(Decimal::from(factor))
        .map(|v| v.normalize())
        .ok_or_else(|| format!("{value} × {factor} overflows"))
}

/// A percentage (`15.2`) as a fraction (`0.152`).
pub(crate) fn percent_to_fraction(value: Decimal) -> Decimal {
    // Division by a non-zero constant cannot fail; the scale grows by at most two places.
    (value / Decimal::ONE_HUNDRED).normalize()
}

/// Rounds half away from zero, the convention of exchange-reported percentages.
pub(crate) fn round(value: Decimal, places: u32) -> Decimal {
    value.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero)
}

/// `(close - pre_close, (close - pre_close) / pre_close × 100)` with the percentage rounded to
/// four places, as Tushare reports `pct_chg`; no percentage when `pre_close` is zero.
pub(crate) fn change_against(close: Decimal, pre_close: Decimal) -> (Decimal, Option<Decimal>) {
    let change = close - pre_close;
    let pct = change
        .checked_mul(Decimal::ONE_HUNDRED)
        .and_then(|c| c.checked_div(pre_close))
        .map(|p| round(p, 4).normalize());
    (change.normalize(), pct)
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// At most 40 characters of provider text in an error message.
pub(crate) fn short(text: &str) -> String {
    const MAX: usize = 40;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        let head: String = text.chars().take(MAX).collect();
        format!("{head}…")
    }
}

/// serde adapters for wire structs whose numbers may be JSON numbers or strings.
pub(crate) mod lenient {
    use super::{Decimal, Deserialize, Deserializer, NaiveDate, Value};

    /// A nullable number.
    pub(crate) fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        let value = Value::deserialize(d)?;
        super::decimal_from_json(&value).map_err(serde::de::Error::custom)
    }

    /// A number that must be present.
    pub(crate) fn required_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        decimal(d)?.ok_or_else(|| serde::de::Error::custom("a required number is null"))
    }

    /// A nullable date.
    pub(crate) fn date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
        let value = Value::deserialize(d)?;
        super::date_from_json(&value).map_err(serde::de::Error::custom)
    }

    /// A date that must be present.
    pub(crate) fn required_date<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
        date(d)?.ok_or_else(|| serde::de::Error::custom("a required date is null"))
    }

    /// Nullable text; numbers are printed.
    pub(crate) fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        let value = Value::deserialize(d)?;
        super::text_from_json(&value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn numbers_keep_the_digits_that_were_sent() {
        assert_eq!(decimal_from_json(&json!(130.31)), Ok(Some(dec("130.31"))));
        assert_eq!(decimal_from_json(&json!("130.31")), Ok(Some(dec("130.31"))));
        assert_eq!(decimal_from_json(&json!(9616100)), Ok(Some(dec("9616100"))));
        assert_eq!(decimal_from_json(&json!("1.5e3")), Ok(Some(dec("1500"))));
        assert_eq!(
            decimal_from_json(&json!(1.0e-7)),
            Ok(Some(dec("0.0000001")))
        );
    }

    #[test]
    fn null_and_blank_cells_are_unknown() {
        assert_eq!(decimal_from_json(&Value::Null), Ok(None));
        assert_eq!(decimal_from_json(&json!(" ")), Ok(None));
        assert_eq!(date_from_json(&json!("")), Ok(None));
    }

    #[test]
    fn rejects_text_and_other_shapes_with_a_description() {
        assert_eq!(
            decimal_from_json(&json!("abc")),
            Err("'abc' is not a number".to_owned())
        );
        assert_eq!(
            decimal_from_json(&json!([1])),
            Err("expected a number, found an array".to_owned())
        );
    }

    #[test]
    fn dates_come_in_three_spellings() {
        let day = NaiveDate::from_ymd_opt(2024, 1, 2).unwrap();
        assert_eq!(parse_date("20240102"), Ok(day));
        assert_eq!(parse_date("2024-01-02"), Ok(day));
        assert_eq!(parse_date("2024-01-02T00:00:00Z"), Ok(day));
        assert_eq!(date_from_json(&json!(20240102)), Ok(Some(day)));
        assert!(parse_date("20241302").is_err());
        assert!(parse_date("2024/01/02").is_err());
    }

    #[test]
    fn change_is_rounded_like_tushare_pct_chg() {
        let (change, pct) = change_against(dec("10.5"), dec("10"));
        assert_eq!(change, dec("0.5"));
        assert_eq!(pct, Some(dec("5")));
        let (_, pct) = change_against(dec("1"), dec("3"));
        assert_eq!(pct, Some(dec("-66.6667")));
        assert_eq!(change_against(dec("1"), Decimal::ZERO).1, None);
    }

    #[test]
    fn unit_conversions_are_exact() {
        assert_eq!(scaled(dec("1234.56"), 100), Ok(dec("123456")));
        assert_eq!(percent_to_fraction(dec("15.25")), dec("0.1525"));
    }
}
