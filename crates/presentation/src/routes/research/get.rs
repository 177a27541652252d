//! `GET /api/v1/research/runs/{id}`: status, progress, results, decisions, usage.

use actix_web::{HttpResponse, web};

use crate::AppState;
use crate::error::ApiError;
use crate::openapi::{ErrorBody, InvalidParams, ProtectedErrors};
use crate::params::IdPath;
use stockpilot_application::RunId;
use stockpilot_application::research::RunView;

/// Get a research run.
///
/// The run with its progress, usage, each analyst's result and each decision so far.
#[utoipa::path(
    get,
    path = "/api/v1/research/runs/{id}",
    tag = "research",
    operation_id = "get_research_run",
    params(("id" = String, Path, description = "The run's id")),
    responses(
        (status = 200, description = "The run.", body = RunView),
        (status = 404, description = "`not_found`: no such run.", body = ErrorBody),
        InvalidParams,
        ProtectedErrors,
    ),
)]
pub async fn handle(
    state: web::Data<AppState>,
    IdPath(id): IdPath<RunId>,
) -> Result<HttpResponse, ApiError> {
    let view = state.research.view(id).await?;
    Ok(HttpResponse::Ok().json(view))
}
