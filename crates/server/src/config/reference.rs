//! The settings reference, written from the declarations: the table of
//! docs/configuration.md (between its `settings:begin` / `settings:end` markers) and the
//! whole of `.env.example`. A test fails when the committed files differ from what this
//! writes; `make config-reference` rewrites them.

use stockpilot_application::settings::Setting;

use super::sections::{ABOUT, SECTIONS, defaults};

pub const TABLE_BEGIN: &str = "<!-- settings:begin (written by `make config-reference`) -->";
pub const TABLE_END: &str = "<!-- settings:end -->";

const ENV_HEADER: &str = "\
# stockpilot — every setting a deployment may set, with its default.
# Written from the settings' declarations by `make config-reference`; edit those, not this file.
# Copy to .env (read from the working directory; the process environment wins over it).
# Any setting is STOCKPILOT_<SECTION>__<KEY>; a few also have a conventional name.
# Secrets may instead be read from a file: NAME_FILE=/run/secrets/…
# Values are validated at start; `stockpilot config check` lists every problem at once.

# Profile of stockpilot.toml to use: [default] plus [development] or [production] on top.
# STOCKPILOT_ENV=production
# Configuration file (default: ./stockpilot.toml when present; also --config FILE).
# STOCKPILOT_CONFIG=/etc/stockpilot/stockpilot.toml
";

/// A declared setting with its section and default.
struct Row<'a> {
    key: String,
    setting: &'a Setting,
    default: Option<&'a serde_json::Value>,
}

fn rows<'a>(
    defaults: &'a [(&'static str, serde_json::Value)],
) -> Vec<(&'static str, Vec<Row<'a>>)> {
    SECTIONS
        .iter()
        .map(|(prefix, fields)| {
            let section = defaults.iter().find(|(p, _)| p == prefix).map(|(_, d)| d);
            let rows = fields
                .iter()
                .map(|setting| Row {
                    key: format!("{prefix}.{}", setting.name),
                    setting,
                    default: section.and_then(|d| d.get(setting.name)),
                })
                .collect();
            (*prefix, rows)
        })
        .collect()
}

/// A doc comment as one line.
fn one_line(doc: &str) -> String {
    doc.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The doc, and the allowed range when one is declared.
fn meaning(setting: &Setting) -> String {
    let doc = one_line(setting.doc);
    match setting.range_text() {
        Some(range) => format!("{doc} Allowed: {range}."),
        None => doc,
    }
}

/// A default as a value to write (`None`: unset or nothing to write).
fn plain(value: Option<&serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn env_name(key: &str) -> String {
    format!("STOCKPILOT_{}", key.to_uppercase().replace('.', "__"))
}

/// The settings table of docs/configuration.md, markers included.
pub fn settings_table() -> String {
    let defaults = defaults();
    let mut out = format!(
        "{TABLE_BEGIN}\n| key | conventional name | default | meaning |\n|---|---|---|---|\n"
    );
    for (_, rows) in rows(&defaults) {
        for row in rows {
            let s = row.setting;
            let secret = if s.secret { " (secret)" } else { "" };
            let names: Vec<String> = s.env.iter().map(|n| format!("`{n}`")).collect();
            let default = if !s.default_shown.is_empty() {
                s.default_shown.to_owned()
            } else {
                match plain(row.default) {
                    None => "unset".to_owned(),
                    Some(v) if v.is_empty() => "empty".to_owned(),
                    Some(v) => format!("`{v}`"),
                }
            };
            out.push_str(&format!(
                "| `{}`{secret} | {} | {default} | {} |\n",
                row.key,
                names.join(", "),
                meaning(s).replace('|', "\\|")
            ));
        }
    }
    out.push_str(TABLE_END);
    out
}

/// Comment lines of at most about 95 columns.
fn wrapped(text: &str) -> String {
    let mut out = String::new();
    let mut line = String::from("#");
    for word in text.split_whitespace() {
        if line.len() + 1 + word.len() > 95 && line.len() > 1 {
            out.push_str(&line);
            out.push('\n');
            line = String::from("#");
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// The whole of `.env.example`.
pub fn env_example() -> String {
    let defaults = defaults();
    let mut out = ENV_HEADER.to_owned();
    for (prefix, rows) in rows(&defaults) {
        let about = ABOUT
            .iter()
            .find(|(p, _)| *p == prefix)
            .map_or(String::new(), |(_, a)| one_line(a).replace('`', ""));
        let heading = format!("# --- {about} ");
        out.push_str(&format!("\n{heading:-<95}\n"));
        for row in rows {
            let s = row.setting;
            out.push_str(&wrapped(&meaning(s)));
            let name = s
                .env
                .first()
                .map_or_else(|| env_name(&row.key), |n| (*n).to_owned());
            // A default described in words (it depends on the machine, or on another
            // setting) is not written as a value.
            let value = if !s.example.is_empty() {
                s.example.to_owned()
            } else if s.default_shown.is_empty() {
                plain(row.default).unwrap_or_default()
            } else {
                String::new()
            };
            if matches!(row.default, Some(serde_json::Value::Array(_))) {
                out.push_str(&format!(
                    "# {name} is set in stockpilot.toml (see docs/configuration.md).\n"
                ));
                continue;
            }
            out.push_str(&format!("# {name}={value}\n"));
            if s.secret {
                out.push_str(&format!(
                    "# {name}_FILE=/run/secrets/{}\n",
                    name.to_lowercase()
                ));
            }
        }
    }
    out
}

/// `guide` with its settings table replaced by [`settings_table`]; `None` when it has no
/// markers.
pub fn with_table(guide: &str) -> Option<String> {
    let start = guide.find(TABLE_BEGIN)?;
    let end = guide[start..].find(TABLE_END)? + start + TABLE_END.len();
    Some(format!(
        "{}{}{}",
        &guide[..start],
        settings_table(),
        &guide[end..]
    ))
}
