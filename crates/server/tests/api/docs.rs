//! The documentation states what the code does: texts built from the code's constants appear
//! verbatim, documented shapes equal served ones, and every relative link resolves.

use std::path::{Path, PathBuf};

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap()
}

/// The structure of a JSON value: objects as their keys (recursively), arrays as the shape of
/// their first element, scalars as their kind; `null` and any scalar count as one kind, since
/// documented examples show one case of fields that are sometimes absent.
pub fn shape(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), shape(v))).collect())
        }
        Value::Array(items) => Value::Array(items.first().map(shape).into_iter().collect()),
        _ => Value::String("scalar".into()),
    }
}

/// The first ```json block after `marker` in `doc`.
pub fn documented_example(doc: &str, marker: &str) -> Value {
    let text = read(doc);
    let after = &text[text
        .find(marker)
        .unwrap_or_else(|| panic!("{doc}: no {marker}"))..];
    let start = after.find("```json\n").unwrap() + "```json\n".len();
    let end = start + after[start..].find("```").unwrap();
    serde_json::from_str(&after[start..end]).unwrap()
}

#[test]
fn the_technical_analyst_row_is_the_catalogue_sentence() {
    let sentence = stockpilot_domain::analysis::technical_description();
    let doc = read("docs/research.md");
    let row = doc
        .lines()
        .find(|l| l.starts_with("| `technical` |"))
        .unwrap();
    assert_eq!(row, format!("| `technical` | quantitative | {sentence} |"));
}

#[test]
fn the_demo_calendar_provider_is_the_one_stored() {
    let doc = read("docs/data.md");
    let stated = format!(
        "stored as provider\n`{}`",
        stockpilot_server::demo::SSE_CALENDAR_PROVIDER
    );
    let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat(&doc).contains(&flat(&stated)),
        "docs/data.md: {stated}"
    );
}

#[test]
fn every_relative_link_of_the_docs_resolves() {
    let mut docs = vec![repo().join("README.md"), repo().join("deploy/README.md")];
    for entry in std::fs::read_dir(repo().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            docs.push(path);
        }
    }
    let mut broken = Vec::new();
    for doc in &docs {
        let text = std::fs::read_to_string(doc).unwrap();
        for (i, _) in text.match_indices("](") {
            let rest = &text[i + 2..];
            let Some(end) = rest.find(')') else { continue };
            let target = rest[..end].split('#').next().unwrap_or_default();
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            if !doc.parent().unwrap().join(target).exists() {
                broken.push(format!("{}: {target}", doc.display()));
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}
