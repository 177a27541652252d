//! `GET /api/v1/instruments/{symbol}/indicators?start=&end=&set=sma:20,ema:12,rsi:14,macd,bollinger:20`

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use stockpilot_domain::indicators::IndicatorSet;

use crate::AppState;
use crate::error::ApiError;
use crate::params;

#[derive(Deserialize)]
pub struct Query {
    start: Option<String>,
    end: Option<String>,
    set: Option<String>,
}

pub async fn handle(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<Query>,
) -> Result<HttpResponse, ApiError> {
    let symbol = params::symbol(&path)?;
    let start = params::date("start", query.start.as_deref())?;
    let end = params::date("end", query.end.as_deref())?;
    let set_text = query
        .set
        .as_deref()
        .filter(|s| !s.is_empty())
        .unwrap_or("sma:20,ema:12,rsi:14,macd,bollinger:20");
    let set = IndicatorSet::parse(set_text).map_err(|e| params::invalid("set", e.to_string()))?;
    let view = state.market.indicators(&symbol, start, end, &set).await?;
    Ok(HttpResponse::Ok().json(view))
}
