//! The REST API of stockpilot (actix-web): routes, handlers, DTOs, the error mapping to HTTP
//! and the middleware every request passes through (request id, metrics, limits).

mod app;
pub mod error;
pub mod middleware;
mod params;
pub mod routes;

pub use app::{AppState, HttpSettings, Shared, app};
pub use error::{ApiError, ErrorCode};
