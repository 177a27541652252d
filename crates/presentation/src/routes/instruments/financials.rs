//! `GET /api/v1/instruments/{symbol}/financials?statement=income|balance|cash_flow&period=annual|quarterly|ttm&limit=`
//! (`statement=indicators` returns the provider-computed ratios).

use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use stockpilot_domain::market::{
    FinancialIndicators, FinancialStatement, ReportPeriod, StatementKind,
};

use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::ApiError;
use crate::openapi::{ErrorBody, InvalidParams, ProtectedErrors};
use crate::params::{self, SymbolPath};

crate::openapi::code_schema! {
    /// What `statement` accepts: a statement kind (`cashflow` is another spelling of
    /// `cash_flow`) or `indicators`.
    pub StatementParam => StatementKind::ALL
        .iter()
        .map(|k| k.as_str())
        .chain(["cashflow", "indicators"])
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Query {
    /// `income` (the default), `balance`, `cash_flow` (or `cashflow`), or `indicators` for the
    /// provider's ratios.
    #[param(value_type = StatementParam, required = false)]
    statement: Option<String>,
    /// `annual` (the default), `quarterly` or `ttm`.
    #[param(value_type = ReportPeriod, required = false)]
    period: Option<String>,
    /// Most recent periods to return.
    #[param(value_type = u64, required = false, minimum = 1, maximum = 100, default = 8)]
    limit: Option<String>,
}

/// A financial statement or, for `statement=indicators`, the provider's ratios.
// The schema of `Body::items`; the handler serialises the concrete types.
#[derive(ToSchema)]
#[allow(dead_code)]
#[serde(untagged)]
enum FinancialItem {
    Statement(Box<FinancialStatement>),
    Indicators(Box<FinancialIndicators>),
}

/// Statements (or indicators) of one company, newest period first.
#[derive(Serialize, ToSchema)]
#[schema(as = Financials, bound = "")]
struct Body<T> {
    symbol: String,
    /// `income`, `balance`, `cash_flow` or `indicators`.
    statement: String,
    period: ReportPeriod,
    /// Report date of the newest period returned.
    #[schema(required)]
    as_of: Option<NaiveDate>,
    #[schema(required)]
    provider: Option<String>,
    #[schema(minimum = 0)]
    count: usize,
    /// Statements, or indicators for `statement=indicators`.
    #[schema(value_type = Vec<FinancialItem>)]
    items: Vec<T>,
}

/// Get financial statements.
///
/// Income statements, balance sheets, cash-flow statements or the provider's financial
/// indicators of a company, newest period first.
#[utoipa::path(
    get,
    path = "/api/v1/instruments/{symbol}/financials",
    tag = "instruments",
    operation_id = "get_instrument_financials",
    params(SymbolPath, Query),
    responses(
        (status = 200, description = "The statements or indicators.", body = inline(Body<FinancialItem>)),
        (status = 404, description = "`not_found`: no such instrument.", body = ErrorBody),
        InvalidParams,
        ProtectedErrors,
    ),
)]
pub async fn handle(
    state: web::Data<AppState>,
    SymbolPath(symbol): SymbolPath,
    query: web::Query<Query>,
) -> Result<HttpResponse, ApiError> {
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
            period,
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
        period,
        as_of: sourced.rows.first().map(|r| r.report_date),
        provider: sourced.provider,
        count: sourced.rows.len(),
        items: sourced.rows,
    }))
}
