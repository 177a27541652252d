//! The REST API of stockpilot (actix-web): routes, handlers, DTOs, the error mapping to HTTP,
//! the middleware every request passes through (request id, authentication, audit, limits) and
//! the OpenAPI document describing it all.

mod app;
pub mod error;
pub mod middleware;
pub mod openapi;
mod params;
pub mod routes;
pub mod server;

pub use app::{AppState, HttpSettings, Shared, app};
pub use error::{ApiError, ErrorCode};
pub use server::serve;
