//! `GET /api/v1/instruments/{symbol}/valuations?start=&end=`

use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::Serialize;
use stockpilot_domain::market::DailyValuation;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::ApiError;
use crate::openapi::{ErrorBody, InvalidParams, ProtectedErrors};
use crate::params::{DateRangeQuery, SymbolPath};

/// Daily valuations of one instrument over a date range.
#[derive(Serialize, ToSchema)]
#[schema(as = Valuations)]
struct Body {
    symbol: String,
    start: NaiveDate,
    end: NaiveDate,
    /// Date of the newest valuation returned.
    #[schema(required)]
    as_of: Option<NaiveDate>,
    #[schema(required)]
    provider: Option<String>,
    #[schema(minimum = 0)]
    count: usize,
    valuations: Vec<DailyValuation>,
}

/// Get daily valuations.
///
/// Multiples, share counts and market caps of an instrument, one row per session.
#[utoipa::path(
    get,
    path = "/api/v1/instruments/{symbol}/valuations",
    tag = "instruments",
    operation_id = "get_instrument_valuations",
    params(SymbolPath, DateRangeQuery),
    responses(
        (status = 200, description = "The valuations, oldest first.", body = Body),
        (status = 404, description = "`not_found`: no such instrument.", body = ErrorBody),
        InvalidParams,
        ProtectedErrors,
    ),
)]
pub async fn handle(
    state: web::Data<AppState>,
    SymbolPath(symbol): SymbolPath,
    range: web::Query<DateRangeQuery>,
) -> Result<HttpResponse, ApiError> {
    let (start, end) = range.dates()?;
    let (range, sourced) = state.market.valuations(&symbol, start, end).await?;
    Ok(HttpResponse::Ok().json(Body {
        symbol: symbol.to_string(),
        start: range.start(),
        end: range.end(),
        as_of: sourced.rows.last().map(|v| v.trade_date),
        provider: sourced.provider,
        count: sourced.rows.len(),
        valuations: sourced.rows,
    }))
}
