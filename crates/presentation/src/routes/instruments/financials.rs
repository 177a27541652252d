//! `GET /api/v1/instruments/{symbol}/financials?statement=income|balance|cash_flow&period=annual|quarterly|ttm&limit=`
//! (`statement=indicators` returns the provider-computed ratios).

use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use stockpilot_domain::market::{
    FinancialIndicators, FinancialStatement, ReportPeriod, StatementKind,
};

use crate::AppState;
use crate::error::ApiError;
use crate::params;

#[derive(Deserialize)]
pub struct Query {
    statement: Option<String>,
    period: Option<String>,
    limit: Option<String>,
}

#[derive(Serialize)]
struct Body<T> {
    symbol: String,
    statement: String,
    period: &'static str,
    as_of: Option<NaiveDate>,
    provider: Option<String>,
    count: usize,
    items: Vec<T>,
}

pub async fn handle(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<Query>,
) -> Result<HttpResponse, ApiError> {
    let symbol = params::symbol(&path)?;
    let period: ReportPeriod =
        params::code("period", query.period.as_deref())?.unwrap_or(ReportPeriod::Annual);
    let limit = params::number("limit", query.limit.as_deref(), 8, 1, 100)?;
    let statement = query.statement.as_deref().unwrap_or("income");
    // `cashflow` is accepted as well as the canonical `cash_flow`.
    let statement = if statement == "cashflow" {
        "cash_flow"
    } else {
        statement
    };
    if statement == "indicators" {
        let sourced = state
            .market
            .financial_indicators(&symbol, period, limit)
            .await?;
        return Ok(HttpResponse::Ok().json(Body::<FinancialIndicators> {
            symbol: symbol.to_string(),
            statement: statement.to_owned(),
            period: period.as_str(),
            as_of: sourced.rows.first().map(|r| r.report_date),
            provider: sourced.provider,
            count: sourced.rows.len(),
            items: sourced.rows,
        }));
    }
    let kind: StatementKind =
        statement
            .parse()
            .map_err(|e: stockpilot_domain::market::UnknownCode| {
                params::invalid("statement", format!("{e}, or indicators"))
            })?;
    let sourced = state
        .market
        .financials(&symbol, kind, period, limit)
        .await?;
    Ok(HttpResponse::Ok().json(Body::<FinancialStatement> {
        symbol: symbol.to_string(),
        statement: kind.as_str().to_owned(),
        period: period.as_str(),
        as_of: sourced.rows.first().map(|r| r.report_date),
        provider: sourced.provider,
        count: sourced.rows.len(),
        items: sourced.rows,
    }))
}
