//! Reads one key at a time from the layered figment, so that every bad value is reported
//! (not just the first), each with the key, the problem and the source that set it.

use figment::Figment;
use figment::error::{Actual, Kind};
use figment::value::Value;
use secrecy::SecretString;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::sources::{SECRET_KEYS, SourceProblem};

/// One configuration problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub key: String,
    pub message: String,
    pub source: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Problems of a whole source (an unreadable file) have no key of their own.
        if self.key.is_empty() || self.key == "-" {
            write!(f, "{} (from {})", self.message, self.source)
        } else {
            write!(f, "{}: {} (from {})", self.key, self.message, self.source)
        }
    }
}

/// A deserialisation failure in words a person configuring the server can act on: the
/// value given and what is allowed, not serde's type names.
pub fn describe(kind: &Kind) -> String {
    match kind {
        Kind::InvalidType(actual, expected) | Kind::InvalidValue(actual, expected) => {
            let got = shown(actual);
            match (integer_range(expected), actual) {
                (Some((lo, hi)), Actual::Unsigned(_) | Actual::Signed(_)) => {
                    format!("{got} is out of range {lo}–{hi}")
                }
                (Some((lo, hi)), _) => format!("{got} is not a whole number in {lo}–{hi}"),
                (None, _) => match expected.as_str() {
                    "a boolean" => format!("{got} is not true or false"),
                    "f32" | "f64" => format!("{got} is not a number"),
                    "a string" | "path string" | "a borrowed string" => {
                        format!("{got} is not text")
                    }
                    other => format!("{got} is not {other}"),
                },
            }
        }
        Kind::UnknownVariant(found, allowed) => {
            format!("\"{found}\" is not one of: {}", allowed.join(", "))
        }
        Kind::Message(message) => message.clone(),
        other => other.to_string().replace('`', ""),
    }
}

fn shown(actual: &Actual) -> String {
    match actual {
        Actual::Str(text) => format!("\"{text}\""),
        Actual::Unsigned(n) => n.to_string(),
        Actual::Signed(n) => n.to_string(),
        Actual::Float(x) => x.to_string(),
        Actual::Bool(b) => b.to_string(),
        Actual::Seq => "a list".into(),
        Actual::Map => "a table".into(),
        other => other.to_string().replace('`', ""),
    }
}

/// The range of an integer type by serde's name for it.
fn integer_range(expected: &str) -> Option<(i128, u128)> {
    Some(match expected {
        "u8" => (0, u128::from(u8::MAX)),
        "u16" => (0, u128::from(u16::MAX)),
        "u32" => (0, u128::from(u32::MAX)),
        "u64" | "usize" => (0, u128::from(u64::MAX)),
        "i32" => (i128::from(i32::MIN), i32::MAX as u128),
        "i64" | "isize" => (i128::from(i64::MIN), i64::MAX as u128),
        _ => return None,
    })
}

impl From<SourceProblem> for Problem {
    fn from(p: SourceProblem) -> Self {
        Self {
            key: p.key,
            message: p.message,
            source: p.source,
        }
    }
}

/// One line of `config show`.
#[derive(Debug, Clone)]
pub struct Entry {
    pub key: &'static str,
    pub shown: String,
    pub source: String,
}

pub struct Loader {
    fig: Figment,
    pub problems: Vec<Problem>,
    pub entries: Vec<Entry>,
}

impl Loader {
    pub fn new(fig: Figment) -> Self {
        Self {
            fig,
            problems: Vec::new(),
            entries: Vec::new(),
        }
    }

    /// Where the value of `key` came from.
    pub fn source_of(&self, key: &str) -> String {
        match self.fig.find_metadata(key) {
            Some(md) => match &md.source {
                Some(figment::Source::File(path)) => format!("{} {}", md.name, path.display()),
                _ => md.name.to_string(),
            },
            None => "default".into(),
        }
    }

