//! `GET /api/v1/sync/failures?status=pending|permanent&page=&page_size=`

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use stockpilot_application::sync::FailureStatus;

use crate::AppState;
use crate::error::ApiError;
use crate::params::{self, Paged, Paging};

#[derive(Deserialize)]
pub struct Query {
    status: Option<String>,
    page: Option<String>,
    page_size: Option<String>,
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
    Ok(HttpResponse::Ok().json(Paged::new(page.items, paging, page.total)))
}
