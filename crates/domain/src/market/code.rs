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

/// Declares a fieldless enum whose variants map one-to-one onto fixed strings, so that
/// serde, `as_str`, `Display` and `FromStr` can never disagree about the spelling.
macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident as $kind:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
        )]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $code)] $variant ),+
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
}

pub(crate) use code_enum;
