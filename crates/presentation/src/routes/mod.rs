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

use std::collections::HashMap;
use std::sync::LazyLock;

use actix_web::http::Method;
use actix_web::{FromRequest, Handler, Resource, Responder, web};
use stockpilot_application::auth::Role;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: probes and the API description.
    Public,
    /// A key with at least this role.
    Role(Role),
}

/// The rate-limit group a route's calls count against (`rate_limit.*_per_minute`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    /// `GET` of anything.
    Reads,
    /// Other methods, unless a route says otherwise.
    Writes,
    /// Calls that cost LLM or search money.
    Chat,
    /// Research runs started.
    Research,
}

impl Group {
    pub const ALL: [Group; 4] = [Group::Reads, Group::Writes, Group::Chat, Group::Research];

    /// The name in metrics, messages and configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Group::Reads => "reads",
            Group::Writes => "writes",
            Group::Chat => "chat",
            Group::Research => "research",
        }
    }

    /// The group of a call no route declares one for (an unknown path): by its method.
    pub fn of_method(method: &Method) -> Group {
        if matches!(*method, Method::GET | Method::HEAD) {
            Group::Reads
        } else {
            Group::Writes
        }
    }
}

/// One route: method, path pattern, who may call it, the name its calls have in the audit log
/// and the API description, and the rate-limit group they count against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    pub action: &'static str,
    pub group: Group,
}

impl RouteSpec {
    /// Whether a call changes state (and so is audited).
    pub fn is_write(&self) -> bool {
        !matches!(self.method, Method::GET | Method::HEAD | Method::OPTIONS)
    }
}

/// Every route, looked up by method and matched path pattern.
#[derive(Debug)]
pub struct RouteTable {
    specs: Vec<RouteSpec>,
    index: HashMap<(Method, &'static str), usize>,
}

impl RouteTable {
    pub fn specs(&self) -> &[RouteSpec] {
        &self.specs
    }

    /// The route a request matched (`pattern` as `HttpRequest::match_pattern` gives it).
    pub fn find(&self, method: &Method, pattern: &str) -> Option<&RouteSpec> {
        self.index
            .get(&(method.clone(), pattern))
            .and_then(|i| self.specs.get(*i))
    }
}

/// Records each route's spec and, when building an app, its handler, grouping methods of one
/// path into one `web::resource` (so a wrong method gets 405 rather than 404).
struct Registrar {
    specs: Vec<RouteSpec>,
    resources: Option<Vec<(&'static str, Resource)>>,
}

impl Registrar {
    fn add<F, Args>(
        &mut self,
        method: Method,
        path: &'static str,
        access: Access,
        action: &'static str,
        handler: F,
    ) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.specs.push(RouteSpec {
            group: Group::of_method(&method),
            method: method.clone(),
            path,
            access,
            action,
        });
        if let Some(resources) = &mut self.resources {
            let route = web::route().method(method).to(handler);
            match resources.iter_mut().find(|(p, _)| *p == path) {
                Some((_, resource)) => {
                    let taken = std::mem::replace(resource, web::resource(path));
                    *resource = taken.route(route);
                }
                None => resources.push((path, web::resource(path).route(route))),
            }
        }
        self
    }

    /// The route added last counts against `group` instead of its method's group.
    fn limited_as(&mut self, group: Group) -> &mut Self {
        if let Some(spec) = self.specs.last_mut() {
            spec.group = group;
        }
        self
    }

    fn get<F, Args>(
        &mut self,
        path: &'static str,
        access: Access,
        action: &'static str,
        handler: F,
    ) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Method::GET, path, access, action, handler)
    }

    fn post<F, Args>(
        &mut self,
        path: &'static str,
        access: Access,
        action: &'static str,
        handler: F,
    ) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Method::POST, path, access, action, handler)
    }
}

const PUBLIC: Access = Access::Public;
const READER: Access = Access::Role(Role::Reader);
const ANALYST: Access = Access::Role(Role::Analyst);
const OPERATOR: Access = Access::Role(Role::Operator);
const ADMIN: Access = Access::Role(Role::Admin);

