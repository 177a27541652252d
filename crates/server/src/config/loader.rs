//! Reads one key at a time from the layered figment, so that every bad value is reported
//! (not just the first), each with the key, the problem and the source that set it.

use figment::Figment;
use figment::error::{Actual, Kind};
use figment::value::{Dict, Tag, Value};
use stockpilot_application::settings::Settings;
pub use stockpilot_application::settings::redact_url;

use super::sources::SourceProblem;

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
    pub key: String,
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

    /// Reads a section declared with `settings!` from under `prefix`: each key that a
    /// source sets is checked on its own, so every bad value is reported (with its source),
    /// and the section keeps its declared default for it. Records each key for `config show`.
    pub fn section<S: Settings>(&mut self, prefix: &'static str) -> S {
        let mut good = Dict::new();
        for field in S::FIELDS {
            let key = format!("{prefix}.{}", field.name);
            let Ok(raw) = self.fig.find_value(&key) else {
                continue;
            };
            match field_value::<S>(field.name, raw) {
                Ok(value) => {
                    good.insert(field.name.to_owned(), value);
                }
                Err(kind) => {
                    let source = self.source_of(&key);
                    self.problems.push(Problem {
                        key,
                        message: describe(&kind),
                        source,
                    });
                }
            }
        }
        let value = S::deserialize(&Value::Dict(Tag::Default, good)).unwrap_or_default();
        let shown = toml::Value::try_from(&value).ok();
        for field in S::FIELDS {
            let key = format!("{prefix}.{}", field.name);
            let shown = shown
                .as_ref()
                .and_then(|t| t.get(field.name))
                .map_or_else(|| "(unset)".to_owned(), ToString::to_string);
            let source = self.source_of(&key);
            self.entries.push(Entry { key, shown, source });
        }
        value
    }

    /// Records a problem for each number of `section` (read from under `prefix`) outside the
    /// range its declaration allows.
    pub fn check_ranges<S: Settings>(&mut self, prefix: &str, section: &S) {
        let Ok(serde_json::Value::Object(values)) = serde_json::to_value(section) else {
            return;
        };
        for field in S::FIELDS {
            let Some(n) = values.get(field.name).and_then(serde_json::Value::as_f64) else {
                continue;
            };
            if field.allows(n) {
                continue;
            }
            let (lo, hi) = field.range;
            let message = match (lo.is_finite(), hi.is_finite()) {
                (true, true) => format!("{n} is out of range {lo}–{hi}"),
                (true, false) => format!("{n} is below the least allowed value, {lo}"),
                _ => format!("{n} is above the greatest allowed value, {hi}"),
            };
            let key = format!("{prefix}.{}", field.name);
            let source = self.source_of(&key);
            self.problems.push(Problem {
                key,
                message,
                source,
            });
        }
    }

    /// Replaces how `key` is shown, for values derived from other settings.
    pub fn show_derived(&mut self, key: &str, shown: String, source: &str) {
        if let Some(e) = self
            .entries
            .iter_mut()
            .find(|e| e.key == key && e.shown == "(unset)")
        {
            e.shown = shown;
            e.source = source.into();
        }
    }

    /// Records a problem with `key` unless `ok`.
    pub fn check(&mut self, key: &str, ok: bool, message: impl FnOnce() -> String) {
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
    pub fn report_unknown(&mut self, known: &[String]) {
        let mut found = Vec::new();
        if let Ok(dict) = self.fig.extract::<figment::value::Dict>() {
            flatten("", &dict, &mut found);
        }
        for key in found {
            if !known.contains(&key) {
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

/// `raw` as the value of the field `name` of `S` when it reads as one: as given, or, for
/// environment text, as the number or boolean it spells. Else why not (of the literal when
/// it spells one).
fn field_value<S: Settings>(name: &str, raw: Value) -> Result<Value, Kind> {
    let reads = |value: &Value| {
        let mut one = Dict::new();
        one.insert(name.to_owned(), value.clone());
        S::deserialize(&Value::Dict(Tag::Default, one))
            .map(|_| ())
            .map_err(|e| e.kind)
    };
    match reads(&raw) {
        Ok(()) => Ok(raw),
        Err(kind) => {
            if let Value::String(_, text) = &raw {
                let Ok(parsed) = text.parse::<Value>();
                if !matches!(parsed, Value::String(..)) {
                    return reads(&parsed).map(|()| parsed);
                }
            }
            Err(kind)
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
