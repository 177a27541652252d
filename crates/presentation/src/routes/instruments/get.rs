//! `GET /api/v1/instruments/{symbol}`

use actix_web::{HttpResponse, web};

use super::InstrumentDto;
use crate::AppState;
use crate::error::ApiError;
use crate::openapi::{ErrorBody, InvalidParams, ProtectedErrors};
use crate::params::SymbolPath;

/// Get an instrument.
///
/// The instrument's reference data.
#[utoipa::path(
    get,
    path = "/api/v1/instruments/{symbol}",
    tag = "instruments",
    operation_id = "get_instrument",
    params(SymbolPath),
    responses(
        (status = 200, description = "The instrument.", body = InstrumentDto),
        (status = 404, description = "`not_found`: no such instrument.", body = ErrorBody),
        InvalidParams,
        ProtectedErrors,
    ),
)]
pub async fn handle(
    state: web::Data<AppState>,
    SymbolPath(symbol): SymbolPath,
) -> Result<HttpResponse, ApiError> {
    let record = state.market.instrument(&symbol).await?;
    Ok(HttpResponse::Ok().json(InstrumentDto::from(record)))
}
