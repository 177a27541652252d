//! `/api/v1/sync/…`: sync jobs and the failure ledger.

pub mod cancel;
pub mod create;
pub mod failures;
pub mod get;
pub mod list;
pub mod retry;

use actix_web::HttpResponse;
use actix_web::http::header;
use stockpilot_application::sync::SyncJob;

/// 202 with the job and where to follow it.
pub fn accepted(job: &SyncJob) -> HttpResponse {
    HttpResponse::Accepted()
        .insert_header((header::LOCATION, format!("/api/v1/sync/jobs/{}", job.id)))
        .json(job)
}
