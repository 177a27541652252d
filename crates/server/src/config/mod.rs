//! The whole configuration of a stockpilot process, validated at start: every problem is
//! reported at once, each naming the key, what is wrong and the source that set it.
//!
//! Each setting is declared once, in `sections/` (`settings!`: type, default, range, doc);
//! the sections are listed once (`config_sections!`). Reading, checking, the unknown-key
//! check, `config show`, the settings table of docs/configuration.md and `.env.example`
//! (`reference`) all follow from those declarations.

mod checks;
mod loader;
pub mod reference;
pub mod sections;
mod sources;

use std::path::PathBuf;
use std::time::Duration;

pub use loader::{Entry, Problem, redact_url};
pub use sections::{
    CommaList, Config, LogFormat, SECTIONS, ScheduledJobConfig, Secret, known_keys,
};
pub use sources::SourceOptions;

use loader::Loader;
use secrecy::ExposeSecret;

/// Everything wrong with a configuration.
#[derive(Debug, Clone)]
pub struct ConfigErrors(pub Vec<Problem>);

impl std::fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "invalid configuration ({} problem(s)):", self.0.len())?;
        for p in &self.0 {
            writeln!(f, "  - {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl Config {
    /// Loads from the process environment and the files named in `opts`.
    ///
    /// # Errors
    /// [`ConfigErrors`] listing every problem found.
    pub fn load(opts: &SourceOptions) -> Result<Self, ConfigErrors> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::load_from(opts, &env)
    }

    /// Loads from an explicit set of environment variables (tests use this).
    ///
    /// # Errors
    /// [`ConfigErrors`] listing every problem found.
    pub fn load_from(opts: &SourceOptions, env: &[(String, String)]) -> Result<Self, ConfigErrors> {
        let (fig, profile, source_problems) = sources::build(opts, env);
        let mut l = Loader::new(fig);
        l.problems
            .extend(source_problems.into_iter().map(Problem::from));
        let config = Self::read(profile.to_string(), &mut l);
        let derived = "default (derived from data.dir)";
        if config.database.url.is_none() {
            let shown = format!("\"{}\"", config.database_url().expose_secret());
            l.show_derived("database.url", shown, derived);
        }
        if config.auth.bootstrap_key_file.is_none() {
            let shown = format!("\"{}\"", config.bootstrap_key_file().display());
            l.show_derived("auth.bootstrap_key_file", shown, derived);
        }
        config.check(&mut l);
        l.report_unknown(&known_keys());
        if l.problems.is_empty() {
            Ok(Self {
                entries: l.entries,
                ..config
            })
        } else {
            Err(ConfigErrors(l.problems))
        }
    }

    /// `database.url`, or the SQLite file under `data.dir`.
    pub fn database_url(&self) -> Secret {
        self.database.url.clone().unwrap_or_else(|| {
            let file = self.data.dir.join("stockpilot.db");
            Secret::new(format!("sqlite://{}?mode=rwc", file.display()))
        })
    }

    /// `auth.bootstrap_key_file`, or `admin-api-key` under `data.dir`.
    pub fn bootstrap_key_file(&self) -> PathBuf {
        self.auth
            .bootstrap_key_file
            .clone()
            .unwrap_or_else(|| self.data.dir.join("admin-api-key"))
    }

    /// The effective configuration as TOML, secrets redacted, each line noting its source.
    pub fn render(&self) -> String {
        let mut out = format!("# profile: {}\n", self.profile);
        // Each section once, in the order sections are first read, keys in reading order.
        let mut sections: Vec<&str> = Vec::new();
        for e in &self.entries {
            let section = e.key.split_once('.').map_or("", |(s, _)| s);
            if !sections.contains(&section) {
                sections.push(section);
            }
        }
        let mut entries: Vec<&Entry> = self.entries.iter().collect();
        entries.sort_by_key(|e| {
            let section = e.key.split_once('.').map_or("", |(s, _)| s);
            sections.iter().position(|s| *s == section)
        });
        let mut section = None;
        for e in entries {
            let (sec, name) = e.key.split_once('.').unwrap_or(("", e.key.as_str()));
            if section != Some(sec) {
                out.push_str(&format!("\n[{sec}]\n"));
                section = Some(sec);
            }
            let line = if e.shown == "(unset)" {
                format!("# {name} is unset")
            } else {
                format!("{name} = {}", e.shown)
            };
            out.push_str(&format!("{line:<56} # {}\n", e.source));
        }
        out
    }
}

/// `n` seconds (settings hold whole seconds as the key names say).
pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[cfg(test)]
mod tests;
