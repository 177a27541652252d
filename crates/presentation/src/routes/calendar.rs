//! `GET /api/v1/calendar/{exchange}?start=&end=`

use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::Serialize;
use stockpilot_domain::market::Exchange;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::ApiError;
use crate::openapi::{InvalidParams, ProtectedErrors};
use crate::params::{self, DateRangeQuery};

/// One calendar day.
#[derive(Serialize, ToSchema)]
#[schema(as = CalendarDay)]
struct Day {
    date: NaiveDate,
    /// Whether the exchange trades that day.
    is_open: bool,
    /// The previous trading day.
    #[schema(required)]
    pretrade_date: Option<NaiveDate>,
}

/// An exchange's calendar over a date range.
#[derive(Serialize, ToSchema)]
#[schema(as = Calendar)]
struct Body {
    exchange: Exchange,
    start: NaiveDate,
    end: NaiveDate,
    /// The newest day returned.
    #[schema(required)]
    as_of: Option<NaiveDate>,
    #[schema(required)]
    provider: Option<String>,
    /// Trading days among `days`.
    #[schema(minimum = 0)]
    open_days: usize,
    days: Vec<Day>,
}

/// Get a trading calendar.
///
/// The stored calendar of an exchange between two dates: which days trade.
#[utoipa::path(
    get,
    path = "/api/v1/calendar/{exchange}",
    tag = "calendar",
    operation_id = "get_calendar",
    params(
        ("exchange" = Exchange, Path, description = "`SSE`, `SZSE`, `BSE` or `US`"),
        DateRangeQuery,
    ),
    responses(
        (status = 200, description = "The calendar days, oldest first.", body = Body),
        InvalidParams,
        ProtectedErrors,
    ),
)]
pub async fn handle(
    state: web::Data<AppState>,
    path: web::Path<String>,
    range: web::Query<DateRangeQuery>,
) -> Result<HttpResponse, ApiError> {
    let exchange: Exchange = params::code("exchange", Some(path.as_str()))?
        .ok_or_else(|| params::invalid("exchange", "is required"))?;
    let (start, end) = range.dates()?;
    let (range, sourced) = state.market.calendar(exchange, start, end).await?;
    let provider = sourced.provider;
    let days = sourced.rows;
    let days: Vec<Day> = days
        .into_iter()
        .map(|d| Day {
            date: d.date,
            is_open: d.is_open,
            pretrade_date: d.pretrade_date,
        })
        .collect();
    Ok(HttpResponse::Ok().json(Body {
        exchange,
        start: range.start(),
        end: range.end(),
        as_of: days.last().map(|d| d.date),
        provider,
        open_days: days.iter().filter(|d| d.is_open).count(),
        days,
    }))
}
