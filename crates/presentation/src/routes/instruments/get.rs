//! `GET /api/v1/instruments/{symbol}`

use actix_web::{HttpResponse, web};

use super::InstrumentDto;
use crate::AppState;
use crate::error::ApiError;
use crate::params;

pub async fn handle(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let symbol = params::symbol(&path)?;
    let record = state.market.instrument(&symbol).await?;
    Ok(HttpResponse::Ok().json(InstrumentDto::from(record)))
}
