//! `GET /api/v1/research/runs?status=&symbol=&since=&until=&page=&page_size=` (newest first)

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use stockpilot_application::research::model::{RunFilter, RunStatus};

use crate::AppState;
use crate::error::ApiError;
use crate::params::{self, Paged, Paging};

#[derive(Deserialize)]
pub struct Query {
    status: Option<String>,
    symbol: Option<String>,
    since: Option<String>,
    until: Option<String>,
    page: Option<String>,
    page_size: Option<String>,
}

pub async fn handle(
    state: web::Data<AppState>,
    query: web::Query<Query>,
) -> Result<HttpResponse, ApiError> {
    let status = match query.status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(RunStatus::parse(s).ok_or_else(|| {
            let allowed: Vec<&str> = RunStatus::ALL.iter().map(|s| s.as_str()).collect();
            params::invalid(
                "status",
                format!("unknown status '{s}'; one of {}", allowed.join(", ")),
            )
        })?),
        None => None,
    };
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
    let paging = Paging::parse(query.page.as_deref(), query.page_size.as_deref(), 200)?;
    let page = state
        .research
        .list(&filter, paging.offset(), paging.page_size)
        .await?;
    Ok(HttpResponse::Ok().json(Paged::new(page.items, paging, page.total)))
}
