//! `POST /api/v1/llm/web-search` `{query, freshness?, count?, summary?}`

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use stockpilot_application::ports::{Freshness, SearchError, SearchQuery, SearchResult};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::ApiError;
use crate::openapi::{ErrorBody, JsonBodyErrors, ProtectedErrors};
use crate::params;

/// A web search.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WebSearchRequest)]
pub struct Body {
    /// 1–400 characters (surrounding blanks ignored).
    #[schema(min_length = 1, max_length = 400)]
    query: String,
    /// `oneDay`, `oneWeek`, `oneMonth`, `oneYear`, `noLimit` (the default) or a date range
    /// `YYYY-MM-DD..YYYY-MM-DD`.
    #[schema(
        pattern = r"^(oneDay|oneWeek|oneMonth|oneYear|noLimit|[0-9]{4}-[0-9]{2}-[0-9]{2}\.\.[0-9]{4}-[0-9]{2}-[0-9]{2})$"
    )]
    freshness: Option<String>,
    /// Results wanted; 10 by default.
    #[schema(minimum = 1, maximum = 50)]
    count: Option<u8>,
    /// Ask for a summary of each result.
    summary: Option<bool>,
}

/// Web search results.
#[derive(Serialize, ToSchema)]
#[schema(as = WebSearchResults)]
pub struct Found {
    /// The query as searched (trimmed).
    pub query: String,
    /// Results returned.
    #[schema(minimum = 0)]
    pub count: usize,
    pub results: Vec<SearchResult>,
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

/// Search the web.
///
/// A web search (Bocha), cached for a while per query.
#[utoipa::path(
    post,
    path = "/api/v1/llm/web-search",
    tag = "llm",
    operation_id = "llm_web_search",
    request_body = Body,
    responses(
        (status = 200, description = "The results.", body = Found),
        (status = 409, description = "`conflict`: web search is not configured.",
            body = ErrorBody),
        (status = 502, description = "`upstream_error`: the search provider rejected the key or \
            the account is out of balance.", body = ErrorBody),
        JsonBodyErrors,
        ProtectedErrors,
    ),
)]
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
    Ok(HttpResponse::Ok().json(Found {
        query: request.query,
        count: results.len(),
        results,
    }))
}
