//! Middleware every request passes through, outermost first: request context (request id,
//! tracing span, metrics, uniform error bodies) → authentication and audit → rate limit →
//! concurrency limit → timeout.

mod auth;
mod context;
mod headers;
mod limits;
mod rate_limit;

pub use auth::{Authentication, authenticate};
pub use context::{REQUEST_ID_HEADER, current_request_id, register_metrics, request_context};
pub use headers::{AllowedHosts, SecurityHeaders, allowed_host, security_headers};
pub use limits::{ConcurrencyLimit, RequestTimeout, concurrency_limit, request_timeout};
pub use rate_limit::{
    ProxyNet, RateLimitConfig, RateLimiting, RateLimits, TrustedProxies, client_ip, rate_limit,
    request_client_ip,
};
