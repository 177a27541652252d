//! `GET /api/v1/instruments/{symbol}/bars?start=&end=&adjust=none|forward|backward`

use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use stockpilot_domain::market::Adjust;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::ApiError;
use crate::openapi::{ErrorBody, InvalidParams, ProtectedErrors};
use crate::params::{self, DateRangeQuery, SymbolPath};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Query {
    /// `none` (raw prices, the default), `forward` or `backward`.
    #[param(value_type = Adjust, required = false)]
    adjust: Option<String>,
}

/// One daily bar. Prices in the trading currency; `volume` in shares, `amount` in currency.
/// Numbers are decimal strings without trailing zeros.
#[derive(Serialize, ToSchema)]
struct Bar {
    date: NaiveDate,
    open: String,
    high: String,
    low: String,
    close: String,
    #[schema(required)]
    pre_close: Option<String>,
    #[schema(required)]
    change: Option<String>,
    /// Change in percent.
    #[schema(required)]
    pct_change: Option<String>,
    volume: String,
    #[schema(required)]
    amount: Option<String>,
}

/// Daily bars of one instrument over a date range.
#[derive(Serialize, ToSchema)]
#[schema(as = Bars)]
struct Body {
    symbol: String,
    #[schema(value_type = Adjust)]
    adjust: &'static str,
    start: NaiveDate,
    end: NaiveDate,
    /// Date of the newest bar returned.
    #[schema(required)]
    as_of: Option<NaiveDate>,
    /// The provider that wrote the bars.
    #[schema(required)]
    provider: Option<String>,
    #[schema(minimum = 0)]
    count: usize,
    bars: Vec<Bar>,
}

/// Get daily bars.
///
/// Daily bars of an instrument between two dates, raw or adjusted for corporate actions.
#[utoipa::path(
    get,
    path = "/api/v1/instruments/{symbol}/bars",
    tag = "instruments",
    operation_id = "get_instrument_bars",
    params(SymbolPath, DateRangeQuery, Query),
    responses(
        (status = 200, description = "The bars, oldest first.", body = Body),
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
