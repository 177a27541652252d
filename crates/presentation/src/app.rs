//! Assembles the actix `App`: shared state, body limits, middleware and routes.

use std::sync::Arc;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{Condition, from_fn};
use actix_web::{App, web};
use metrics_exporter_prometheus::PrometheusHandle;
use stockpilot_application::health::HealthService;
use stockpilot_application::market::MarketQueries;
use stockpilot_application::sync::SyncService;
use tokio::sync::Semaphore;

use crate::error::{ApiError, ErrorCode, json_error};
use crate::middleware::{
    AllowedHosts, ConcurrencyLimit, RequestTimeout, SecurityHeaders, allowed_host,
    concurrency_limit, request_context, request_timeout, security_headers,
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
    /// API keys and the audit log.
    pub auth: Arc<stockpilot_application::auth::AuthService>,
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
    /// `Host` names answered; empty = any.
    pub allowed_hosts: Vec<String>,
    /// Origins allowed cross-origin requests (`https://app.example.com`, or `*`); empty = none.
    pub cors_allowed_origins: Vec<String>,
}

/// Per-server shared pieces, created once and cloned into every worker's `App`.
#[derive(Clone)]
pub struct Shared {
    pub state: web::Data<AppState>,
    pub limit: web::Data<ConcurrencyLimit>,
    pub metrics: Option<web::Data<PrometheusHandle>>,
    /// Per-client rate limits; `None` = not limited.
    pub rate_limiting: Option<web::Data<crate::middleware::RateLimiting>>,
    /// API key checks; `None` = every route but the public ones is refused.
    pub authentication: Option<web::Data<crate::middleware::Authentication>>,
    pub trusted_proxies: web::Data<crate::middleware::TrustedProxies>,
}

impl Shared {
    pub fn new(state: AppState, max_concurrent: usize, metrics: Option<PrometheusHandle>) -> Self {
        Self {
            state: web::Data::new(state),
            limit: web::Data::new(ConcurrencyLimit(Arc::new(Semaphore::new(max_concurrent)))),
            metrics: metrics.map(web::Data::new),
            rate_limiting: None,
            authentication: None,
            trusted_proxies: web::Data::new(crate::middleware::TrustedProxies::default()),
        }
    }

    /// Checks API keys and roles (see `middleware::Authentication`).
    #[must_use]
    pub fn with_authentication(mut self, auth: crate::middleware::Authentication) -> Self {
        self.authentication = Some(web::Data::new(auth));
        self
    }

    /// Peers whose `X-Forwarded-For` is believed.
    #[must_use]
    pub fn with_trusted_proxies(mut self, proxies: Vec<crate::middleware::ProxyNet>) -> Self {
        self.trusted_proxies = web::Data::new(crate::middleware::TrustedProxies(proxies));
        self
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
        .wrap(from_fn(crate::middleware::authenticate))
        .wrap(Condition::new(
            !settings.cors_allowed_origins.is_empty(),
            cors(&settings.cors_allowed_origins),
        ))
        .wrap(from_fn(allowed_host))
        .wrap(from_fn(request_context))
        .wrap(from_fn(security_headers))
        .app_data(shared.trusted_proxies.clone())
        .app_data(web::Data::new(SecurityHeaders {
            hsts_max_age_secs: settings.hsts_max_age_secs,
        }))
        .configure(routes::configure);
    if !settings.allowed_hosts.is_empty() {
        app = app.app_data(web::Data::new(AllowedHosts(settings.allowed_hosts.clone())));
    }
    if let Some(limiting) = &shared.rate_limiting {
        app = app.app_data(limiting.clone());
    }
    if let Some(auth) = &shared.authentication {
        app = app.app_data(auth.clone());
    }
    if let (Some(path), Some(handle)) = (&settings.metrics_path, &shared.metrics) {
        app = app
            .app_data(handle.clone())
            .route(path, web::get().to(routes::metrics::render));
    }
    app.default_service(web::to(not_found))
}

/// Cross-origin access for the listed origins (`*` = any origin; credentials are never
/// allowed, so a wildcard cannot expose a browser's cookies).
fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::HeaderName::from_static("x-api-key"),
            header::HeaderName::from_static("last-event-id"),
            header::HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            header::HeaderName::from_static("x-request-id"),
            header::RETRY_AFTER,
            header::LOCATION,
            header::HeaderName::from_static("ratelimit-limit"),
            header::HeaderName::from_static("ratelimit-remaining"),
            header::HeaderName::from_static("ratelimit-reset"),
        ])
        .max_age(3600);
    for origin in origins {
        cors = if origin == "*" {
            cors.allow_any_origin()
        } else {
            cors.allowed_origin(origin.trim_end_matches('/'))
        };
    }
    cors
}

async fn not_found(req: actix_web::HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::new(
        ErrorCode::NotFound,
        format!("no route for {} {}", req.method(), req.path()),
    ))
}
