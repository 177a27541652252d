//! `GET /api/v1/instruments/{symbol}/valuations?start=&end=`

use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use stockpilot_domain::market::DailyValuation;

use crate::AppState;
use crate::error::ApiError;
use crate::params;

#[derive(Deserialize)]
pub struct Query {
    start: Option<String>,
    end: Option<String>,
}

#[derive(Serialize)]
struct Body {
    symbol: String,
    start: NaiveDate,
    end: NaiveDate,
    as_of: Option<NaiveDate>,
    provider: Option<String>,
    count: usize,
    valuations: Vec<DailyValuation>,
}

pub async fn handle(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<Query>,
) -> Result<HttpResponse, ApiError> {
    let symbol = params::symbol(&path)?;
    let start = params::date("start", query.start.as_deref())?;
    let end = params::date("end", query.end.as_deref())?;
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