/// The one list of routes: what `configure` registers and what authentication enforces.
fn register(r: &mut Registrar) {
    r.get("/health", PUBLIC, "health.live", health::health)
        .get("/ready", PUBLIC, "health.ready", health::ready)
        .get("/api/v1/health", PUBLIC, "health.api", health::api_health)
        .get(
            "/api/v1/openapi.json",
            PUBLIC,
            "openapi.document",
            crate::openapi::openapi_json,
        )
        .get(
            "/api/v1/instruments",
            READER,
            "instruments.list",
            instruments::list::handle,
        )
        .get(
            "/api/v1/instruments/{symbol}",
            READER,
            "instruments.get",
            instruments::get::handle,
        )
        .get(
            "/api/v1/instruments/{symbol}/bars",
            READER,
            "instruments.bars",
            instruments::bars::handle,
        )
        .get(
            "/api/v1/instruments/{symbol}/valuations",
            READER,
            "instruments.valuations",
            instruments::valuations::handle,
        )
        .get(
            "/api/v1/instruments/{symbol}/financials",
            READER,
            "instruments.financials",
            instruments::financials::handle,
        )
        .get(
            "/api/v1/instruments/{symbol}/indicators",
            READER,
            "instruments.indicators",
            instruments::indicators::handle,
        )
        .get(
            "/api/v1/calendar/{exchange}",
            READER,
            "calendar.get",
            calendar::handle,
        )
        .get(
            "/api/v1/sync/jobs",
            READER,
            "sync.job.list",
            sync::list::handle,
        )
        .post(
            "/api/v1/sync/jobs",
            OPERATOR,
            "sync.job.create",
            sync::create::handle,
        )
        .get(
            "/api/v1/sync/jobs/{id}",
            READER,
            "sync.job.get",
            sync::get::handle,
        )
        .post(
            "/api/v1/sync/jobs/{id}/cancel",
            OPERATOR,
            "sync.job.cancel",
            sync::cancel::handle,
        )
        .get(
            "/api/v1/sync/failures",
            READER,
            "sync.failure.list",
            sync::failures::handle,
        )
        .post(
            "/api/v1/sync/failures/retry",
            OPERATOR,
            "sync.failure.retry",
            sync::retry::handle,
        )
        .get(
            "/api/v1/llm/providers",
            READER,
            "llm.provider.list",
            llm::providers::list,
        )
        .post(
            "/api/v1/llm/providers",
            ADMIN,
            "llm.provider.create",
            llm::providers::create,
        )
        .get(
            "/api/v1/llm/providers/{name}",
            READER,
            "llm.provider.get",
            llm::providers::get,
        )
        .add(
            Method::PATCH,
            "/api/v1/llm/providers/{name}",
            ADMIN,
            "llm.provider.update",
            llm::providers::update,
        )
        .add(
            Method::DELETE,
            "/api/v1/llm/providers/{name}",
            ADMIN,
            "llm.provider.delete",
            llm::providers::delete,
        )
        .post(
            "/api/v1/llm/providers/{name}/test",
            OPERATOR,
            "llm.provider.test",
            llm::providers::test,
        )
        .post("/api/v1/llm/chat", ANALYST, "llm.chat", llm::chat::handle)
        .limited_as(Group::Chat)
        .post(
            "/api/v1/llm/web-search",
            ANALYST,
            "llm.web_search",
            llm::search::handle,
        )
        .limited_as(Group::Chat)
        .get("/api/v1/llm/usage", READER, "llm.usage", llm::usage::handle)
        .get(
            "/api/v1/research/runs",
            READER,
            "research.run.list",
            research::list::handle,
        )
        .post(
            "/api/v1/research/runs",
            ANALYST,
            "research.run.create",
            research::create::handle,
        )
        .limited_as(Group::Research)
        .get(
            "/api/v1/research/runs/{id}",
            READER,
            "research.run.get",
            research::get::handle,
        )
        .get(
            "/api/v1/research/runs/{id}/events",
            READER,
            "research.run.events",
            research::events::handle,
        )
        .post(
            "/api/v1/research/runs/{id}/cancel",
            ANALYST,
            "research.run.cancel",
            research::cancel::handle,
        )
        .get(
            "/api/v1/research/analysts",
            READER,
            "research.analysts",
            research::analysts::handle,
        )
        .get(
            "/api/v1/admin/api-keys",
            ADMIN,
            "api_key.list",
            admin::keys::list,
        )
        .post(
            "/api/v1/admin/api-keys",
            ADMIN,
            "api_key.create",
            admin::keys::create,
        )
        .add(
            Method::DELETE,
            "/api/v1/admin/api-keys/{id}",
            ADMIN,
            "api_key.revoke",
            admin::keys::revoke,
        )
        .get(
            "/api/v1/admin/audit-log",
            ADMIN,
            "audit_log.list",
            admin::audit::list,
        );
}

/// Every route with its access rule.
pub fn table() -> &'static RouteTable {
    static TABLE: LazyLock<RouteTable> = LazyLock::new(|| {
        let mut r = Registrar {
            specs: Vec::new(),
            resources: None,
        };
        register(&mut r);
        let index = r
            .specs
            .iter()
            .enumerate()
            .map(|(i, s)| ((s.method.clone(), s.path), i))
            .collect();
        RouteTable {
            specs: r.specs,
            index,
        }
    });
    &TABLE
}

/// Registers every API route, plus the Swagger UI at `/docs`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let mut r = Registrar {
        specs: Vec::new(),
        resources: Some(Vec::new()),
    };
    register(&mut r);
    for (_, resource) in r.resources.unwrap_or_default() {
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
