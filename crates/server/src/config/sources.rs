//! Where configuration values come from, lowest to highest precedence: compiled defaults →
//! `stockpilot.toml` (profile chosen by `STOCKPILOT_ENV`) → `.env` → the process environment.
//!
//! Each environment variable (and each `.env` line) becomes its own figment provider so a
//! problem can be reported with the exact variable that set the value.

use std::path::{Path, PathBuf};

use figment::providers::{Format, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};

/// Conventional variable names and the key each one sets, as the settings declare them
/// (`env = &[…]`), in the order they apply: a later one wins, so a setting's first-listed
/// name comes last.
pub fn conventional() -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for (prefix, fields) in super::SECTIONS {
        for field in *fields {
            for name in field.env.iter().rev() {
                out.push((*name, format!("{prefix}.{}", field.name)));
            }
        }
    }
    out
}

/// Whether `key` is declared secret: it may be given as `NAME_FILE`, and is never printed.
pub fn is_secret(key: &str) -> bool {
    super::SECTIONS.iter().any(|(prefix, fields)| {
        key.strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('.'))
            .is_some_and(|name| fields.iter().any(|f| f.secret && f.name == name))
    })
}

/// Variables read by the loader itself rather than mapped to a key.
const RESERVED: &[&str] = &["STOCKPILOT_ENV", "STOCKPILOT_CONFIG"];

const PREFIX: &str = "STOCKPILOT_";

/// One variable that sets one configuration key.
#[derive(Debug, Clone)]
pub struct EnvSetting {
    origin: &'static str,
    name: String,
    key: String,
    value: String,
}

impl Provider for EnvSetting {
    fn metadata(&self) -> Metadata {
        Metadata::named(format!("{} {}", self.origin, self.name))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        // Text stays text here; the loader re-reads it as a number or boolean where the key
        // needs one, so a password such as "1234" is never turned into a number.
        let dict = figment::util::nest(&self.key, Value::from(self.value.clone()))
            .into_dict()
            .unwrap_or_default();
        Ok(Profile::Global.collect(dict))
    }
}

/// A variable that could not be used, reported like any other configuration problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceProblem {
    pub key: String,
    pub message: String,
    pub source: String,
}

/// The configuration key a variable name sets, if any.
fn key_of(name: &str) -> Option<String> {
    if RESERVED.contains(&name) {
        return None;
    }
    if let Some((_, key)) = conventional().into_iter().find(|(n, _)| *n == name) {
        return Some(key);
    }
    let rest = name.strip_prefix(PREFIX)?;
    if rest.is_empty() {
        return None;
    }
    Some(rest.to_lowercase().replace("__", "."))
}

/// Turns variables into providers: plain ones first, then `STOCKPILOT_*` (more specific wins),
/// then `*_FILE` variants of secret keys, whose file content becomes the value.
pub fn env_settings(
    vars: &[(String, String)],
    origin: &'static str,
) -> (Vec<EnvSetting>, Vec<SourceProblem>) {
    let mut plain = Vec::new();
    let mut prefixed = Vec::new();
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for (name, value) in vars {
        if let Some(base) = name.strip_suffix("_FILE")
            && let Some(key) = key_of(base).filter(|k| is_secret(k))
        {
            if vars.iter().any(|(n, _)| n == base) {
                problems.push(SourceProblem {
                    key: key.clone(),
                    message: format!("both {base} and {name} are set; set only one"),
                    source: format!("{origin} {name}"),
                });
                continue;
            }
            match std::fs::read_to_string(value) {
                Ok(text) => files.push(EnvSetting {
                    origin,
                    name: name.clone(),
                    key,
                    value: text.trim_end_matches(['\n', '\r']).to_owned(),
                }),
                Err(e) => problems.push(SourceProblem {
                    key,
                    message: format!("cannot read the secret file {value}: {e}"),
                    source: format!("{origin} {name}"),
                }),
            }
            continue;
        }
        let Some(key) = key_of(name) else { continue };
        if key.split('.').any(str::is_empty) {
            // `STOCKPILOT_SERVER__` would otherwise replace the whole `server` section.
            problems.push(SourceProblem {
                key: "-".into(),
                message: format!(
                    "{name} names no setting: a part of the name is empty (a doubled or trailing __)"
                ),
                source: format!("{origin} {name}"),
            });
            continue;
        }
        let setting = EnvSetting {
            origin,
            name: name.clone(),
            key,
            value: value.clone(),
        };
        if name.starts_with(PREFIX) {
            prefixed.push(setting)
        } else {
            plain.push(setting)
        }
    }
    // Conventional names apply in table order, so which one wins never depends on the order
    // of the environment.
    let order = conventional();
    plain.sort_by_key(|s| order.iter().position(|(n, _)| *n == s.name));
    plain.extend(prefixed);
    plain.extend(files);
    (plain, problems)
}

