//! `GET /api/v1/instruments/{symbol}/indicators?start=&end=&set=sma:20,ema:12,rsi:14,macd,bollinger:20`

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use stockpilot_domain::indicators::IndicatorSet;
use utoipa::IntoParams;

use crate::AppState;
use crate::error::ApiError;
use crate::openapi::{ErrorBody, InvalidParams, ProtectedErrors};
use crate::params::{self, DateRangeQuery, SymbolPath};
use stockpilot_application::market::IndicatorsView;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Query {
    /// Comma-separated indicators with their periods: `sma:N`, `ema:N`, `rsi:N`, `macd` (or
    /// `macd:FAST:SLOW:SIGNAL`), `bollinger:N`, ….
    #[param(value_type = String, required = false, default = "sma:20,ema:12,rsi:14,macd,bollinger:20")]
    set: Option<String>,
}

/// Get technical indicators.
///
/// Indicators computed over the stored bars of an instrument (with warm-up before `start`),
/// one value per date.
#[utoipa::path(
    get,
    path = "/api/v1/instruments/{symbol}/indicators",
    tag = "instruments",
    operation_id = "get_instrument_indicators",
    params(SymbolPath, DateRangeQuery, Query),
    responses(
        (status = 200, description = "The indicator series.", body = IndicatorsView),
        (status = 404, description = "`not_found`: no such instrument.", body = ErrorBody),
        InvalidParams,
        ProtectedErrors,
    ),
)]
pub async fn handle(
    state: web::Data<AppState>,
    SymbolPath(symbol): SymbolPath,
    range: web::Query<DateRangeQuery>,
    query: web::Query<Query>,
) -> Result<HttpResponse, ApiError> {
    let (start, end) = range.dates()?;
    let set_text = query
        .set
        .as_deref()
        .filter(|s| !s.is_empty())
        .unwrap_or("sma:20,ema:12,rsi:14,macd,bollinger:20");
    let set = IndicatorSet::parse(set_text).map_err(|e| params::invalid("set", e.to_string()))?;
    let view = state.market.indicators(&symbol, start, end, &set).await?;
    Ok(HttpResponse::Ok().json(view))
}
