//! Request id, tracing span and HTTP metrics, and the guarantee that every error response
//! has the standard JSON body — including the ones actix produces itself (404, 405, 413).

use std::time::Instant;

use actix_web::HttpResponse;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

use crate::error::{ApiError, ErrorCode};

pub const REQUEST_ID_HEADER: &str = "x-request-id";

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled on this task, if any.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// An incoming id is kept only if it is short and plain, so it is safe in logs and headers.
fn accept_incoming(value: &HeaderValue) -> Option<String> {
    let text = value.to_str().ok()?;
    let ok = (1..=128).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    ok.then(|| text.to_owned())
}

pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let request_id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(accept_incoming)
        .unwrap_or_else(|| uuid::Uuid::now_v7().simple().to_string());
    let method = req.method().to_string();
    let span = tracing::info_span!(
        "http_request",
        request_id = %request_id,
        method = %method,
        path = %req.path(),
        route = tracing::field::Empty,
        status = tracing::field::Empty,
    );
    let started = Instant::now();
    let mut in_flight = InFlight::start(span.clone(), started);

    let id = request_id.clone();
    let outcome = REQUEST_ID
        .scope(id.clone(), next.call(req).instrument(span.clone()))
        .await;

    let mut res = match outcome {
        Ok(res) => res.map_into_boxed_body(),
        Err(err) => {
            // An error that escaped the handler chain (e.g. the timeout). The request cannot be
            // held here (routing needs it unshared), so render the response now, inside the
            // request's scope so its body carries the request id, and hand it back as is.
            let mut rendered = REQUEST_ID.sync_scope(id.clone(), || err.error_response());
            if let Ok(v) = HeaderValue::from_str(&id) {
                rendered
                    .headers_mut()
                    .insert(HeaderName::from_static(REQUEST_ID_HEADER), v);
            }
            let status = rendered.status().as_u16();
            record(&method, "<unmatched>", status, started);
            span.record("status", status);
            in_flight.completed("<unmatched>", status);
            return Err(actix_web::error::InternalError::from_response(err, rendered).into());
        }
    };
    let status = res.status();
    if (status.is_client_error() || status.is_server_error()) && !is_json(&res) {
        let code = ErrorCode::for_status(status);
        let message = match code {
            ErrorCode::NotFound => format!(
                "no route for {} {}",
                res.request().method(),
                res.request().path()
            ),
            ErrorCode::MethodNotAllowed => {
                format!(
                    "method {} is not allowed on {}",
                    res.request().method(),
                    res.request().path()
                )
            }
            ErrorCode::PayloadTooLarge => "request body too large".to_owned(),
            _ => status.canonical_reason().unwrap_or("error").to_lowercase(),
        };
        let body = ApiError::new(code, message).body_json(Some(id.clone()));
        let allow = res.headers().get(header::ALLOW).cloned();
        let retry = res.headers().get(header::RETRY_AFTER).cloned();
        let mut rebuilt = HttpResponse::build(status);
        rebuilt.insert_header((header::CONTENT_TYPE, "application/json"));
        if let Some(a) = allow {
            rebuilt.insert_header((header::ALLOW, a));
        }
        if let Some(r) = retry {
            rebuilt.insert_header((header::RETRY_AFTER, r));
        }
        res = res.into_response(rebuilt.body(body));
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), v);
    }

    // The pattern is known only after routing; unmatched paths share one label so raw paths
    // never become metric labels.
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "<unmatched>".to_owned());
    span.record("route", route.as_str());
    let status = res.status().as_u16();
    span.record("status", status);
    record(&method, &route, status, started);
    in_flight.completed(&route, status);
    Ok(res)
}

/// Status logged for a request whose client went away before its answer (nginx's 499).
pub const CLIENT_CLOSED_REQUEST: u16 = 499;

/// One request in progress: counted in the in-flight gauge until dropped, and logged exactly
/// once — with its status when it completes, or, when actix drops the request because its
/// client disconnected, with status 499 when the guard goes.
struct InFlight {
    span: tracing::Span,
    started: Instant,
    logged: bool,
}

impl InFlight {
    fn start(span: tracing::Span, started: Instant) -> Self {
        metrics::gauge!("stockpilot_http_requests_in_flight").increment(1.0);
        Self {
            span,
            started,
            logged: false,
        }
    }

    fn completed(&mut self, route: &str, status: u16) {
        self.logged = true;
        let latency_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        self.span.in_scope(|| {
            // Successful liveness and readiness probes arrive every few seconds from every
            // orchestrator and load balancer; at `info` they would drown the requests that
            // matter.
            if is_probe(route) && (200..300).contains(&status) {
                tracing::debug!(status, latency_ms, "request completed");
            } else {
                tracing::info!(status, latency_ms, "request completed");
            }
        });
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics::gauge!("stockpilot_http_requests_in_flight").decrement(1.0);
        if !self.logged {
            let latency_ms = self.started.elapsed().as_secs_f64() * 1000.0;
            self.span.record("status", CLIENT_CLOSED_REQUEST);
            self.span.in_scope(|| {
                tracing::info!(
                    status = CLIENT_CLOSED_REQUEST,
                    latency_ms,
                    cancelled = true,
                    "request completed"
                );
            });
        }
    }
}

/// The probe routes whose successful answers are logged at `debug`.
fn is_probe(route: &str) -> bool {
    matches!(route, "/health" | "/ready")
}

/// Registers, at zero, the HTTP series that alert rules and dashboards read, so `rate()` and
/// `increase()` work from the first scrape: per route of the table its request-duration
/// histogram and its request count for every 5xx status the API answers with, and the
/// load-shedding and rate-limit counters (per group).
pub fn register_metrics() {
    let mut server_errors: Vec<u16> = crate::ErrorCode::ALL
        .iter()
        .map(|c| c.status().as_u16())
        .filter(|s| *s >= 500)
        .collect();
    server_errors.sort_unstable();
    server_errors.dedup();
    for spec in crate::routes::table().specs() {
        let (method, route) = (spec.method.as_str(), spec.path);
        for status in &server_errors {
            let counted = [
                ("method", method.to_owned()),
                ("route", route.to_owned()),
                ("status", status.to_string()),
            ];
            metrics::counter!("stockpilot_http_requests_total", &counted).increment(0);
        }
        let labels = [("method", method.to_owned()), ("route", route.to_owned())];
        // A registered histogram is exported with zero counts until its first sample.
        let _ = metrics::histogram!("stockpilot_http_request_duration_seconds", &labels);
    }
    metrics::counter!("stockpilot_http_overloaded_total").increment(0);
    for group in crate::routes::Group::ALL.iter().map(|g| g.as_str()) {
        metrics::counter!("stockpilot_rate_limited_total", "group" => group).increment(0);
    }
}

fn record(method: &str, route: &str, status: u16, started: Instant) {
    let labels = [("method", method.to_owned()), ("route", route.to_owned())];
    let counted = [
        ("method", method.to_owned()),
        ("route", route.to_owned()),
        ("status", status.to_string()),
    ];
    metrics::counter!("stockpilot_http_requests_total", &counted).increment(1);
    metrics::histogram!("stockpilot_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
}

fn is_json(res: &ServiceResponse<BoxBody>) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}
