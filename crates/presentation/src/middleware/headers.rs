//! Security headers on every response, and the trusted `Host` list.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;

use crate::error::{ApiError, ErrorCode};

/// The API serves JSON and event streams: nothing may load or frame anything.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";
/// The docs UI loads its own scripts, styles and images, and nothing else.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

/// Header settings, as app data.
#[derive(Debug, Clone, Default)]
pub struct SecurityHeaders {
    /// `Strict-Transport-Security` max-age, when `Some`.
    pub hsts_max_age_secs: Option<u64>,
}

/// Adds nosniff, frame deny, no referrer, a CSP (a looser one for the docs UI) and HSTS when
/// configured, unless the handler set them itself.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let hsts = req
        .app_data::<web::Data<SecurityHeaders>>()
        .and_then(|s| s.hsts_max_age_secs);
    let docs = req.path() == "/docs" || req.path().starts_with("/docs/");
    let mut res = next.call(req).await?.map_into_boxed_body();
    let headers = res.headers_mut();
    let mut set = |name: &'static str, value: HeaderValue| {
        let name = HeaderName::from_static(name);
        if !headers.contains_key(&name) {
            headers.insert(name, value);
        }
    };
    set(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    set("x-frame-options", HeaderValue::from_static("DENY"));
    set("referrer-policy", HeaderValue::from_static("no-referrer"));
    set(
        "content-security-policy",
        HeaderValue::from_static(if docs { DOCS_CSP } else { API_CSP }),
    );
    if let Some(age) = hsts
        && let Ok(value) = HeaderValue::from_str(&format!("max-age={age}; includeSubDomains"))
    {
        set("strict-transport-security", value);
    }
    Ok(res)
}

/// Host names this server answers to (`api.example.com`, `localhost`); empty = any.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts(pub Vec<String>);

impl AllowedHosts {
    /// Whether a `Host` header value (with or without port) is allowed.
    pub fn allows(&self, host: &str) -> bool {
        if self.0.is_empty() {
            return true;
        }
        let name = if let Some(rest) = host.strip_prefix('[') {
            rest.split(']').next().unwrap_or_default()
        } else if host.matches(':').count() == 1 {
            host.split(':').next().unwrap_or_default()
        } else {
            host
        };
        self.0.iter().any(|allowed| {
            allowed.eq_ignore_ascii_case(name)
                || allowed.strip_prefix('.').is_some_and(|suffix| {
                    name.len() > suffix.len()
                        && name
                            .to_ascii_lowercase()
                            .ends_with(&format!(".{}", suffix.to_ascii_lowercase()))
                })
        })
    }
}

/// Requests for a `Host` outside the list get 400 `host_not_allowed` (probes are exempt: an
/// orchestrator calls them by pod address).
pub async fn allowed_host(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let refused = match req.app_data::<web::Data<AllowedHosts>>() {
        Some(hosts) if !["/health", "/ready"].contains(&req.path()) => {
            // The Host header itself: forwarded host headers are client-controlled.
            let host = req
                .headers()
                .get(actix_web::http::header::HOST)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .or_else(|| req.uri().host().map(str::to_owned))
                .unwrap_or_default();
            (!hosts.allows(&host)).then_some(host)
        }
        _ => None,
    };
    if let Some(host) = refused {
        let shown: String = host.chars().take(100).collect();
        return Ok(req.error_response(ApiError::new(
            ErrorCode::HostNotAllowed,
            format!("this server does not answer for host '{shown}'"),
        )));
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_match_by_name_with_or_without_port_and_by_suffix() {
        let hosts = AllowedHosts(vec![
            "api.example.com".into(),
            ".internal".into(),
            "::1".into(),
        ]);
        assert!(hosts.allows("api.example.com"));
        assert!(hosts.allows("API.example.com:8080"));
        assert!(hosts.allows("svc.internal"));
        assert!(hosts.allows("a.b.internal:80"));
        assert!(!hosts.allows("internal"));
        assert!(!hosts.allows("evil.com"));
        assert!(!hosts.allows("api.example.com.evil.com"));
        assert!(!hosts.allows("evilinternal"));
        assert!(hosts.allows("[::1]:8080"));
        assert!(AllowedHosts::default().allows("anything"));
    }
}
