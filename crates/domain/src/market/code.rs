//! Closed sets of codes (market, exchange, listing status, …) that travel as fixed strings
//! through the API and the database, and the one error used when a string matches none.

use thiserror::Error;

use crate::text::excerpt;

/// A string that is not one of the codes of a closed set, e.g. `unknown market 'HK'`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown {kind} '{}'; allowed: {}", excerpt(.input), .allowed.join(", "))]
pub struct UnknownCode {
    /// What was being parsed, in the trade's words ("market", "adjustment", …).
    pub kind: &'static str,
    /// The rejected input, unchanged.
    pub input: String,
    /// Every accepted code, in declaration order.
    pub allowed: &'static [&'static str],
}

impl UnknownCode {
    /// The same refusal in the words of a command-line or rules field:
    /// `'HK' is not one of: CN, US`.
    pub fn not_one_of(&self) -> String {
        format!(
            "'{}' is not one of: {}",
            excerpt(&self.input),
            self.allowed.join(", ")
        )
    }
}

/// Declares a fieldless enum whose variants map one-to-one onto fixed strings, so that
/// serde, `as_str`, `Display` and `FromStr` can never disagree about the spelling: the one
/// idiom for closed sets (markets, statuses, roles, error codes) in every crate.
///
/// With the calling crate's `openapi` feature it also describes itself to the API document: a
/// string schema of its codes, whose description is the enum's doc comment followed by each
/// code's. `@custom_schema` before the doc comment leaves the schema to the caller.
///
/// ```
/// stockpilot_domain::code_enum! {
///     /// Where a job is.
///     pub enum Stage as "stage" {
///         /// Waiting for a worker.
///         Queued = "queued",
///         /// Done.
///         Done = "done",
///     }
/// }
/// assert_eq!("queued".parse::<Stage>(), Ok(Stage::Queued));
/// assert_eq!(Stage::Done.to_string(), "done");
/// assert_eq!(
///     "later".parse::<Stage>().unwrap_err().to_string(),
///     "unknown stage 'later'; allowed: queued, done"
/// );
/// ```
#[macro_export]
macro_rules! code_enum {
    (
        @custom_schema
        $(#[doc = $doc:literal])*
        pub enum $name:ident as $kind:literal {
            $( $(#[doc = $vdoc:literal])* $variant:ident = $code:literal ),+ $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            ::serde::Serialize, ::serde::Deserialize,
        )]
        pub enum $name {
            $( $(#[doc = $vdoc])* #[serde(rename = $code)] $variant ),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The code used in the API, the database and serde.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::market::UnknownCode;

            /// Accepts exactly the codes of `as_str`; case is significant.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($code => Ok($name::$variant),)+
                    _ => Err($crate::market::UnknownCode {
                        kind: $kind,
                        input: s.to_owned(),
                        allowed: &[$($code),+],
                    }),
                }
            }
        }
    };
    (
        $(#[doc = $doc:literal])*
        pub enum $name:ident as $kind:literal {
            $( $(#[doc = $vdoc:literal])* $variant:ident = $code:literal ),+ $(,)?
        }
    ) => {
        $crate::code_enum! {
            @custom_schema
            $(#[doc = $doc])*
            pub enum $name as $kind {
                $( $(#[doc = $vdoc])* $variant = $code ),+
            }
        }

        #[cfg(feature = "openapi")]
        impl ::utoipa::PartialSchema for $name {
            fn schema() -> ::utoipa::openapi::RefOr<::utoipa::openapi::schema::Schema> {
                $crate::market::code_schema(&[$($doc),*], &[$(($code, &[$($vdoc),*])),+])
            }
        }

        #[cfg(feature = "openapi")]
        impl ::utoipa::ToSchema for $name {
            fn name() -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed(stringify!($name))
            }
        }
    };
}

/// The schema of a `code_enum!`: a string with the codes as its values, described by the
/// enum's doc lines and then one `- `code`: doc` line per code.
#[cfg(feature = "openapi")]
pub fn code_schema(
    doc: &[&str],
    codes: &[(&str, &[&str])],
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    let text = |lines: &[&str]| {
        lines
            .iter()
            .map(|l| l.strip_prefix(' ').unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut description = text(doc);
    description.push('\n');
    for (code, doc) in codes {
        let doc = text(doc).replace('\n', " ");
        if doc.is_empty() {
            description.push_str(&format!("\n- `{code}`"));
        } else {
            description.push_str(&format!("\n- `{code}`: {doc}"));
        }
    }
    closed_set_schema(description, codes.iter().map(|(code, _)| *code))
}

/// A string schema whose values are `values`, described by `description`: the schema of every
/// closed set in the API document.
#[cfg(feature = "openapi")]
pub fn closed_set_schema<'a>(
    description: String,
    values: impl IntoIterator<Item = &'a str>,
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, Type};

    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .description(Some(description))
        .into()
}
