//! `GET /api/v1/admin/audit-log?key_id=&action=&outcome=&since=&until=&page=&page_size=`
//! (newest first). `since`/`until` take RFC 3339 times or `YYYY-MM-DD` (midnight UTC).

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use stockpilot_application::KeyId;
use stockpilot_application::auth::{AuditEntry, AuditFilter, AuditOutcome};

use crate::AppState;
use crate::error::ApiError;
use crate::openapi::{InvalidParams, ProtectedErrors};
use crate::params::{self, PageQuery, Paged, page_schema};

page_schema!(AuditPage of AuditEntry, "One page of the audit log, newest first.");

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Query {
    /// Only this key's entries (its id, a UUID).
    key_id: Option<String>,
    /// Only this action (`research.run.create`, `api_key.revoke`, …).
    action: Option<String>,
    /// Only entries with this outcome.
    #[param(value_type = AuditOutcome, required = false)]
    outcome: Option<String>,
    /// From this time on: RFC 3339, or `YYYY-MM-DD` (midnight UTC).
    since: Option<String>,
    /// Before this time: RFC 3339, or `YYYY-MM-DD`.
    until: Option<String>,
}

fn time(field: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(text) = value.filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    match params::date(field, Some(text)) {
        Ok(Some(d)) => Ok(d.and_hms_opt(0, 0, 0).map(|t| t.and_utc())),
        _ => Err(params::invalid(
            field,
            format!(
                "'{text}' is not a time; expected RFC 3339 (2026-11-22T08:00:00Z) or YYYY-MM-DD"
            ),
        )),
    }
}

fn nonempty(v: &Option<String>) -> Option<String> {
    v.as_deref().filter(|s| !s.is_empty()).map(str::to_owned)
}

/// Read the audit log.
///
/// State-changing requests (allowed or refused) and key changes made with the CLI, newest
/// first. Entries are never changed or deleted.
#[utoipa::path(
    get,
    path = "/api/v1/admin/audit-log",
    tag = "admin",
    operation_id = "list_audit_log",
    params(Query, PageQuery<500>),
    responses(
        (status = 200, description = "One page of entries.", body = AuditPage),
        InvalidParams,
        ProtectedErrors,
    ),
)]
pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<Query>,
    page: web::Query<PageQuery<500>>,
) -> Result<HttpResponse, ApiError> {
    let outcome = params::code("outcome", query.outcome.as_deref())?;
    let filter = AuditFilter {
        key_id: nonempty(&query.key_id)
            .map(|text| {
                text.parse::<KeyId>().map_err(|_| {
                    params::invalid("key_id", format!("'{text}' is not an API key id (a UUID)"))
                })
            })
            .transpose()?,
        action: nonempty(&query.action),
        outcome,
        since: time("since", query.since.as_deref())?,
        until: time("until", query.until.as_deref())?,
    };
    if let (Some(s), Some(u)) = (filter.since, filter.until)
        && s > u
    {
        return Err(params::invalid("until", "must not be before since"));
    }
    let paging = page.paging()?;
    let page = state
        .auth
        .audit_log(&filter, paging.offset(), paging.page_size)
        .await?;
    Ok(HttpResponse::Ok().json(Paged::new(page.items, paging, page.total)))
}
