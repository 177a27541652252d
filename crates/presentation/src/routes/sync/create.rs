//! `POST /api/v1/sync/jobs` `{kind, market?, symbols?, start?, end?, provider?, batch_size?}` → 202.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use stockpilot_application::sync::{JobKind, JobRequest};
use stockpilot_domain::market::{Market, Symbol};

use crate::AppState;
use crate::error::ApiError;
use crate::params;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Body {
    kind: String,
    market: Option<String>,
    #[serde(default)]
    symbols: Vec<String>,
    start: Option<String>,
    end: Option<String>,
    provider: Option<String>,
    batch_size: Option<u32>,
}

/// At most this many symbols in one request.
const MAX_SYMBOLS: usize = 10_000;

impl Body {
    fn into_request(self) -> Result<JobRequest, ApiError> {
        let kind: JobKind = self
            .kind
            .parse()
            .map_err(|e: String| params::invalid("kind", e))?;
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

pub async fn handle(
    state: web::Data<AppState>,
    body: web::Json<Body>,
) -> Result<HttpResponse, ApiError> {
    let request = body.into_inner().into_request()?;
    let job = state.sync.submit(&request).await?;
    Ok(super::accepted(&job))
}
