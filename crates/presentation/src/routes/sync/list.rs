//! `GET /api/v1/sync/jobs?status=&page=&page_size=` (newest first)

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use stockpilot_application::sync::JobStatus;
use utoipa::IntoParams;

use crate::AppState;
use crate::error::ApiError;
use crate::openapi::{InvalidParams, ProtectedErrors};

use crate::params::{self, PageQuery, Paged, page_schema};
use stockpilot_application::sync::SyncJob;

page_schema!(SyncJobPage of SyncJob, "One page of sync jobs, newest first.");

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Query {
    /// Only jobs with this status.
    #[param(value_type = JobStatus, required = false)]
    status: Option<String>,
}

/// List sync jobs.
///
/// Sync jobs, newest first, optionally of one status.
#[utoipa::path(
    get,
    path = "/api/v1/sync/jobs",
    tag = "sync",
    operation_id = "list_sync_jobs",
    params(Query, PageQuery<200>),
    responses(
        (status = 200, description = "One page of jobs.", body = SyncJobPage),
        InvalidParams,
        ProtectedErrors,
    ),
)]

pub async fn handle(
    state: web::Data<AppState>,
    query: web::Query<Query>,
    page: web::Query<PageQuery<200>>,
) -> Result<HttpResponse, ApiError> {
    let status: Option<JobStatus> = params::code("status", query.status.as_deref())?;
    let paging = page.paging()?;
    let page = state
        .sync
        .jobs(status, paging.offset(), paging.page_size)
        .await?;
    Ok(HttpResponse::Ok().json(Paged::new(page.items, paging, page.total)))
}
