//! `POST /api/v1/sync/jobs/{id}/cancel`: a queued or paused job ends at once (200); a running
//! one stops after its current batch (202).

use actix_web::{HttpResponse, web};
use stockpilot_application::sync::JobStatus;

use crate::AppState;
use crate::error::ApiError;
use crate::openapi::{ErrorBody, InvalidParams, ProtectedErrors};
use crate::params::IdPath;
use stockpilot_application::JobId;
use stockpilot_application::sync::SyncJob;

/// Cancel a sync job.
///
/// A queued or paused job ends at once (200); a running one stops after its current batch
/// (202).
#[utoipa::path(
    post,
    path = "/api/v1/sync/jobs/{id}/cancel",
    tag = "sync",
    operation_id = "cancel_sync_job",
    params(("id" = String, Path, description = "The job's id")),
    responses(
        (status = 200, description = "The job, cancelled.", body = SyncJob),
        (status = 202, description = "The job, asked to stop after its current batch.",
            body = SyncJob,
            headers(("Location" = String, description = "Where to follow the job"))),
        (status = 404, description = "`not_found`: no such job.", body = ErrorBody),
        (status = 409, description = "`conflict`: the job has already ended.", body = ErrorBody),
        InvalidParams,
        ProtectedErrors,
    ),
)]
pub async fn handle(
    state: web::Data<AppState>,
    IdPath(id): IdPath<JobId>,
) -> Result<HttpResponse, ApiError> {
    let job = state.sync.cancel(id).await?;
    Ok(if job.status == JobStatus::Cancelled {
        HttpResponse::Ok().json(job)
    } else {
        super::accepted(&job)
    })
}
