//! `GET /health` (liveness), `GET /ready` (readiness) and `GET /api/v1/health` (database only,
//! for probes written against older deployments).

use actix_web::{HttpResponse, web};
use serde::Serialize;
use stockpilot_application::health::ReadinessReport;

use crate::AppState;

#[derive(Serialize)]
struct Liveness {
    status: &'static str,
    version: &'static str,
    uptime_seconds: u64,
}

/// Never touches a dependency: a slow database must not get a live instance restarted.
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(Liveness {
        status: "ok",
        version: state.version,
        uptime_seconds: state.health.uptime().as_secs(),
    })
}

#[derive(Serialize)]
struct Readiness {
    status: &'static str,
    #[serde(flatten)]
    report: ReadinessReport,
}

fn readiness_response(report: ReadinessReport) -> HttpResponse {
    let body = Readiness {
        status: if report.ready { "ready" } else { "unready" },
        report,
    };
    if body.report.ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable()
            .insert_header(("Retry-After", "5"))
            .json(body)
    }
}

pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    readiness_response(state.health.readiness().await)
}

pub async fn api_health(state: web::Data<AppState>) -> HttpResponse {
    readiness_response(state.health.readiness_of(&["database"]).await)
}
