//! `GET /api/v1/sync/failures?status=pending|permanent&page=&page_size=`

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use stockpilot_application::sync::{FailureStatus, SyncFailure};

use crate::AppState;
use crate::error::ApiError;
use crate::params::{self, Paging};

#[derive(Deserialize)]
pub struct Query {
    status: Option<String>,
    page: Option<String>,
    page_size: Option<String>,
}

#[derive(Serialize)]
struct Body {
    items: Vec<SyncFailure>,
    page: u64,
    page_size: u64,
    total: u64,
}

pub async fn handle(
    state: web::Data<AppState>,
    query: web::Query<Query>,
) -> Result<HttpResponse, ApiError> {
    let status = match query.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some("pending") => Some(FailureStatus::Pending),
        Some("permanent") => Some(FailureStatus::Permanent),
        Some(other) => {
            return Err(params::invalid(
                "status",
                format!("unknown status '{other}'; allowed: pending, permanent"),
            ));
        }
    };
    let paging = Paging::parse(query.page.as_deref(), query.page_size.as_deref(), 500)?;
    let page = state
        .sync
        .failures(status, paging.offset(), paging.page_size)
        .await?;
    Ok(HttpResponse::Ok().json(Body {
        items: page.items,
        page: paging.page,
        page_size: paging.page_size,
        total: page.total,
    }))
}
