//! Middleware every request passes through, outermost first: request context (request id,
//! tracing span, metrics, uniform error bodies) → rate limit → concurrency limit → timeout.

mod context;
mod limits;
mod rate_limit;

pub use context::{REQUEST_ID_HEADER, current_request_id, request_context};
pub use limits::{ConcurrencyLimit, RequestTimeout, concurrency_limit, request_timeout};
pub use rate_limit::{ProxyNet, RateLimiting, RateLimits, client_ip, rate_limit};
