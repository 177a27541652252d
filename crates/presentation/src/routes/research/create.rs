//! `POST /api/v1/research/runs` `{symbols, analysts?, as_of?, llm_provider?, debate_rounds?, max_tokens?}` → 202.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use stockpilot_application::RunId;
use stockpilot_application::research::Submission;
use stockpilot_application::research::model::RunStatus;
use stockpilot_domain::market::Symbol;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::ApiError;
use crate::openapi::{JsonBodyErrors, ProtectedErrors};
use crate::params;

/// A research run to queue.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateResearchRun)]
pub struct Body {
    /// 1–20 distinct symbols the database knows.
    #[schema(value_type = Vec<Symbol>, min_items = 1, max_items = 20)]
    symbols: Vec<String>,
    /// Analyst names from `GET /api/v1/research/analysts`, each once; by default the catalogue's
    /// default set.
    #[schema(min_items = 1)]
    analysts: Option<Vec<String>>,
    /// The date the analysis is as of (`YYYY-MM-DD`, not in the future); by default the newest
    /// stored bar.
    #[schema(value_type = Option<NaiveDate>)]
    as_of: Option<String>,
    /// A configured LLM provider by name; by default the gateway's order.
    llm_provider: Option<String>,
    /// Bull/bear debate rounds (the `debate` analyst needs 1 or more); 0 by default.
    #[schema(minimum = 0, maximum = 5)]
    debate_rounds: Option<u8>,
    /// Token budget of the run's LLM calls; from configuration by default.
    #[schema(minimum = 1, maximum = 10000000)]
    max_tokens: Option<u64>,
}

/// A queued run and where to follow it.
#[derive(Serialize, ToSchema)]
#[schema(as = ResearchRunCreated)]
pub struct Created {
    #[schema(value_type = String)]
    pub id: RunId,
    pub status: RunStatus,
    /// The date the analysis is as of (resolved when not given).
    pub as_of: NaiveDate,
    #[schema(value_type = Vec<String>)]
    pub symbols: Vec<Symbol>,
    /// The analysts, in catalogue order.
    pub analysts: Vec<String>,
    /// `/api/v1/research/runs/{id}`.
    pub url: String,
    /// `/api/v1/research/runs/{id}/events`.
    pub events_url: String,
}

/// Create a research run.
///
/// Validates the request (every problem at once) and queues a run: analysts form views of each
/// symbol, then a decision per symbol; follow it at `url` or stream its events from
/// `events_url`.
#[utoipa::path(
    post,
    path = "/api/v1/research/runs",
    tag = "research",
    operation_id = "create_research_run",
    request_body = Body,
    responses(
        (status = 202, description = "The run, queued.", body = Created,
            headers(("Location" = String, description = "The run's URL"))),
        JsonBodyErrors,
        ProtectedErrors,
    ),
)]
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
        .json(Created {
            url: format!("/api/v1/research/runs/{}", run.id),
            events_url: format!("/api/v1/research/runs/{}/events", run.id),
            id: run.id,
            status: run.status,
            as_of: run.request.as_of,
            symbols: run.request.symbols,
            analysts: run.request.analysts,
        }))
}
