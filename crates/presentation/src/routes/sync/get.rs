//! `GET /api/v1/sync/jobs/{id}`: status, progress (cursor of total), counts, message.

use actix_web::{HttpResponse, web};

use crate::AppState;
use crate::error::ApiError;
use crate::openapi::{ErrorBody, InvalidParams, ProtectedErrors};
use crate::params::IdPath;
use stockpilot_application::JobId;
use stockpilot_application::sync::SyncJob;

/// Get a sync job.
///
/// Status, progress (`cursor` of `total`), counts and message of a job.
#[utoipa::path(
    get,
    path = "/api/v1/sync/jobs/{id}",
    tag = "sync",
    operation_id = "get_sync_job",
    params(("id" = String, Path, description = "The job's id")),
    responses(
        (status = 200, description = "The job.", body = SyncJob),
        (status = 404, description = "`not_found`: no such job.", body = ErrorBody),
        InvalidParams,
        ProtectedErrors,
    ),
)]
pub async fn handle(
    state: web::Data<AppState>,
    IdPath(id): IdPath<JobId>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.sync.job(id).await?))
}
