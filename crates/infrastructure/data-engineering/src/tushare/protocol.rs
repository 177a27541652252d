//! Tushare's wire protocol: the request body, the `{code, msg, data}` envelope, the
//! classification of business errors by message, and positional row decoding.

use std::collections::HashMap;
use std::time::Duration;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use stockpilot_application::ports::SourceError;

use super::PROVIDER;
use crate::http::{Failure, excerpt};
use crate::num::{date_from_json, decimal_from_json, text_from_json};

/// The JSON body of every call.
#[derive(Serialize)]
pub(crate) struct RequestBody<'a> {
    pub(crate) api_name: &'a str,
    pub(crate) token: &'a str,
    pub(crate) params: &'a Map<String, Value>,
    pub(crate) fields: &'a str,
}

#[derive(Deserialize)]
struct Envelope {
    code: Option<Value>,
    msg: Option<Value>,
    data: Option<Value>,
}

#[derive(Deserialize)]
struct Data {
    fields: Vec<String>,
    items: Vec<Vec<Value>>,
    has_more: Option<bool>,
}

/// One page of one API's answer, rows still positional.
#[derive(Debug)]
pub(crate) struct Page {
    columns: HashMap<String, usize>,
    fields: Vec<String>,
    items: Vec<Vec<Value>>,
    /// What the provider said about further pages, if it said anything.
    pub(crate) has_more: Option<bool>,
}

fn malformed(message: String) -> Failure {
    SourceError::Malformed {
        provider: PROVIDER,
        message,
    }
    .into()
}

/// Decodes an HTTP 200 body: a page when `code` is 0, the classified error otherwise.
pub(crate) fn decode(body: &str, api: &str, rate_limit_wait: Duration) -> Result<Page, Failure> {
    let envelope: Envelope = serde_json::from_str(body).map_err(|e| {
        malformed(format!(
            "{api}: body is not the documented JSON envelope ({e}): {}",
            excerpt(body)
        ))
    })?;
    let code = match &envelope.code {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| malformed(format!("{api}: envelope has no integer 'code'")))?;
    let msg = match &envelope.msg {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    if code != 0 {
        return Err(classify(code, &msg, api, rate_limit_wait));
    }
    let data = envelope
        .data
        .filter(|d| !d.is_null())
        .ok_or_else(|| malformed(format!("{api}: code 0 but 'data' is missing")))?;
    let data: Data = serde_json::from_value(data)
        .map_err(|e| malformed(format!("{api}: 'data' is not {{fields, items}}: {e}")))?;
    let columns = data
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| (f.clone(), i))
        .collect();
    if let Some((i, row)) = data
        .items
        .iter()
        .enumerate()
        .find(|(_, row)| row.len() != data.fields.len())
    {
        return Err(malformed(format!(
            "{api}: row {} has {} cells for {} fields",
            i + 1,
            row.len(),
            data.fields.len()
        )));
    }
    Ok(Page {
        columns,
        fields: data.fields,
        items: data.items,
        has_more: data.has_more,
    })
}

/// Classifies a non-zero `code`. Codes are reused across conditions, so the message decides:
///
/// | message contains | kind |
/// |---|---|
/// | code 40101, `token不对`, `token无效` | `Auth` (check `TUSHARE_TOKEN`) |
/// | `每天`, `每日` (per day) | `QuotaExhausted` |
/// | `每分钟`, `每小时` (per minute / hour) | `RateLimited`, retried after `rate_limit_wait` |
/// | `权限`, `积分` (permission, points) | `Permission` |
/// | `系统`, `繁忙`, `稍后`, `超时`, `服务器`, `内部错误`, busy, timeout, internal; or code ≥ 50000 | `Transient` |
/// | anything else (e.g. a parameter error) | `Malformed`: repeating the call cannot help |
///
/// Rate-limit words are checked before permission words because the per-minute message also
/// mentions 权限 (it links to the points table).
pub(crate) fn classify(code: i64, msg: &str, api: &str, rate_limit_wait: Duration) -> Failure {
    let has = |words: &[&str]| {
        let lower = msg.to_lowercase();
        words.iter().any(|w| lower.contains(w))
    };
    let detail = format!("{api}: code {code}: {}", excerpt(msg));
    if code == 40101 || has(&["token不对", "token无效"]) {
        return SourceError::Auth {
            provider: PROVIDER,
            message: format!("{detail}; check TUSHARE_TOKEN"),
        }
        .into();
    }
    if has(&["每天", "每日"]) {
        return SourceError::QuotaExhausted {
            provider: PROVIDER,
            message: detail,
        }
        .into();
    }
    if has(&["每分钟", "每小时"]) {
        return Failure {
            error: SourceError::RateLimited {
                provider: PROVIDER,
                retry_after: rate_limit_wait,
                message: detail,
            },
            wait: Some(rate_limit_wait),
        };
    }
    if has(&["权限", "积分"]) {
        return SourceError::Permission {
            provider: PROVIDER,
            message: detail,
        }
        .into();
    }
    let server_side = [
        "系统",
        "繁忙",
        "稍后",
        "超时",
        "服务器",
        "内部错误",
        "busy",
        "timeout",
        "internal",
    ];
    if code >= 50000 || has(&server_side) {
        return SourceError::Transient {
            provider: PROVIDER,
            message: detail,
        }
        .into();
    }
    SourceError::Malformed {
        provider: PROVIDER,
        message: detail,
    }
    .into()
}

