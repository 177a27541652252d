//! Routes, one handler per file, grouped by resource, and the one table that says who may
//! call each of them.

pub mod admin;
pub mod calendar;
pub mod health;
pub mod instruments;
pub mod llm;
pub mod metrics;
pub mod research;
pub mod sync;

mod registry;

use std::sync::LazyLock;

use actix_web::web;
use stockpilot_application::auth::Role;

use registry::Registrar;
pub use registry::{Access, DocumentOperation, Group, PathDoc, RouteSpec, RouteTable};

const PUBLIC: Access = Access::Public;
const READER: Access = Access::Role(Role::Reader);
const ANALYST: Access = Access::Role(Role::Analyst);
const OPERATOR: Access = Access::Role(Role::Operator);
const ADMIN: Access = Access::Role(Role::Admin);

/// The one list of routes: what `configure` registers, what authentication, the audit log and
/// the rate limiter enforce, and what the API document describes. Each route's method and path
/// come from its handler's `#[utoipa::path]`.
fn register(r: &mut Registrar) {
    r.route(health::__path_health, PUBLIC, "health.live", health::health)
        .route(health::__path_ready, PUBLIC, "health.ready", health::ready)
        .route(
            health::__path_api_health,
            PUBLIC,
            "health.api",
            health::api_health,
        )
        .route(
            crate::openapi::__path_openapi_json,
            PUBLIC,
            "openapi.document",
            crate::openapi::openapi_json,
        )
        .route(
            instruments::list::__path_handle,
            READER,
            "instruments.list",
            instruments::list::handle,
        )
        .route(
            instruments::get::__path_handle,
            READER,
            "instruments.get",
            instruments::get::handle,
        )
        .route(
            instruments::bars::__path_handle,
            READER,
            "instruments.bars",
            instruments::bars::handle,
        )
        .route(
            instruments::valuations::__path_handle,
            READER,
            "instruments.valuations",
            instruments::valuations::handle,
        )
        .route(
            instruments::financials::__path_handle,
            READER,
            "instruments.financials",
            instruments::financials::handle,
        )
        .route(
            instruments::indicators::__path_handle,
            READER,
            "instruments.indicators",
            instruments::indicators::handle,
        )
        .route(
            calendar::__path_handle,
            READER,
            "calendar.get",
            calendar::handle,
        )
        .route(
            sync::list::__path_handle,
            READER,
            "sync.job.list",
            sync::list::handle,
        )
        .route(
            sync::create::__path_handle,
            OPERATOR,
            "sync.job.create",
            sync::create::handle,
        )
        .route(
            sync::get::__path_handle,
            READER,
            "sync.job.get",
            sync::get::handle,
        )
        .route(
            sync::cancel::__path_handle,
            OPERATOR,
            "sync.job.cancel",
            sync::cancel::handle,
        )
        .route(
            sync::failures::__path_handle,
            READER,
            "sync.failure.list",
            sync::failures::handle,
        )
        .route(
            sync::retry::__path_handle,
            OPERATOR,
            "sync.failure.retry",
            sync::retry::handle,
        )
        .route(
            llm::providers::__path_list,
            READER,
            "llm.provider.list",
            llm::providers::list,
        )
        .route(
            llm::providers::__path_create,
            ADMIN,
            "llm.provider.create",
            llm::providers::create,
        )
        .route(
            llm::providers::__path_get,
            READER,
            "llm.provider.get",
            llm::providers::get,
        )
        .route(
            llm::providers::__path_update,
            ADMIN,
            "llm.provider.update",
            llm::providers::update,
        )
        .route(
            llm::providers::__path_delete,
            ADMIN,
            "llm.provider.delete",
            llm::providers::delete,
        )
        .route(
            llm::providers::__path_test,
            OPERATOR,
            "llm.provider.test",
            llm::providers::test,
        )
        .route(
            llm::chat::__path_handle,
            ANALYST,
            "llm.chat",
            llm::chat::handle,
        )
        .limited_as(Group::Chat)
        .route(
            llm::search::__path_handle,
            ANALYST,
            "llm.web_search",
            llm::search::handle,
        )
        .limited_as(Group::Chat)
        .route(
            llm::usage::__path_handle,
            READER,
            "llm.usage",
            llm::usage::handle,
        )
        .route(
            research::list::__path_handle,
            READER,
            "research.run.list",
            research::list::handle,
        )
        .route(
            research::create::__path_handle,
            ANALYST,
            "research.run.create",
            research::create::handle,
        )
        .limited_as(Group::Research)
        .route(
            research::get::__path_handle,
            READER,
            "research.run.get",
            research::get::handle,
        )
        .route(
            research::events::__path_handle,
            READER,
            "research.run.events",
            research::events::handle,
        )
        .route(
            research::cancel::__path_handle,
            ANALYST,
            "research.run.cancel",
            research::cancel::handle,
        )
        .route(
            research::analysts::__path_handle,
            READER,
            "research.analysts",
            research::analysts::handle,
        )
        .route(
            admin::keys::__path_list,
            ADMIN,
            "api_key.list",
            admin::keys::list,
        )
        .route(
            admin::keys::__path_create,
            ADMIN,
            "api_key.create",
            admin::keys::create,
        )
        .route(
            admin::keys::__path_revoke,
            ADMIN,
            "api_key.revoke",
            admin::keys::revoke,
        )
        .route(
            admin::audit::__path_list,
            ADMIN,
            "audit_log.list",
            admin::audit::list,
        );
}

