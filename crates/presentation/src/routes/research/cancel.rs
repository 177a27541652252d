//! `POST /api/v1/research/runs/{id}/cancel`: a queued run ends at once; a running one stops
//! at its worker's next heartbeat. 409 when the run has already ended.

use actix_web::{HttpResponse, web};

use crate::AppState;
use crate::error::ApiError;

pub async fn handle(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let run = state.research.cancel(&path.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(run))
}
