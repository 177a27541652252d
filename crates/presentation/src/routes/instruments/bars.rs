//! `GET /api/v1/instruments/{symbol}/bars?start=&end=&adjust=none|forward|backward`

use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use stockpilot_domain::market::Adjust;

use crate::AppState;
use crate::error::ApiError;
use crate::params;

#[derive(Deserialize)]
pub struct Query {
    start: Option<String>,
    end: Option<String>,
    adjust: Option<String>,
}

#[derive(Serialize)]
struct Bar {
    date: NaiveDate,
    open: Decimal,
    high: Decimal,
    low: Decimal,
    close: Decimal,
    pre_close: Option<Decimal>,
    change: Option<Decimal>,
    pct_change: Option<Decimal>,
    volume: Decimal,
    amount: Option<Decimal>,
}

#[derive(Serialize)]
struct Body {
    symbol: String,
    adjust: &'static str,
    start: NaiveDate,
    end: NaiveDate,
    as_of: Option<NaiveDate>,
    provider: Option<String>,
    count: usize,
    bars: Vec<Bar>,
}

pub async fn handle(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<Query>,
) -> Result<HttpResponse, ApiError> {
    let symbol = params::symbol(&path)?;
    let start = params::date("start", query.start.as_deref())?;
    let end = params::date("end", query.end.as_deref())?;
    let adjust: Adjust = params::code("adjust", query.adjust.as_deref())?.unwrap_or_default();
    // The body is rendered once per cache entry and served from the cache as bytes.
    let body = state
        .market
        .bars_body(&symbol, start, end, adjust, "json-v1", |view| {
            let bars: Vec<Bar> = view
                .bars
                .into_iter()
                .map(|b| Bar {
                    date: b.trade_date,
                    open: b.open,
                    high: b.high,
                    low: b.low,
                    close: b.close,
                    pre_close: b.pre_close,
                    change: b.change,
                    pct_change: b.pct_change,
                    volume: b.volume,
                    amount: b.amount,
                })
                .collect();
            serde_json::to_vec(&Body {
                symbol: view.symbol.to_string(),
                adjust: view.adjust.as_str(),
                start: view.start,
                end: view.end,
                as_of: view.as_of,
                provider: view.provider,
                count: bars.len(),
                bars,
            })
            .map_err(|e| e.to_string())
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}
