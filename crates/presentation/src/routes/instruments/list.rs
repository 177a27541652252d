//! `GET /api/v1/instruments?market=&q=&page=&page_size=`

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use stockpilot_domain::market::Market;
use utoipa::IntoParams;

use super::InstrumentDto;
use crate::AppState;
use crate::error::ApiError;
use crate::openapi::{InvalidParams, ProtectedErrors};

use crate::params::{self, PageQuery, Paged, page_schema};

page_schema!(InstrumentPage of InstrumentDto, "One page of instruments.");

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Query {
    /// Only instruments of this market.
    #[param(value_type = Market, required = false)]
    market: Option<String>,
    /// Text in the symbol or the name (at most 64 characters, surrounding blanks ignored).
    #[param(value_type = String, required = false, max_length = 64)]
    q: Option<String>,
}

/// List instruments.
///
/// Instruments of a market whose symbol or name contains a text, paged.
#[utoipa::path(
    get,
    path = "/api/v1/instruments",
    tag = "instruments",
    operation_id = "list_instruments",
    params(Query, PageQuery<500>),
    responses(
        (status = 200, description = "One page of instruments.", body = InstrumentPage),
        InvalidParams,
        ProtectedErrors,
    ),
)]

pub async fn handle(
    state: web::Data<AppState>,
    query: web::Query<Query>,
    page: web::Query<PageQuery<500>>,
) -> Result<HttpResponse, ApiError> {
    let market: Option<Market> = params::code("market", query.market.as_deref())?;
    let paging = page.paging()?;
    let q = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    if let Some(q) = q
        && q.chars().count() > 64
    {
        return Err(params::invalid("q", "must be at most 64 characters"));
    }
    let page = state
        .market
        .search(market, q, paging.page, paging.page_size)
        .await?;
    Ok(HttpResponse::Ok().json(Paged::new(
        page.items.into_iter().map(InstrumentDto::from).collect(),
        paging,
        page.total,
    )))
}
