//! Bocha's web-search wire format: the answer envelope (whose `code` is a number on success
//! and a string on errors) and how its statuses map onto `SearchError`.

use serde::Deserialize;
use serde_json::Value;
use stockpilot_application::ports::{SearchError, SearchResult};

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    code: Option<Value>,
    #[serde(default)]
    msg: Option<Value>,
    #[serde(default)]
    message: Option<Value>,
    #[serde(default)]
    data: Option<Data>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(default, rename = "webPages")]
    web_pages: Option<WebPages>,
}

#[derive(Deserialize)]
struct WebPages {
    #[serde(default)]
    value: Option<Vec<Page>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    snippet: Option<String>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    site_name: Option<String>,
    #[serde(default)]
    date_last_crawled: Option<String>,
    #[serde(default)]
    date_published: Option<String>,
}

impl Envelope {
    fn code(&self) -> Option<u16> {
        match self.code.as_ref()? {
            Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    fn message(&self) -> String {
        [&self.message, &self.msg]
            .into_iter()
            .flatten()
            .find_map(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

/// Results from a response with HTTP `status` and `body`. Error messages are not yet scrubbed.
pub(crate) fn read(status: u16, body: &[u8]) -> Result<Vec<SearchResult>, SearchError> {
    let envelope = serde_json::from_slice::<Envelope>(body);
    if !(200..300).contains(&status) {
        let message = match &envelope {
            Ok(e) => e.message(),
            Err(_) => String::from_utf8_lossy(body).trim().to_owned(),
        };
        return Err(classify(status, message));
    }
    let envelope = envelope.map_err(|e| {
        SearchError::Unavailable(format!(
            "malformed response from Bocha (HTTP {status}): {e}"
        ))
    })?;
    match envelope.code() {
        None | Some(200) => {}
        Some(code) => return Err(classify(code, envelope.message())),
    }
    let pages = envelope
        .data
        .and_then(|d| d.web_pages)
        .and_then(|w| w.value)
        .unwrap_or_default();
    Ok(pages.into_iter().filter_map(result).collect())
}

/// A page without a URL is no citation; it is dropped.
fn result(page: Page) -> Option<SearchResult> {
    let url = page.url.filter(|u| !u.trim().is_empty())?;
    Some(SearchResult {
        title: page.name.unwrap_or_default(),
        url,
        snippet: page.snippet.unwrap_or_default(),
        summary: page.summary.filter(|s| !s.is_empty()),
        site_name: page.site_name.filter(|s| !s.is_empty()),
        published_at: page
            .date_published
            .filter(|d| !d.is_empty())
            .or(page.date_last_crawled.filter(|d| !d.is_empty())),
    })
}

pub(crate) fn classify(code: u16, message: String) -> SearchError {
    match code {
        401 => SearchError::BadKey,
        403 => SearchError::OutOfBalance,
        429 => SearchError::RateLimited,
        400 => SearchError::BadRequest(if message.is_empty() {
            "rejected by Bocha".into()
        } else {
            message
        }),
        500..=599 => SearchError::Unavailable(format!("Bocha answered {code}: {message}")),
        _ => SearchError::Unavailable(format!("unexpected Bocha status {code}: {message}")),
    }
}
