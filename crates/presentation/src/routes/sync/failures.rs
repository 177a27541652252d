//! `GET /api/v1/sync/failures?status=pending|permanent&page=&page_size=`

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use stockpilot_application::sync::FailureStatus;
use utoipa::IntoParams;

use crate::AppState;
use crate::error::ApiError;
use crate::openapi::schemas::{FailureStatusCode, SyncFailurePage};
use crate::openapi::{InvalidParams, ProtectedErrors};
use crate::params::{self, Paged, Paging};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Query {
    /// Only entries with this status.
    #[param(value_type = FailureStatusCode, required = false)]
    status: Option<String>,
    /// Page number, from 1.
    #[param(value_type = u64, required = false, minimum = 1, maximum = 1000000, default = 1)]
    page: Option<String>,
    /// Items per page.
    #[param(value_type = u64, required = false, minimum = 1, maximum = 500, default = 50)]
    page_size: Option<String>,
}

/// List sync failures.
///
/// The failure ledger: each (provider, dataset, symbol) whose fetch failed, with its attempts
/// and next retry.
#[utoipa::path(
    get,
    path = "/api/v1/sync/failures",
    tag = "sync",
    operation_id = "list_sync_failures",
    params(Query),
    responses(
        (status = 200, description = "One page of the ledger.", body = SyncFailurePage),
        InvalidParams,
        ProtectedErrors,
    ),
)]

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
