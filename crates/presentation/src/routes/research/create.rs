//! `POST /api/v1/research/runs` `{symbols, analysts?, as_of?, llm_provider?, debate_rounds?, max_tokens?}` → 202.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use stockpilot_application::research::Submission;

use crate::AppState;
use crate::error::ApiError;
use crate::params;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Body {
    symbols: Vec<String>,
    analysts: Option<Vec<String>>,
    as_of: Option<String>,
    llm_provider: Option<String>,
    debate_rounds: Option<u8>,
    max_tokens: Option<u64>,
}

pub async fn handle(
    state: web::Data<AppState>,
    body: web::Json<Body>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let submission = Submission {
        symbols: body.symbols,
        analysts: body.analysts,
        as_of: params::date("as_of", body.as_of.as_deref())?,
        llm_provider: body.llm_provider.filter(|p| !p.is_empty()),
        debate_rounds: body.debate_rounds,
        max_tokens: body.max_tokens,
    };
    let run = state.research.submit(submission).await?;
    Ok(HttpResponse::Accepted()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/research/runs/{}", run.id),
        ))
        .json(serde_json::json!({
            "id": run.id,
            "status": run.status,
            "as_of": run.request.as_of,
            "symbols": run.request.symbols,
            "analysts": run.request.analysts,
            "url": format!("/api/v1/research/runs/{}", run.id),
            "events_url": format!("/api/v1/research/runs/{}/events", run.id),
        })))
}
