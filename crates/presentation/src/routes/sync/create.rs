//! `POST /api/v1/sync/jobs` `{kind, market?, symbols?, start?, end?, provider?, batch_size?}` → 202.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use stockpilot_application::sync::{JobKind, JobRequest};
use stockpilot_domain::market::{Market, Symbol};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::ApiError;
use crate::openapi::{ErrorBody, JsonBodyErrors, ProtectedErrors};
use crate::params;
use stockpilot_application::sync::SyncJob;

/// A sync job to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateSyncJob)]
pub struct Body {
    /// What to fetch.
    #[schema(value_type = JobKind)]
    kind: String,
    /// The market; by default the market of the first symbol.
    #[schema(value_type = Option<Market>)]
    market: Option<String>,
    /// The symbols to fetch (per-symbol kinds); by default every stored instrument of the market.
    #[serde(default)]
    #[schema(value_type = Vec<Symbol>, max_items = 10000)]
    symbols: Vec<String>,
    /// First day (`YYYY-MM-DD`).
    #[schema(value_type = Option<NaiveDate>)]
    start: Option<String>,
    /// Last day (`YYYY-MM-DD`).
    #[schema(value_type = Option<NaiveDate>)]
    end: Option<String>,
    /// The data provider; by default the market's configured one.
    provider: Option<String>,
    /// Units committed per batch; by default from configuration.
    #[schema(minimum = 1, maximum = 1000)]
    batch_size: Option<u32>,
}

/// At most this many symbols in one request.
const MAX_SYMBOLS: usize = 10_000;

impl Body {
    fn into_request(self) -> Result<JobRequest, ApiError> {
        let kind: JobKind = params::code("kind", Some(&self.kind))?
            .ok_or_else(|| params::invalid("kind", "is required"))?;
        let market: Option<Market> = params::code("market", self.market.as_deref())?;
        if self.symbols.len() > MAX_SYMBOLS {
            return Err(params::invalid(
                "symbols",
                format!("at most {MAX_SYMBOLS} symbols per job"),
            ));
        }
        let symbols = self
            .symbols
            .iter()
            .enumerate()
            .map(|(i, s)| {
                Symbol::parse(s)
                    .map_err(|e| params::invalid(&format!("symbols[{i}]"), e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(JobRequest {
            kind: Some(kind),
            market,
            symbols,
            start: params::date("start", self.start.as_deref())?,
            end: params::date("end", self.end.as_deref())?,
            provider: self.provider,
            batch_size: self.batch_size,
        })
    }
}

/// Create a sync job.
///
/// Queues a job copying provider data into the store; it runs in the background, committing
/// in batches, and can be followed at the `Location` returned.
#[utoipa::path(
    post,
    path = "/api/v1/sync/jobs",
    tag = "sync",
    operation_id = "create_sync_job",
    request_body = Body,
    responses(
        (status = 202, description = "The job, queued.", body = SyncJob,
            headers(("Location" = String, description = "Where to follow the job"))),
        (status = 409, description = "`conflict`: no provider is configured for the market, or \
            no instruments are stored for it.", body = ErrorBody),
        JsonBodyErrors,
        ProtectedErrors,
    ),
)]
pub async fn handle(
    state: web::Data<AppState>,
    body: web::Json<Body>,
) -> Result<HttpResponse, ApiError> {
    let request = body.into_inner().into_request()?;
    let job = state.sync.submit(&request).await?;
    Ok(super::accepted(&job))
}
