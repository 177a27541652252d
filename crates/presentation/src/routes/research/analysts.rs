//! `GET /api/v1/research/analysts`: the analyst catalogue.

use actix_web::{HttpResponse, web};

use crate::AppState;

pub async fn handle(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "analysts": state.research.catalogue() }))
}