/// Reads `.env` in the working directory (if present) without touching the process
/// environment.
pub fn dotenv_vars(path: &Path) -> Result<Vec<(String, String)>, SourceProblem> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let problem = |e: dotenvy::Error| SourceProblem {
        key: "-".into(),
        message: format!("cannot parse {}: {e}", path.display()),
        source: ".env file".into(),
    };
    dotenvy::from_path_iter(path)
        .map_err(problem)?
        .map(|r| r.map_err(problem))
        .collect()
}

/// Everything the loader needs to know about the sources it was given.
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    /// `--config`; when unset, `STOCKPILOT_CONFIG` or `./stockpilot.toml` if it exists.
    pub config_file: Option<PathBuf>,
    /// The `.env` file to read (`./.env` by default).
    pub dotenv: Option<PathBuf>,
}

/// Builds the layered figment and reports variables that could not be used.
pub fn build(
    opts: &SourceOptions,
    process_env: &[(String, String)],
) -> (Figment, Profile, Vec<SourceProblem>) {
    let mut problems = Vec::new();
    let dotenv_path = opts.dotenv.clone().unwrap_or_else(|| PathBuf::from(".env"));
    let dot = dotenv_vars(&dotenv_path).unwrap_or_else(|p| {
        problems.push(p);
        Vec::new()
    });
    let lookup = |name: &str| {
        process_env
            .iter()
            .chain(dot.iter())
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let profile = Profile::from(
        lookup("STOCKPILOT_ENV")
            .unwrap_or_else(|| "default".into())
            .as_str(),
    );

    let mut fig = Figment::new();
    let explicit = opts
        .config_file
        .clone()
        .or_else(|| lookup("STOCKPILOT_CONFIG").map(PathBuf::from));
    let file = match explicit {
        Some(path) if !path.exists() => {
            problems.push(SourceProblem {
                key: "-".into(),
                message: format!("configuration file {} does not exist", path.display()),
                source: "--config / STOCKPILOT_CONFIG".into(),
            });
            None
        }
        Some(path) => Some(path),
        None if Path::new("stockpilot.toml").exists() => Some(PathBuf::from("stockpilot.toml")),
        None => None,
    };
    if let Some(path) = file {
        let toml = Toml::file_exact(&path).nested();
        // A file that does not parse must not count as an empty one.
        match toml.data() {
            Ok(_) => fig = fig.merge(toml),
            Err(e) => problems.push(SourceProblem {
                key: "-".into(),
                message: format!("{} is not valid TOML: {}", path.display(), e.kind),
                source: "--config / STOCKPILOT_CONFIG / ./stockpilot.toml".into(),
            }),
        }
    }
    for (vars, origin) in [
        (&dot, ".env file"),
        (&process_env.to_vec(), "environment variable"),
    ] {
        let (settings, mut p) = env_settings(vars, origin);
        problems.append(&mut p);
        for s in settings {
            fig = fig.merge(s);
        }
    }
    (fig.select(profile.clone()), profile, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn maps_prefixed_and_conventional_names_to_keys() {
        assert_eq!(
            key_of("STOCKPILOT_SERVER__PORT").as_deref(),
            Some("server.port")
        );
        assert_eq!(key_of("DATABASE_URL").as_deref(), Some("database.url"));
        assert_eq!(key_of("STOCKPILOT_ENV"), None);
        assert_eq!(key_of("HOME"), None);
    }

    #[test]
    fn reads_secret_files_and_rejects_two_sources_for_one_secret() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("db");
        std::fs::write(&file, "postgres://a:b@h/db\n").unwrap();
        let f = file.display().to_string();
        let (settings, problems) =
            env_settings(&vars(&[("DATABASE_URL_FILE", &f)]), "environment variable");
        assert!(problems.is_empty());
        assert_eq!(settings[0].key, "database.url");
        assert_eq!(settings[0].value, "postgres://a:b@h/db");

        let (_, problems) = env_settings(
            &vars(&[("DATABASE_URL", "x"), ("DATABASE_URL_FILE", &f)]),
            "environment variable",
        );
        assert_eq!(
            problems[0].message,
            "both DATABASE_URL and DATABASE_URL_FILE are set; set only one"
        );

        let (_, problems) = env_settings(
            &vars(&[("REDIS_URL_FILE", "/nope/missing")]),
            "environment variable",
        );
        assert!(
            problems[0]
                .message
                .starts_with("cannot read the secret file /nope/missing")
        );
    }
}
