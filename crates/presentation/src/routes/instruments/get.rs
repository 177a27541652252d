//! `GET /api/v1/instruments/{symbol}`

use actix_web::{HttpResponse, web};

use super::InstrumentDto;
use crate::AppState;
use crate::error::ApiError;
use crate::openapi::{ErrorBody, InvalidParams, ProtectedErrors};
use crate::params;

/// Get an instrument.
///
/// The instrument's reference data.
#[utoipa::path(
    get,
    path = "/api/v1/instruments/{symbol}",
    tag = "instruments",
    operation_id = "get_instrument",
    params(("symbol" = String, Path, description = "`600519.SH`, `AAPL`, `BRK.B`, …", pattern = r"^([0-9]{6}\.(SH|SZ|BJ)|[A-Z]{1,5}(\.[A-Z])?)$")),
    responses(
        (status = 200, description = "The instrument.", body = InstrumentDto),
        (status = 404, description = "`not_found`: no such instrument.", body = ErrorBody),
        InvalidParams,
        ProtectedErrors,
    ),
)]
pub async fn handle(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let symbol = params::symbol(&path)?;
    let record = state.market.instrument(&symbol).await?;
    Ok(HttpResponse::Ok().json(InstrumentDto::from(record)))
}
