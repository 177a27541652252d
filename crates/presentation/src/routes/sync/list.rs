//! `GET /api/v1/sync/jobs?status=&page=&page_size=` (newest first)

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use stockpilot_application::sync::{JobStatus, SyncJob};

use crate::AppState;
use crate::error::ApiError;
use crate::params::{self, Paging};

#[derive(Deserialize)]
pub struct Query {
    status: Option<String>,
    page: Option<String>,
    page_size: Option<String>,
}

#[derive(Serialize)]
struct Body {
    items: Vec<SyncJob>,
    page: u64,
    page_size: u64,
    total: u64,
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
    Ok(HttpResponse::Ok().json(Body {
        items: page.items,
        page: paging.page,
        page_size: paging.page_size,
        total: page.total,
    }))
}
