//! Reads one key at a time from the layered figment, so that every bad value is reported
//! (not just the first), each with the key, the problem and the source that set it.

use figment::Figment;
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
        write!(f, "{}: {} (from {})", self.key, self.message, self.source)
    }
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
                // Environment values arrive as text: read "8080" or "true" as the literal it
                // spells before giving up.
                if let Ok(Value::String(_, text)) = self.fig.find_value(key) {
                    let Ok(parsed) = text.parse::<Value>();
                    if !matches!(parsed, Value::String(..))
                        && let Ok(v) = T::deserialize(&parsed)
                    {
                        return Some(v);
                    }
                }
                let source = self.source_of(key);
                self.problems.push(Problem {
                    key: key.into(),
                    message: first.kind.to_string(),
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
                self.problems.push(Problem {
                    key,
                    message: "unknown setting (see docs/configuration.md for the list)".into(),
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
