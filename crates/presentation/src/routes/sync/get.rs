//! `GET /api/v1/sync/jobs/{id}`: status, progress (cursor of total), counts, message.

use actix_web::{HttpResponse, web};

use crate::AppState;
use crate::error::ApiError;

pub async fn handle(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.sync.job(&path).await?))
}
