//! `POST /api/v1/sync/failures/retry` `{market?, provider?}` → 202 with the retry jobs (one per
//! market; without a market, every market with a configured provider).

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use stockpilot_application::AppError;
use stockpilot_application::sync::{JobKind, JobRequest, SyncJob};
use stockpilot_domain::market::Market;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::ApiError;
use crate::openapi::{ErrorBody, ProtectedErrors};
use crate::params;

/// Which failures to retry. A body that is absent or not a JSON object of these fields is
/// treated as `{}`.
#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RetryFailures)]
pub struct Body {
    /// Only this market; by default every market with a configured provider.
    #[schema(value_type = Option<Market>)]
    market: Option<String>,
    /// The provider to retry with; by default the market's configured one.
    provider: Option<String>,
}

/// The retry jobs created.
#[derive(Serialize, ToSchema)]
#[schema(as = RetryJobs)]
struct Created {
    /// One `retry_failures` job per market.
    jobs: Vec<SyncJob>,
}

/// Retry sync failures.
///
/// Queues `retry_failures` jobs refetching the pending entries of the failure ledger: one per
/// market (without a market, every market with a configured provider).
#[utoipa::path(
    post,
    path = "/api/v1/sync/failures/retry",
    tag = "sync",
    operation_id = "retry_sync_failures",
    request_body(content = Option<Body>, description = "Optional; `{}` when absent."),
    responses(
        (status = 202, description = "The retry jobs, queued.", body = Created),
        (status = 409, description = "`conflict`: no data provider is configured (for the \
            market).", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `market` is not a market.",
            body = ErrorBody),
        ProtectedErrors,
    ),
)]
pub async fn handle(
    state: web::Data<AppState>,
    body: Option<web::Json<Body>>,
) -> Result<HttpResponse, ApiError> {
    let body = body.map(web::Json::into_inner).unwrap_or_default();
    let market: Option<Market> = params::code("market", body.market.as_deref())?;
    let markets: Vec<Market> = match market {
        Some(m) => vec![m],
        None => Market::ALL.to_vec(),
    };
    let mut jobs = Vec::new();
    for m in markets {
        let request = JobRequest {
            kind: Some(JobKind::RetryFailures),
            market: Some(m),
            provider: body.provider.clone(),
            ..JobRequest::default()
        };
        match state.sync.submit(&request).await {
            Ok(job) => jobs.push(job),
            // Without an explicit market, markets with no provider are simply skipped.
            Err(AppError::Conflict(_)) if market.is_none() => {}
            Err(e) => return Err(e.into()),
        }
    }
    if jobs.is_empty() {
        return Err(
            AppError::Conflict("no data provider is configured; see docs/data.md".into()).into(),
        );
    }
    Ok(HttpResponse::Accepted().json(Created { jobs }))
}
