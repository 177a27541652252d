//! Value types settings are declared with: secrets (the application's `Secret`),
//! comma-separated lists, the log format, scheduled jobs.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
pub use stockpilot_application::settings::Secret;

/// A list given as comma-separated text (`a.example.com, b.example.com`), trimmed, without
/// empty items.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommaList(pub Vec<String>);

impl CommaList {
    pub fn iter(&self) -> impl Iterator<Item = &String> {
        self.0.iter()
    }
}

impl Serialize for CommaList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.join(","))
    }
}

impl<'de> Deserialize<'de> for CommaList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Ok(Self(
            text.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
        ))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Pretty,
}

/// One periodic job from `[[<profile>.scheduler.jobs]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledJobConfig {
    pub name: String,
    /// Five-field cron expression in UTC (`minute hour day month weekday`).
    pub cron: String,
    pub kind: String,
    pub market: Option<String>,
    #[serde(default)]
    pub symbols: Vec<String>,
    pub provider: Option<String>,
}