/// Every route with its access rule.
pub fn table() -> &'static RouteTable {
    static TABLE: LazyLock<RouteTable> = LazyLock::new(|| {
        let mut r = Registrar::new(false);
        register(&mut r);
        r.into_table()
    });
    &TABLE
}

/// The route a request matched, looked up once per request — authentication and the rate
/// limiter both need it — and kept in the request's extensions.
pub fn matched(req: &actix_web::dev::ServiceRequest) -> Option<&'static RouteSpec> {
    use actix_web::HttpMessage;
    #[derive(Clone, Copy)]
    struct Matched(Option<&'static RouteSpec>);
    let cached = req.extensions().get::<Matched>().copied();
    if let Some(Matched(spec)) = cached {
        return spec;
    }
    let spec = req
        .match_pattern()
        .and_then(|pattern| table().find(req.method(), &pattern));
    req.extensions_mut().insert(Matched(spec));
    spec
}

/// Registers every API route, plus the Swagger UI at `/docs`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let mut r = Registrar::new(true);
    register(&mut r);
    for (_, resource) in r.into_resources() {
        cfg.service(resource);
    }
    // The Swagger UI (vendored assets) lives under `/docs/`; `/docs` redirects there.
    cfg.service(web::resource("/docs").route(web::get().to(|| async {
        actix_web::HttpResponse::PermanentRedirect()
            .insert_header((actix_web::http::header::LOCATION, "/docs/"))
            .finish()
    })))
    .service(crate::openapi::swagger_ui());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_listed_once_and_only_probes_and_docs_are_public() {
        let specs = table().specs();
        let mut seen = std::collections::HashSet::new();
        for s in specs {
            assert!(
                seen.insert((s.method.clone(), s.path)),
                "{} {} twice",
                s.method,
                s.path
            );
            assert_eq!(table().find(&s.method, s.path), Some(s));
        }
        let public: Vec<&str> = specs
            .iter()
            .filter(|s| s.access == Access::Public)
            .map(|s| s.path)
            .collect();
        assert_eq!(
            public,
            [
                "/health",
                "/ready",
                "/api/v1/health",
                "/api/v1/openapi.json"
            ]
        );
        // Writes need more than read access; admin routes need admin.
        for s in specs {
            if s.is_write() {
                assert!(
                    matches!(s.access, Access::Role(r) if r > Role::Reader),
                    "{}",
                    s.path
                );
            }
            if s.path.starts_with("/api/v1/admin/") {
                assert_eq!(s.access, ADMIN, "{}", s.path);
            }
        }
        let actions: std::collections::HashSet<_> = specs.iter().map(|s| s.action).collect();
        assert_eq!(actions.len(), specs.len(), "action names are unique");
    }
}
