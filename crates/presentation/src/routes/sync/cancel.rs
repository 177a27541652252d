//! `POST /api/v1/sync/jobs/{id}/cancel`: a queued or paused job ends at once (200); a running
//! one stops after its current batch (202).

use actix_web::{HttpResponse, web};
use stockpilot_application::sync::JobStatus;

use crate::AppState;
use crate::error::ApiError;

pub async fn handle(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let job = state.sync.cancel(&path).await?;
    Ok(if job.status == JobStatus::Cancelled {
        HttpResponse::Ok().json(job)
    } else {
        super::accepted(&job)
    })
}
