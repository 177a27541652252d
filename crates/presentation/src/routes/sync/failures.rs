//! `GET /api/v1/sync/failures?status=pending|permanent&page=&page_size=`

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use stockpilot_application::sync::FailureStatus;
use utoipa::IntoParams;

use crate::AppState;
use crate::error::ApiError;
use crate::openapi::{InvalidParams, ProtectedErrors};

use crate::params::{self, PageQuery, Paged, page_schema};
use stockpilot_application::sync::SyncFailure;

page_schema!(SyncFailurePage of SyncFailure, "One page of the failure ledger.");

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Query {
    /// Only entries with this status.
    #[param(value_type = FailureStatus, required = false)]
    status: Option<String>,
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
    params(Query, PageQuery<500>),
    responses(
        (status = 200, description = "One page of the ledger.", body = SyncFailurePage),
        InvalidParams,
        ProtectedErrors,
    ),
)]

pub async fn handle(
    state: web::Data<AppState>,
    query: web::Query<Query>,
    page: web::Query<PageQuery<500>>,
) -> Result<HttpResponse, ApiError> {
    let status: Option<FailureStatus> = params::code("status", query.status.as_deref())?;
    let paging = page.paging()?;
    let page = state
        .sync
        .failures(status, paging.offset(), paging.page_size)
        .await?;
    Ok(HttpResponse::Ok().json(Paged::new(page.items, paging, page.total)))
}