    fn read<T: DeserializeOwned>(&mut self, key: &'static str) -> Option<T> {
        if !self.fig.contains(key) {
            return None;
        }
        match self.fig.extract_inner::<T>(key) {
            Ok(v) => Some(v),
            Err(first) => {
                let mut kind = first.kind;
                // Environment values arrive as text: read "8080" or "true" as the literal it
                // spells before giving up (and report what that literal is wrong with).
                if let Ok(Value::String(_, text)) = self.fig.find_value(key) {
                    let Ok(parsed) = text.parse::<Value>();
                    if !matches!(parsed, Value::String(..)) {
                        match T::deserialize(&parsed) {
                            Ok(v) => return Some(v),
                            Err(e) => kind = e.kind,
                        }
                    }
                }
                let source = self.source_of(key);
                self.problems.push(Problem {
                    key: key.into(),
                    message: describe(&kind),
                    source,
                });
                None
            }
        }
    }

    fn record<T: Serialize>(&mut self, key: &'static str, value: &T) {
        let shown = toml::Value::try_from(value)
            .map(|v| v.to_string())
            .unwrap_or_else(|_| "(unset)".into());
        let source = self.source_of(key);
        self.entries.push(Entry { key, shown, source });
    }

    /// The value of `key`, or `default` when unset or invalid (invalid values are recorded
    /// as problems, so the caller's result is never used when any exist).
    pub fn get<T: DeserializeOwned + Serialize>(&mut self, key: &'static str, default: T) -> T {
        let value = self.read(key).unwrap_or(default);
        self.record(key, &value);
        value
    }

    /// An optional value.
    pub fn opt<T: DeserializeOwned + Serialize>(&mut self, key: &'static str) -> Option<T> {
        let value = self.read::<T>(key);
        match &value {
            Some(v) => self.record(key, v),
            None => {
                let source = self.source_of(key);
                self.entries.push(Entry {
                    key,
                    shown: "(unset)".into(),
                    source,
                });
            }
        }
        value
    }

    /// A secret: read like a string, shown only in redacted form.
    pub fn secret(&mut self, key: &'static str) -> Option<SecretString> {
        debug_assert!(SECRET_KEYS.contains(&key));
        let value = self.read::<String>(key);
        let shown = match &value {
            Some(v) => format!("\"{}\"", redact_url(v)),
            None => "(unset)".into(),
        };
        let source = self.source_of(key);
        self.entries.push(Entry { key, shown, source });
        value.map(SecretString::from)
    }

    /// Replaces how `key` is shown, for values derived from other settings.
    pub fn show_derived(&mut self, key: &'static str, shown: String) {
        if let Some(e) = self
            .entries
            .iter_mut()
            .find(|e| e.key == key && e.shown == "(unset)")
        {
            e.shown = shown;
            e.source = "default (derived from data.dir)".into();
        }
    }

    /// Records a problem with `key` unless `ok`.
    pub fn check(&mut self, key: &'static str, ok: bool, message: impl FnOnce() -> String) {
        if !ok {
            let source = self.source_of(key);
            self.problems.push(Problem {
                key: key.into(),
                message: message(),
                source,
            });
        }
    }

    /// Keys present in any source that no setting reads: usually a typo.
    pub fn report_unknown(&mut self, known: &[&str]) {
        let mut found = Vec::new();
        if let Ok(dict) = self.fig.extract::<figment::value::Dict>() {
            flatten("", &dict, &mut found);
        }
        for key in found {
            if !known.contains(&key.as_str()) {
                let source = self.source_of(&key);
                let message = if key.split('.').any(str::is_empty) {
                    "names no setting: a part of the name is empty (a doubled or trailing \
                     separator, or an empty key)"
                } else {
                    "unknown setting (see docs/configuration.md for the list)"
                };
                let shown: Vec<&str> = key
                    .split('.')
                    .map(|part| if part.is_empty() { "\"\"" } else { part })
                    .collect();
                self.problems.push(Problem {
                    key: shown.join("."),
                    message: message.into(),
                    source,
                });
            }
        }
    }
}

fn flatten(prefix: &str, dict: &figment::value::Dict, out: &mut Vec<String>) {
    for (k, v) in dict {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Dict(_, inner) => flatten(&key, inner, out),
            _ => out.push(key),
        }
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
