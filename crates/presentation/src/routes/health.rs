//! `GET /health` (liveness), `GET /ready` (readiness) and `GET /api/v1/health` (database only,
//! for probes written against older deployments).

use actix_web::{HttpResponse, web};
use serde::Serialize;
use stockpilot_application::health::ReadinessReport;
use utoipa::ToSchema;

use crate::AppState;
use crate::openapi::ErrorBody;

crate::openapi::code_schema! {
    /// Always `ok` while the process serves requests.
    LiveStatusCode => ["ok"]
}
crate::openapi::code_schema! {
    /// `ready` when every required dependency is up, else `unready`.
    ReadyStatusCode => ["ready", "unready"]
}

/// The liveness body.
#[derive(Serialize, ToSchema)]
pub struct Liveness {
    #[schema(value_type = LiveStatusCode)]
    status: &'static str,
    /// The server's version.
    version: &'static str,
    /// Seconds since the process started.
    #[schema(minimum = 0)]
    uptime_seconds: u64,
}

/// Liveness probe.
///
/// Never touches a dependency: a slow database must not get a live instance restarted.
/// Public: no API key needed.
#[utoipa::path(
    get,
    path = "/health",
    tag = "health",
    operation_id = "get_health",
    responses(
        (status = 200, description = "The process is up.", body = Liveness),
    ),
)]
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(Liveness {
        status: "ok",
        version: state.version,
        uptime_seconds: state.health.uptime().as_secs(),
    })
}

/// The readiness verdict and each check behind it.
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    #[schema(value_type = ReadyStatusCode)]
    status: &'static str,
    #[serde(flatten)]
    report: ReadinessReport,
}

/// The body of a 503 from a readiness probe: the unready report, or the standard error body
/// when the request itself was shed or timed out.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum ReadinessFailure {
    Unready(Readiness),
    Error(ErrorBody),
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

/// Readiness probe.
///
/// Checks every dependency (each bounded by the probe timeout); 503 with `Retry-After: 5`
/// while a required one is down. Public: no API key needed.
#[utoipa::path(
    get,
    path = "/ready",
    tag = "health",
    operation_id = "get_ready",
    responses(
        (status = 200, description = "Every required dependency is up.", body = Readiness),
        (status = 503, description = "A required dependency is down (`status: unready`), or the \
            request timed out (`request_timeout` error body).", body = ReadinessFailure,
            headers(("Retry-After" = u64, description = "Seconds to wait before probing again"))),
    ),
)]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    readiness_response(state.health.readiness().await)
}

/// Database readiness probe.
///
/// Checks the database only, for probes written against older deployments. Public: no API
/// key needed; unlike `/health` and `/ready` it is rate- and concurrency-limited.
#[utoipa::path(
    get,
    path = "/api/v1/health",
    tag = "health",
    operation_id = "get_api_health",
    responses(
        (status = 200, description = "The database is up.", body = Readiness),
        (status = 429, description = "`rate_limited`: too many requests from this client.",
            body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until a retry may succeed"))),
        (status = 503, description = "The database is down (`status: unready`), or the server \
            is overloaded or timed out (`overloaded`, `request_timeout` error body).",
            body = ReadinessFailure,
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying"))),
    ),
)]
pub async fn api_health(state: web::Data<AppState>) -> HttpResponse {
    readiness_response(state.health.readiness_of(&["database"]).await)
}
