//! `POST /api/v1/sync/failures/retry` `{market?, provider?}` → 202 with the retry jobs (one per
//! market; without a market, every market with a configured provider).

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use stockpilot_application::AppError;
use stockpilot_application::sync::{JobKind, JobRequest, SyncJob};
use stockpilot_domain::market::Market;

use crate::AppState;
use crate::error::ApiError;
use crate::params;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Body {
    market: Option<String>,
    provider: Option<String>,
}

#[derive(Serialize)]
struct Created {
    jobs: Vec<SyncJob>,
}

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
