//! `GET /api/v1/sync/jobs?status=&page=&page_size=` (newest first)

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use stockpilot_application::sync::JobStatus;
use utoipa::IntoParams;

use crate::AppState;
use crate::error::ApiError;
use crate::openapi::schemas::{JobStatusCode, SyncJobPage};
use crate::openapi::{InvalidParams, ProtectedErrors};
use crate::params::{self, Paged, Paging};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Query {
    /// Only jobs with this status.
    #[param(value_type = JobStatusCode, required = false)]
    status: Option<String>,
    /// Page number, from 1.
    #[param(value_type = u64, required = false, minimum = 1, maximum = 1000000, default = 1)]
    page: Option<String>,
    /// Items per page.
    #[param(value_type = u64, required = false, minimum = 1, maximum = 200, default = 50)]
    page_size: Option<String>,
}

/// List sync jobs.
///
/// Sync jobs, newest first, optionally of one status.
#[utoipa::path(
    get,
    path = "/api/v1/sync/jobs",
    tag = "sync",
    operation_id = "list_sync_jobs",
    params(Query),
    responses(
        (status = 200, description = "One page of jobs.", body = SyncJobPage),
        InvalidParams,
        ProtectedErrors,
    ),
)]

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
