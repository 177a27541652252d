//! Schemas of the document that no served type carries: the error codes, the symbol rule of
//! request parameters and the closed sets that only parameters or fixed texts use. Every
//! response body's schema is derived from the type that is serialised (`ToSchema`, behind the
//! `openapi` feature of the domain and application crates).

use std::borrow::Cow;

use stockpilot_domain::market::StatementKind;
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

use crate::error::ErrorCode;

/// A string schema with a closed set of values.
fn string_enum<'a>(description: &str, values: impl IntoIterator<Item = &'a str>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .description(Some(description))
        .into()
}

/// Declares a schema-only type for a closed set of codes. The values come from the code's own
/// `ALL`/`as_str` where it has them, so they cannot drift from what serde writes.
macro_rules! code_schema {
    ($(#[doc = $doc:literal])+ $name:ident => $values:expr) => {
        $(#[doc = $doc])+
        #[derive(Debug, Clone, Copy)]
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                string_enum(concat!($($doc),+).trim(), $values)
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

/// The stable `code` of an error body (schema name `ErrorCode`), with the HTTP status of each.
#[derive(Debug, Clone, Copy)]
pub struct ErrorCodeValue;

impl utoipa::PartialSchema for ErrorCodeValue {
    fn schema() -> RefOr<Schema> {
        let table: Vec<String> = ErrorCode::ALL
            .iter()
            .map(|c| format!("- `{}`: {}", c.as_str(), c.status().as_u16()))
            .collect();
        let description = format!(
            "Stable error code; clients may rely on it. Each code and its HTTP status:\n\n{}",
            table.join("\n")
        );
        string_enum(&description, ErrorCode::ALL.iter().map(|c| c.as_str()))
    }
}

impl ToSchema for ErrorCodeValue {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ErrorCode")
    }
}

code_schema! {
    /// What `statement` accepts: a statement kind (`cashflow` is another spelling of
    /// `cash_flow`) or `indicators`.
    StatementParam => StatementKind::ALL
        .iter()
        .map(|k| k.as_str())
        .chain(["cashflow", "indicators"])
}
code_schema! {
    /// A preset of known OpenAI-compatible servers (`custom` for any other).
    PresetCode => stockpilot_application::llm::presets::PRESETS.iter().map(|p| p.name)
}
code_schema! {
    /// Always `ok` while the process serves requests.
    LiveStatusCode => ["ok"]
}
code_schema! {
    /// `ready` when every required dependency is up, else `unready`.
    ReadyStatusCode => ["ready", "unready"]
}

/// The symbol rule of both markets (`Symbol::parse`): six digits and `.SH`, `.SZ` or `.BJ`
/// (A-shares), or 1–5 capital letters with an optional `.CLASS` letter (US). Path parameters
/// repeat it literally (the attribute takes a literal); a test keeps them equal.
pub const SYMBOL_PATTERN: &str = r"^([0-9]{6}\.(SH|SZ|BJ)|[A-Z]{1,5}(\.[A-Z])?)$";

/// A symbol in a request (schema name `Symbol`).
#[derive(Debug, Clone, Copy)]
pub struct SymbolText;

impl utoipa::PartialSchema for SymbolText {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(SYMBOL_PATTERN))
            .description(Some(
                "A symbol: six digits and `.SH`, `.SZ` or `.BJ` (A-shares, e.g. `600519.SH`), \
                 or 1–5 capital letters with an optional `.CLASS` letter (US, e.g. `AAPL`, \
                 `BRK.B`).",
            ))
            .into()
    }
}

impl ToSchema for SymbolText {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Symbol")
    }
}
