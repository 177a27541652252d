//! `GET /api/v1/sync/jobs?status=&page=&page_size=` (newest first)

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use stockpilot_application::sync::JobStatus;

use crate::AppState;
use crate::error::ApiError;
use crate::params::{self, Paged, Paging};

#[derive(Deserialize)]
pub struct Query {
    status: Option<String>,
    page: Option<String>,
    page_size: Option<String>,
}

pub async fn handle(
    state: web::Data<AppState>,
    query: web::Query<Query>,
) -> Result<HttpResponse, ApiError> {
    let status: Option<JobStatus> = match query.status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(
            s.parse()
                .map_err(|e: String| params::invalid("status", e))?,
        ),
        None => None,
    };
    let paging = Paging::parse(query.page.as_deref(), query.page_size.as_deref(), 200)?;
    let page = state
        .sync
        .jobs(status, paging.offset(), paging.page_size)
        .await?;
    Ok(HttpResponse::Ok().json(Paged::new(page.items, paging, page.total)))
}
