//! `POST /api/v1/llm/web-search` `{query, freshness?, count?, summary?}`

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use stockpilot_application::ports::{Freshness, SearchError, SearchQuery};

use crate::AppState;
use crate::error::ApiError;
use crate::params;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Body {
    query: String,
    freshness: Option<String>,
    count: Option<u8>,
    summary: Option<bool>,
}

fn freshness(text: Option<&str>) -> Result<Freshness, ApiError> {
    Ok(match text.unwrap_or("noLimit") {
        "oneDay" => Freshness::OneDay,
        "oneWeek" => Freshness::OneWeek,
        "oneMonth" => Freshness::OneMonth,
        "oneYear" => Freshness::OneYear,
        "noLimit" => Freshness::NoLimit,
        range => {
            let ok = range.split_once("..").is_some_and(|(a, b)| {
                let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d");
                matches!((d(a), d(b)), (Ok(a), Ok(b)) if a <= b)
            });
            if !ok {
                return Err(params::invalid(
                    "freshness",
                    "must be oneDay, oneWeek, oneMonth, oneYear, noLimit or YYYY-MM-DD..YYYY-MM-DD",
                ));
            }
            Freshness::Range(range.to_owned())
        }
    })
}

pub async fn handle(
    state: web::Data<AppState>,
    body: web::Json<Body>,
) -> Result<HttpResponse, ApiError> {
    let query = body.query.trim();
    if query.is_empty() || query.chars().count() > 400 {
        return Err(params::invalid("query", "must be 1–400 characters"));
    }
    let count = body.count.unwrap_or(10);
    if !(1..=50).contains(&count) {
        return Err(params::invalid(
            "count",
            format!("must be between 1 and 50, got {count}"),
        ));
    }
    let search = state.search.as_ref().ok_or(SearchError::NotConfigured)?;
    let request = SearchQuery {
        query: query.to_owned(),
        freshness: freshness(body.freshness.as_deref())?,
        count,
        summary: body.summary.unwrap_or(false),
    };
    let results = search.search(&request).await?;
    Ok(HttpResponse::Ok().json(
        serde_json::json!({ "query": request.query, "count": results.len(), "results": results }),
    ))
}