impl Page {
    /// Number of rows on this page.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// The rows, each able to look its cells up by field name.
    pub(crate) fn rows<'a>(&'a self, api: &'a str) -> impl Iterator<Item = Row<'a>> {
        self.items.iter().enumerate().map(move |(i, cells)| Row {
            page: self,
            cells,
            api,
            number: i + 1,
        })
    }
}

/// One positional row; getters fail with "`api` row N, column 'x': what is wrong".
pub(crate) struct Row<'a> {
    page: &'a Page,
    cells: &'a [Value],
    api: &'a str,
    number: usize,
}

impl Row<'_> {
    fn cell(&self, name: &str) -> Option<&Value> {
        self.page.columns.get(name).and_then(|&i| self.cells.get(i))
    }

    fn problem(&self, name: &str, what: &str) -> String {
        format!("{} row {}, column '{name}': {what}", self.api, self.number)
    }

    fn present<T>(
        &self,
        name: &str,
        decode: fn(&Value) -> Result<Option<T>, String>,
    ) -> Result<Option<T>, String> {
        self.cell(name)
            .map_or(Ok(None), decode)
            .map_err(|e| self.problem(name, &e))
    }

    fn required<T>(
        &self,
        name: &str,
        decode: fn(&Value) -> Result<Option<T>, String>,
    ) -> Result<T, String> {
        if self.cell(name).is_none() {
            return Err(self.problem(name, "column missing"));
        }
        self.present(name, decode)?
            .ok_or_else(|| self.problem(name, "required value is null"))
    }

    /// A number, `None` when the column is absent or the cell null/blank.
    pub(crate) fn decimal(&self, name: &str) -> Result<Option<Decimal>, String> {
        self.present(name, decimal_from_json)
    }

    /// A number that must be there.
    pub(crate) fn required_decimal(&self, name: &str) -> Result<Decimal, String> {
        self.required(name, decimal_from_json)
    }

    /// A `YYYYMMDD` date, `None` when absent or null.
    pub(crate) fn date(&self, name: &str) -> Result<Option<NaiveDate>, String> {
        self.present(name, date_from_json)
    }

    /// A `YYYYMMDD` date that must be there.
    pub(crate) fn required_date(&self, name: &str) -> Result<NaiveDate, String> {
        self.required(name, date_from_json)
    }

    /// Text, `None` when absent, null or blank.
    pub(crate) fn text(&self, name: &str) -> Result<Option<String>, String> {
        self.present(name, text_from_json)
    }

    /// Text that must be there.
    pub(crate) fn required_text(&self, name: &str) -> Result<String, String> {
        self.required(name, text_from_json)
    }

    /// A problem with this row as a whole.
    pub(crate) fn invalid(&self, what: impl std::fmt::Display) -> String {
        format!("{} row {}: {what}", self.api, self.number)
    }

    /// The whole row as a JSON object keyed by field name.
    pub(crate) fn to_json(&self) -> String {
        let object: Map<String, Value> = self
            .page
            .fields
            .iter()
            .cloned()
            .zip(self.cells.iter().cloned())
            .collect();
        Value::Object(object).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAIT: Duration = Duration::from_secs(60);

    fn kind(code: i64, msg: &str) -> &'static str {
        classify(code, msg, "daily", WAIT).error.kind()
    }

    #[test]
    fn classifies_the_documented_messages() {
        assert_eq!(kind(40101, "您的token不对，请确认。"), "auth");
        assert_eq!(
            kind(
                40203,
                "抱歉，您每分钟最多访问该接口500次，权限的具体详情访问：https://tushare.pro/document/1?doc_id=108。"
            ),
            "rate_limited"
        );
        assert_eq!(
            kind(40203, "抱歉，您每小时最多访问该接口10次"),
            "rate_limited"
        );
        assert_eq!(
            kind(40203, "抱歉，您每天最多访问该接口20000次"),
            "quota_exhausted"
        );
        assert_eq!(kind(40203, "抱歉，您没有接口访问权限"), "permission");
        assert_eq!(kind(40203, "抱歉，您没有访问该接口的权限"), "permission");
        assert_eq!(kind(-2001, "系统内部错误"), "transient");
        assert_eq!(kind(-2001, "参数错误"), "malformed");
    }

    #[test]
    fn a_per_minute_limit_asks_for_the_configured_wait() {
        let failure = classify(40203, "抱歉，您每分钟最多访问该接口500次", "daily", WAIT);
        assert_eq!(failure.wait, Some(WAIT));
    }

    #[test]
    fn decodes_rows_by_field_name_not_position() {
        let body = r#"{"code":0,"msg":"","data":{"fields":["b","a"],"items":[["2","20240102"]]}}"#;
        let page = decode(body, "x", WAIT).unwrap();
        let row = page.rows("x").next().unwrap();
        assert_eq!(row.required_decimal("b").unwrap(), Decimal::from(2));
        assert_eq!(
            row.required_date("a").unwrap(),
            NaiveDate::from_ymd_opt(2024, 1, 2).unwrap()
        );
        assert_eq!(row.decimal("missing").unwrap(), None);
        assert_eq!(
            row.required_decimal("missing").unwrap_err(),
            "x row 1, column 'missing': column missing"
        );
        assert_eq!(page.has_more, None);
    }

    #[test]
    fn a_short_row_is_malformed() {
        let body = r#"{"code":0,"msg":"","data":{"fields":["a","b"],"items":[["1"]]}}"#;
        let error = decode(body, "x", WAIT).unwrap_err().error;
        assert_eq!(error.kind(), "malformed");
        assert!(error.to_string().contains("row 1 has 1 cells for 2 fields"));
    }
}
