//! `POST /api/v1/research/runs/{id}/cancel`: a queued run ends at once; a running one stops
//! at its worker's next heartbeat. 409 when the run has already ended.

use actix_web::{HttpResponse, web};

use crate::AppState;
use crate::error::ApiError;
use crate::openapi::{ErrorBody, InvalidParams, ProtectedErrors};
use crate::params::IdPath;
use stockpilot_application::RunId;
use stockpilot_application::research::model::Run;

/// Cancel a research run.
///
/// A queued run ends at once; a running one stops at its worker's next heartbeat.
#[utoipa::path(
    post,
    path = "/api/v1/research/runs/{id}/cancel",
    tag = "research",
    operation_id = "cancel_research_run",
    params(("id" = String, Path, description = "The run's id")),
    responses(
        (status = 202, description = "The run, cancelled or asked to stop.", body = Run),
        (status = 404, description = "`not_found`: no such run.", body = ErrorBody),
        (status = 409, description = "`conflict`: the run has already ended.", body = ErrorBody),
        InvalidParams,
        ProtectedErrors,
    ),
)]
pub async fn handle(
    state: web::Data<AppState>,
    IdPath(id): IdPath<RunId>,
) -> Result<HttpResponse, ApiError> {
    let run = state.research.cancel(id).await?;
    Ok(HttpResponse::Accepted().json(run))
}
