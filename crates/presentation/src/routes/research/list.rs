//! `GET /api/v1/research/runs?status=&symbol=&since=&until=&page=&page_size=` (newest first)

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use stockpilot_application::research::model::{Run, RunFilter, RunStatus};
use stockpilot_domain::market::Symbol;
use utoipa::IntoParams;

use crate::AppState;
use crate::error::ApiError;
use crate::openapi::{InvalidParams, ProtectedErrors};
use crate::params::{self, PageQuery, Paged, page_schema};

page_schema!(RunPage of Run, "One page of research runs, newest first.");

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Query {
    /// Only runs with this status.
    #[param(value_type = RunStatus, required = false)]
    status: Option<String>,
    /// Only runs analysing this symbol.
    #[param(value_type = Symbol, required = false)]
    symbol: Option<String>,
    /// Only runs created on or after this day (UTC, `YYYY-MM-DD`).
    #[param(value_type = String, format = Date, required = false)]
    since: Option<String>,
    /// Only runs created on or before this day (UTC, `YYYY-MM-DD`); not before `since`.
    #[param(value_type = String, format = Date, required = false)]
    until: Option<String>,
}

/// List research runs.
///
/// Research runs, newest first, filtered by status, symbol and creation day.
#[utoipa::path(
    get,
    path = "/api/v1/research/runs",
    tag = "research",
    operation_id = "list_research_runs",
    params(Query, PageQuery<200>),
    responses(
        (status = 200, description = "One page of runs.", body = RunPage),
        InvalidParams,
        ProtectedErrors,
    ),
)]

pub async fn handle(
    state: web::Data<AppState>,
    query: web::Query<Query>,
    page: web::Query<PageQuery<200>>,
) -> Result<HttpResponse, ApiError> {
    let status: Option<RunStatus> = params::code("status", query.status.as_deref())?;
    let symbol = query
        .symbol
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(params::symbol)
        .transpose()?;
    let filter = RunFilter {
        status,
        symbol,
        since: params::date("since", query.since.as_deref())?,
        until: params::date("until", query.until.as_deref())?,
    };
    if let (Some(since), Some(until)) = (filter.since, filter.until)
        && since > until
    {
        return Err(params::invalid(
            "since",
            format!("{since} is after until ({until})"),
        ));
    }
    let paging = page.paging()?;
    let page = state
        .research
        .list(&filter, paging.offset(), paging.page_size)
        .await?;
    Ok(HttpResponse::Ok().json(Paged::new(page.items, paging, page.total)))
}
