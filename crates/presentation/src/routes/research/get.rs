//! `GET /api/v1/research/runs/{id}`: status, progress, results, decisions, usage.

use actix_web::{HttpResponse, web};

use crate::AppState;
use crate::error::ApiError;

pub async fn handle(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = state.research.view(&path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(view))
}
