//! `GET /api/v1/calendar/{exchange}?start=&end=`

use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use stockpilot_domain::market::Exchange;

use crate::AppState;
use crate::error::ApiError;
use crate::params;

#[derive(Deserialize)]
pub struct Query {
    start: Option<String>,
    end: Option<String>,
}

#[derive(Serialize)]
struct Day {
    date: NaiveDate,
    is_open: bool,
    pretrade_date: Option<NaiveDate>,
}

#[derive(Serialize)]
struct Body {
    exchange: &'static str,
    start: NaiveDate,
    end: NaiveDate,
    /// The newest day returned.
    as_of: Option<NaiveDate>,
    provider: Option<String>,
    open_days: usize,
    days: Vec<Day>,
}

pub async fn handle(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<Query>,
) -> Result<HttpResponse, ApiError> {
    let exchange: Exchange = params::code("exchange", Some(path.as_str()))?
        .ok_or_else(|| params::invalid("exchange", "is required"))?;
    let start = params::date("start", query.start.as_deref())?;
    let end = params::date("end", query.end.as_deref())?;
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
        exchange: exchange.as_str(),
        start: range.start(),
        end: range.end(),
        as_of: days.last().map(|d| d.date),
        provider,
        open_days: days.iter().filter(|d| d.is_open).count(),
        days,
    }))
}
