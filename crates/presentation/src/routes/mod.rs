//! Routes, one handler per file, grouped by resource.

pub mod calendar;
pub mod health;
pub mod instruments;
pub mod llm;
pub mod metrics;
pub mod research;
pub mod sync;

use actix_web::web;

/// Every API route. Each path is one `web::resource`, so a wrong method gets 405 (with the
/// standard error body) rather than falling through to 404.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/health").route(web::get().to(health::health)))
        .service(web::resource("/ready").route(web::get().to(health::ready)))
        .service(web::resource("/api/v1/health").route(web::get().to(health::api_health)))
        .service(
            web::resource("/api/v1/instruments").route(web::get().to(instruments::list::handle)),
        )
        .service(
            web::resource("/api/v1/instruments/{symbol}")
                .route(web::get().to(instruments::get::handle)),
        )
        .service(
            web::resource("/api/v1/instruments/{symbol}/bars")
                .route(web::get().to(instruments::bars::handle)),
        )
        .service(
            web::resource("/api/v1/instruments/{symbol}/valuations")
                .route(web::get().to(instruments::valuations::handle)),
        )
        .service(
            web::resource("/api/v1/instruments/{symbol}/financials")
                .route(web::get().to(instruments::financials::handle)),
        )
        .service(
            web::resource("/api/v1/instruments/{symbol}/indicators")
                .route(web::get().to(instruments::indicators::handle)),
        )
        .service(
            web::resource("/api/v1/calendar/{exchange}").route(web::get().to(calendar::handle)),
        )
        .service(
            web::resource("/api/v1/sync/jobs")
                .route(web::get().to(sync::list::handle))
                .route(web::post().to(sync::create::handle)),
        )
        .service(web::resource("/api/v1/sync/jobs/{id}").route(web::get().to(sync::get::handle)))
        .service(
            web::resource("/api/v1/sync/jobs/{id}/cancel")
                .route(web::post().to(sync::cancel::handle)),
        )
        .service(
            web::resource("/api/v1/sync/failures").route(web::get().to(sync::failures::handle)),
        )
        .service(
            web::resource("/api/v1/sync/failures/retry").route(web::post().to(sync::retry::handle)),
        )
        .service(
            web::resource("/api/v1/llm/providers")
                .route(web::get().to(llm::providers::list))
                .route(web::post().to(llm::providers::create)),
        )
        .service(
            web::resource("/api/v1/llm/providers/{name}")
                .route(web::get().to(llm::providers::get))
                .route(web::patch().to(llm::providers::update))
                .route(web::delete().to(llm::providers::delete)),
        )
        .service(
            web::resource("/api/v1/llm/providers/{name}/test")
                .route(web::post().to(llm::providers::test)),
        )
        .service(web::resource("/api/v1/llm/chat").route(web::post().to(llm::chat::handle)))
        .service(web::resource("/api/v1/llm/web-search").route(web::post().to(llm::search::handle)))
        .service(web::resource("/api/v1/llm/usage").route(web::get().to(llm::usage::handle)))
        .service(
            web::resource("/api/v1/research/runs")
                .route(web::get().to(research::list::handle))
                .route(web::post().to(research::create::handle)),
        )
        .service(
            web::resource("/api/v1/research/runs/{id}").route(web::get().to(research::get::handle)),
        )
        .service(
            web::resource("/api/v1/research/runs/{id}/events")
                .route(web::get().to(research::events::handle)),
        )
        .service(
            web::resource("/api/v1/research/runs/{id}/cancel")
                .route(web::post().to(research::cancel::handle)),
        )
        .service(
            web::resource("/api/v1/research/analysts")
                .route(web::get().to(research::analysts::handle)),
        );
}
