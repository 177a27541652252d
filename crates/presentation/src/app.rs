//! Assembles the actix `App`: shared state, body limits, middleware and routes.

use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{App, web};
use metrics_exporter_prometheus::PrometheusHandle;
use stockpilot_application::health::HealthService;
use stockpilot_application::market::MarketQueries;
use stockpilot_application::sync::SyncService;
use tokio::sync::Semaphore;

use crate::error::{ApiError, ErrorCode, json_error};
use crate::middleware::{
    ConcurrencyLimit, RequestTimeout, concurrency_limit, request_context, request_timeout,
};
use crate::routes;

/// What handlers share.
pub struct AppState {
    pub version: &'static str,
    pub health: HealthService,
    pub market: Arc<MarketQueries>,
    pub sync: Arc<SyncService>,
    pub llm: Arc<stockpilot_application::llm::LlmRegistry>,
    /// Web search, when a search provider is configured.
    pub search: Option<Arc<dyn stockpilot_application::ports::WebSearch>>,
    pub research: Arc<stockpilot_application::research::ResearchService>,
}

/// HTTP limits from configuration.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    /// Metrics on the main port at this path, when `Some`.
    pub metrics_path: Option<String>,
    /// `Strict-Transport-Security` max-age, when `Some`.
    pub hsts_max_age_secs: Option<u64>,
}

/// Per-server shared pieces, created once and cloned into every worker's `App`.
#[derive(Clone)]
pub struct Shared {
    pub state: web::Data<AppState>,
    pub limit: web::Data<ConcurrencyLimit>,
    pub metrics: Option<web::Data<PrometheusHandle>>,
    /// Per-client rate limits; `None` = not limited.
    pub rate_limiting: Option<web::Data<crate::middleware::RateLimiting>>,
}

impl Shared {
    pub fn new(state: AppState, max_concurrent: usize, metrics: Option<PrometheusHandle>) -> Self {
        Self {
            state: web::Data::new(state),
            limit: web::Data::new(ConcurrencyLimit(Arc::new(Semaphore::new(max_concurrent)))),
            metrics: metrics.map(web::Data::new),
            rate_limiting: None,
        }
    }

    /// Limits every client per route group (see `middleware::RateLimiting`).
    #[must_use]
    pub fn with_rate_limiting(mut self, limiting: crate::middleware::RateLimiting) -> Self {
        self.rate_limiting = Some(web::Data::new(limiting));
        self
    }
}

/// The application for one worker.
pub fn app(
    shared: &Shared,
    settings: &HttpSettings,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody + use<>>,
        Error = actix_web::Error,
        InitError = (),
    > + use<>,
> {
    let limit = settings.max_body_bytes;
    let json = web::JsonConfig::default()
        .limit(limit)
        .error_handler(move |err, _req| json_error(&err, limit).into());
    let mut app = App::new()
        .app_data(shared.state.clone())
        .app_data(shared.limit.clone())
        .app_data(web::Data::new(RequestTimeout(settings.request_timeout)))
        .app_data(json)
        .app_data(web::PayloadConfig::default().limit(limit))
        .app_data(web::QueryConfig::default().error_handler(|err, _req| {
            ApiError::new(
                ErrorCode::ValidationFailed,
                format!("invalid query string: {err}"),
            )
            .into()
        }))
        .app_data(web::PathConfig::default().error_handler(|err, _req| {
            ApiError::new(ErrorCode::ValidationFailed, format!("invalid path: {err}")).into()
        }))
        .wrap(from_fn(request_timeout))
        .wrap(from_fn(concurrency_limit))
        .wrap(from_fn(crate::middleware::rate_limit))
        .wrap(from_fn(request_context))
        .wrap(security_headers(settings.hsts_max_age_secs))
        .configure(routes::configure);
    if let Some(limiting) = &shared.rate_limiting {
        app = app.app_data(limiting.clone());
    }
    if let (Some(path), Some(handle)) = (&settings.metrics_path, &shared.metrics) {
        app = app
            .app_data(handle.clone())
            .route(path, web::get().to(routes::metrics::render));
    }
    app.default_service(web::to(not_found))
}

/// Headers every response carries: no MIME sniffing, no framing, no referrer, a CSP that
/// allows nothing (the API serves JSON and event streams only), and HSTS when configured.
fn security_headers(hsts_max_age_secs: Option<u64>) -> actix_web::middleware::DefaultHeaders {
    let headers = actix_web::middleware::DefaultHeaders::new()
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "no-referrer"))
        .add((
            "Content-Security-Policy",
            "default-src 'none'; frame-ancestors 'none'",
        ));
    match hsts_max_age_secs {
        Some(age) => headers.add((
            "Strict-Transport-Security",
            format!("max-age={age}; includeSubDomains"),
        )),
        None => headers,
    }
}

async fn not_found(req: actix_web::HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::new(
        ErrorCode::NotFound,
        format!("no route for {} {}", req.method(), req.path()),
    ))
}
