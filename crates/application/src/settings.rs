//! Settings declared once: [`settings!`](crate::settings!) declares a section's struct with,
//! for each field, its type, default, allowed range and documentation. Everything else about a
//! setting (reading and checking it, the unknown-key check, `config show`, the settings table
//! of docs/configuration.md and `.env.example`) is derived from that declaration.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A secret setting: read as text, never shown. It serializes redacted (a URL keeps its shape
/// with the password replaced, anything else is `[redacted]`), so whatever prints settings
/// cannot print a secret; `Debug` prints `[redacted]`.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(text: impl Into<String>) -> Self {
        Self(SecretString::from(text.into()))
    }

    /// The value for an adapter that keeps it secret.
    pub fn secret_string(&self) -> SecretString {
        self.0.clone()
    }
}

impl ExposeSecret<str> for Secret {
    fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.expose_secret() == other.expose_secret()
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&redact_url(self.expose_secret()))
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Self::new)
    }
}

/// A URL with its password replaced, or `[redacted]` when it is not a URL.
pub fn redact_url(value: &str) -> String {
    match url::Url::parse(value) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("redacted"));
            url.to_string()
        }
        Ok(url) if url.scheme() == "sqlite" || url.cannot_be_a_base() => value.to_owned(),
        Ok(url) => url.to_string(),
        Err(_) => "[redacted]".into(),
    }
}

/// What a section declares about one of its settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Setting {
    /// The field's name; the key is `<section>.<name>`.
    pub name: &'static str,
    /// What it does (the field's doc comment).
    pub doc: &'static str,
    /// Allowed values of a number, inclusive (the type's own range when unbounded).
    pub range: (f64, f64),
    /// How the default is described when it is not a plain value ("number of CPUs").
    pub default_shown: &'static str,
    /// Never shown; may be given as `NAME_FILE`.
    pub secret: bool,
    /// Conventional environment variables that set it too (`DATABASE_URL`); when several
    /// are set, the first listed wins.
    pub env: &'static [&'static str],
    /// An example value for `.env.example` when the default is empty.
    pub example: &'static str,
}

impl Setting {
    /// A setting with nothing but its name and doc; declarations add the rest.
    pub const PLAIN: Self = Self {
        name: "",
        doc: "",
        range: (f64::NEG_INFINITY, f64::INFINITY),
        default_shown: "",
        secret: false,
        env: &[],
        example: "",
    };

    /// Whether `value` is within the declared range.
    pub fn allows(&self, value: f64) -> bool {
        value >= self.range.0 && value <= self.range.1
    }

    /// The declared range in words (`1–256`), or `None` when unbounded.
    pub fn range_text(&self) -> Option<String> {
        let (lo, hi) = self.range;
        (lo.is_finite() || hi.is_finite()).then(|| match (lo.is_finite(), hi.is_finite()) {
            (true, true) => format!("{lo}–{hi}"),
            (true, false) => format!("≥ {lo}"),
            _ => format!("≤ {hi}"),
        })
    }
}

/// A section of settings declared with [`settings!`](crate::settings!).
pub trait Settings:
    Default + Clone + serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static
{
    /// What the section is for (its doc comment).
    const ABOUT: &'static str;
    /// Each field's declaration, in declaration order.
    const FIELDS: &'static [Setting];
}

/// Declares a section of settings: the struct (serde, `#[serde(default)]`, unknown fields
/// rejected), its `Default` from the declared defaults, and its [`Settings::FIELDS`].
///
/// ```
/// stockpilot_application::settings! {
///     /// The HTTP server.
///     pub struct ServerSettings {
///         /// Listen port (0 = any free port).
///         port: u16 = 8080,
///         /// Worker threads.
///         workers: u32 = 4; range = (1.0, 256.0), default_shown = "number of CPUs",
///     }
/// }
/// use stockpilot_application::settings::Settings;
/// assert_eq!(ServerSettings::default().port, 8080);
/// assert_eq!(ServerSettings::FIELDS[1].range_text().as_deref(), Some("1–256"));
/// ```
#[macro_export]
macro_rules! settings {
    (
        $(#[doc = $about:literal])*
        pub struct $name:ident {
            $(
                $(#[doc = $doc:literal])+
                $field:ident : $ty:ty = $default:expr $(; $($opt:ident = $val:expr),+ )?
            ),* $(,)?
        }
    ) => {
        $(#[doc = $about])*
        #[derive(Debug, Clone, PartialEq, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct $name {
            $( $(#[doc = $doc])+ pub $field: $ty, )*
        }

        impl ::core::default::Default for $name {
            fn default() -> Self {
                Self { $( $field: $default, )* }
            }
        }

        impl $crate::settings::Settings for $name {
            const ABOUT: &'static str = concat!($($about, "\n"),*);
            const FIELDS: &'static [$crate::settings::Setting] = &[
                $( $crate::settings::Setting {
                    name: stringify!($field),
                    doc: concat!($($doc, "\n"),+),
                    $( $( $opt: $val, )+ )?
                    ..$crate::settings::Setting::PLAIN
                }, )*
            ];
        }
    };
}

#[cfg(test)]
mod tests {
    use super::Settings;

    crate::settings! {
        /// A section for the tests.
        pub struct Sample {
            /// A port.
            port: u16 = 8080; range = (1.0, 65535.0),
            /// A token.
            /// Two lines of doc.
            token: Option<String> = None; secret = true, env = &["SAMPLE_TOKEN"],
            /// A ratio.
            ratio: f64 = 0.5; range = (0.0, 1.0),
        }
    }

    #[test]
    fn a_declaration_gives_the_struct_its_defaults_and_its_fields() {
        let s = Sample::default();
        assert_eq!((s.port, s.token, s.ratio), (8080, None, 0.5));
        let names: Vec<&str> = Sample::FIELDS.iter().map(|f| f.name).collect();
        assert_eq!(names, ["port", "token", "ratio"]);
        let token = &Sample::FIELDS[1];
        assert!(token.secret);
        assert_eq!(token.env, ["SAMPLE_TOKEN"]);
        assert_eq!(token.doc, " A token.\n Two lines of doc.\n");
        assert_eq!(token.range_text(), None);
        assert_eq!(Sample::FIELDS[0].range_text().as_deref(), Some("1–65535"));
        assert_eq!(Sample::FIELDS[2].range_text().as_deref(), Some("0–1"));
        assert!(Sample::FIELDS[2].allows(1.0) && !Sample::FIELDS[2].allows(1.01));
    }

    #[test]
    fn unset_fields_take_their_defaults_and_unknown_ones_are_refused() {
        let s: Sample = serde_json::from_value(serde_json::json!({"ratio": 0.25})).unwrap();
        assert_eq!((s.port, s.ratio), (8080, 0.25));
        let err = serde_json::from_value::<Sample>(serde_json::json!({"prot": 1})).unwrap_err();
        assert!(err.to_string().contains("unknown field `prot`"), "{err}");
    }
}
