//! `GET /api/v1/instruments?market=&q=&page=&page_size=`

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use stockpilot_domain::market::Market;

use super::InstrumentDto;
use crate::AppState;
use crate::error::ApiError;
use crate::params::{self, Paged, Paging};

#[derive(Deserialize)]
pub struct Query {
    market: Option<String>,
    q: Option<String>,
    page: Option<String>,
    page_size: Option<String>,
}

pub async fn handle(
    state: web::Data<AppState>,
    query: web::Query<Query>,
) -> Result<HttpResponse, ApiError> {
    let market: Option<Market> = params::code("market", query.market.as_deref())?;
    let paging = Paging::parse(query.page.as_deref(), query.page_size.as_deref(), 500)?;
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
