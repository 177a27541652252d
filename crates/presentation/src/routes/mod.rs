//! Routes, one handler per file, grouped by resource.

pub mod health;
pub mod metrics;

use actix_web::web;

/// Every API route. Each path is one `web::resource`, so a wrong method gets 405 (with the
/// standard error body) rather than falling through to 404.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/health").route(web::get().to(health::health)))
        .service(web::resource("/ready").route(web::get().to(health::ready)))
        .service(web::resource("/api/v1/health").route(web::get().to(health::api_health)));
}
