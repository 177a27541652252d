//! `GET /api/v1/research/analysts`: the analyst catalogue.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use stockpilot_application::research::AnalystInfo;
use utoipa::ToSchema;

use crate::AppState;
use crate::openapi::ProtectedErrors;

/// The analysts a run may name.
#[derive(Serialize, ToSchema)]
#[schema(as = AnalystCatalogue)]
pub struct Catalogue {
    pub analysts: Vec<AnalystInfo>,
}

/// List research analysts.
///
/// The analyst catalogue: each analyst's name, kind (quantitative or LLM) and whether it is in
/// the default set.
#[utoipa::path(
    get,
    path = "/api/v1/research/analysts",
    tag = "research",
    operation_id = "list_research_analysts",
    responses(
        (status = 200, description = "The catalogue.", body = Catalogue),
        ProtectedErrors,
    ),
)]
pub async fn handle(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(Catalogue {
        analysts: state.research.catalogue(),
    })
}
