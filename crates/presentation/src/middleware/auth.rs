//! Authentication by API key, the role each route needs (from `routes::table`), and the audit
//! record of every state-changing request, allowed or not.
//!
//! A key comes as `Authorization: Bearer sp_live_…` or `X-API-Key: sp_live_…`. No key: 401.
//! Unknown or revoked key: 401. A role below the route's: 403. Public routes (probes, the API
//! description, the docs UI) and unmatched paths (404/405) need no key.

use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use stockpilot_application::AppError;
use stockpilot_application::auth::{AuditEntry, AuditOutcome, AuthService, Principal, Role};

use super::context::current_request_id;
use super::rate_limit::request_client_ip;
use crate::error::{ApiError, ErrorCode};
use crate::routes::{self, Access};

/// Authentication as the middleware finds it in app data.
#[derive(Clone)]
pub struct Authentication {
    pub service: Arc<AuthService>,
    /// `false` only for local development: every caller is an admin.
    pub enabled: bool,
    /// Metrics on the main port at this path, when `Some`.
    pub metrics_path: Option<String>,
    /// Whether that path needs no key (else: `operator`).
    pub metrics_public: bool,
}

/// The key in `Authorization: Bearer …` or `X-API-Key`.
fn presented_key(headers: &HeaderMap) -> Option<&str> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
    bearer
        .or_else(|| {
            headers
                .get("x-api-key")
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        })
        .filter(|t| !t.is_empty())
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(ErrorCode::Unauthorized, message)
}

/// What the route needs, if the request matched one (the metrics path only exists with
/// authentication configured).
fn needed(
    req: &ServiceRequest,
    auth: Option<&Authentication>,
) -> Option<(Access, &'static str, bool)> {
    if let Some(auth) = auth.filter(|a| a.metrics_path.as_deref() == Some(req.path())) {
        let access = if auth.metrics_public {
            Access::Public
        } else {
            Access::Role(Role::Operator)
        };
        return Some((access, "metrics", false));
    }
    routes::matched(req).map(|s| (s.access, s.action, s.is_write()))
}

/// Who is calling (when known) and whether they may: the error when not.
async fn check(
    req: &ServiceRequest,
    auth: &Authentication,
    needed: Role,
) -> (Option<Principal>, Option<ApiError>) {
    match identify(req, auth).await {
        Err(e) => (None, Some(e)),
        Ok(p) if !p.role.allows(needed) => {
            let e = ApiError::new(
                ErrorCode::Forbidden,
                format!(
                    "this route needs the '{needed}' role; key '{}' has '{}'",
                    p.name, p.role
                ),
            );
            (Some(p), Some(e))
        }
        Ok(p) => (Some(p), None),
    }
}

/// The caller the presented key belongs to.
async fn identify(req: &ServiceRequest, auth: &Authentication) -> Result<Principal, ApiError> {
    if !auth.enabled {
        return Ok(Principal::unauthenticated_admin());
    }
    let Some(token) = presented_key(req.headers()) else {
        return Err(unauthorized(
            "an API key is required: send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
        ));
    };
    let principal = match auth.service.authenticate(token).await {
        Ok(p) => p,
        Err(AppError::Unauthorized(message)) => return Err(unauthorized(&message)),
        Err(e @ AppError::DatabaseUnavailable(_)) => return Err(e.into()),
        Err(e) => {
            tracing::error!(error = %e, "API key check failed");
            return Err(ApiError::new(
                ErrorCode::ServiceUnavailable,
                "the API key cannot be checked right now; retry shortly",
            )
            .with_retry_after(1));
        }
    };
    Ok(principal)
}

pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let auth = req.app_data::<web::Data<Authentication>>().cloned();
    // Unmatched paths (404/405) and public routes pass.
    let Some((Access::Role(role), action, is_write)) =
        needed(&req, auth.as_ref().map(|a| a.get_ref()))
    else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    // Without authentication configured nothing but public routes is served.
    let Some(auth) = auth else {
        return Ok(req.error_response(unauthorized("authentication is not configured")));
    };
    let (principal, refusal) = check(&req, &auth, role).await;
    let audit = is_write.then(|| AuditEntry {
        id: 0,
        at: auth.service.now(),
        key_id: principal.as_ref().and_then(|p| p.key_id),
        key_name: principal.as_ref().map(|p| p.name.clone()),
        role: principal.as_ref().map(|p| p.role),
        action: action.to_owned(),
        target: req.path().to_owned(),
        client_ip: request_client_ip(&req).map(|ip| ip.to_string()),
        request_id: current_request_id(),
        outcome: AuditOutcome::Failed,
        status: None,
    });
    let res = match (principal, refusal) {
        (Some(p), None) => {
            req.extensions_mut().insert(p);
            next.call(req).await?.map_into_boxed_body()
        }
        (_, refusal) => {
            let e = refusal.unwrap_or_else(|| unauthorized("not authenticated"));
            let unauthorized = e.code == ErrorCode::Unauthorized;
            let mut res = req.error_response(e);
            if unauthorized {
                res.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"stockpilot\""),
                );
            }
            res
        }
    };
    if let Some(mut entry) = audit {
        let status = res.status().as_u16();
        // A created resource is the target: its id is in `Location`.
        if let Some(location) = res
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
        {
            location.clone_into(&mut entry.target);
        }
        entry.outcome = AuditOutcome::of_status(status);
        entry.status = Some(status);
        auth.service.record(entry).await;
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                header::HeaderName::from_static(k),
                HeaderValue::from_static(v),
            );
        }
        h
    }

    #[test]
    fn keys_are_read_from_bearer_or_x_api_key() {
        assert_eq!(
            presented_key(&headers(&[("authorization", "Bearer sp_live_1")])),
            Some("sp_live_1")
        );
        assert_eq!(
            presented_key(&headers(&[("authorization", "bearer  sp_live_2 ")])),
            Some("sp_live_2")
        );
        assert_eq!(
            presented_key(&headers(&[("x-api-key", "sp_live_3")])),
            Some("sp_live_3")
        );
        assert_eq!(
            presented_key(&headers(&[("authorization", "Basic abc")])),
            None
        );
        assert_eq!(presented_key(&headers(&[("x-api-key", "  ")])), None);
        assert_eq!(presented_key(&headers(&[])), None);
    }
}
