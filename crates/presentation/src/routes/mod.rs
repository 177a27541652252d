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
use utoipa::openapi::path::HttpMethod;

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

/// Adds a route's operation (and the schemas it references) to the API document.
pub type DocumentOperation = fn(&mut utoipa::openapi::OpenApi);

/// Every route, looked up by method and matched path pattern.
pub struct RouteTable {
    specs: Vec<RouteSpec>,
    documents: Vec<DocumentOperation>,
    index: HashMap<(Method, &'static str), usize>,
}

impl RouteTable {
    pub fn specs(&self) -> &[RouteSpec] {
        &self.specs
    }

    /// Writes every route's operation into `doc`.
    pub fn document(&self, doc: &mut utoipa::openapi::OpenApi) {
        for add in &self.documents {
            add(doc);
        }
    }

    /// The route a request matched (`pattern` as `HttpRequest::match_pattern` gives it).
    pub fn find(&self, method: &Method, pattern: &str) -> Option<&RouteSpec> {
        self.index
            .get(&(method.clone(), pattern))
            .and_then(|i| self.specs.get(*i))
    }
}

/// What a `#[utoipa::path]` generates: the route's path, methods and operation, its tags and
/// the schemas it references.
pub trait PathDoc:
    utoipa::Path + utoipa::__dev::SchemaReferences + for<'t> utoipa::__dev::Tags<'t>
{
}

impl<P> PathDoc for P where
    P: utoipa::Path + utoipa::__dev::SchemaReferences + for<'t> utoipa::__dev::Tags<'t>
{
}

/// The route's operation from its `#[utoipa::path]` (with its tags, as `#[derive(OpenApi)]`
/// adds them), and the schemas it references.
fn document_operation<P: PathDoc>(doc: &mut utoipa::openapi::OpenApi) {
    let mut operation = P::operation();
    let tags = P::tags();
    if !tags.is_empty() {
        operation
            .tags
            .get_or_insert_with(Vec::new)
            .extend(tags.iter().map(ToString::to_string));
    }
    doc.paths
        .add_path_operation(P::path(), P::methods(), operation);
    let mut schemas = Vec::new();
    P::schemas(&mut schemas);
    doc.components
        .get_or_insert_with(Default::default)
        .schemas
        .extend(schemas);
}

/// The HTTP method of a `#[utoipa::path]`.
fn method_of(method: &HttpMethod) -> Method {
    match method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Trace => Method::TRACE,
    }
}

/// Records each route's spec and document operation and, when building an app, its handler,
/// grouping methods of one path into one `web::resource` (so a wrong method gets 405 rather
/// than 404).
struct Registrar {
    specs: Vec<RouteSpec>,
    documents: Vec<DocumentOperation>,
    resources: Option<Vec<(&'static str, Resource)>>,
}

impl Registrar {
    /// The route whose method, path and operation its `#[utoipa::path]` declares (`_doc` is the
    /// `__path_<handler>` value the attribute generates), served by `handler` to callers with
    /// `access`, audited and described as `action`.
    fn route<P, F, Args>(
        &mut self,
        _doc: P,
        access: Access,
        action: &'static str,
        handler: F,
    ) -> &mut Self
    where
        P: PathDoc,
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        let path = path_of::<P>();
        let methods = P::methods();
        let method = methods.first().map_or(Method::GET, method_of);
        self.specs.push(RouteSpec {
            group: Group::of_method(&method),
            method: method.clone(),
            path,
            access,
            action,
        });
        self.documents.push(document_operation::<P>);
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
}

/// The path of a `#[utoipa::path]` type, interned: each distinct path is leaked once per
/// process (there are a few dozen), so the table and actix can hold `&'static str`.
fn path_of<P: utoipa::Path>() -> &'static str {
    static PATHS: LazyLock<std::sync::Mutex<Vec<&'static str>>> =
        LazyLock::new(|| std::sync::Mutex::new(Vec::new()));
    let path = P::path();
    let mut paths = PATHS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(known) = paths.iter().find(|p| **p == path) {
        return known;
    }
    let leaked: &'static str = Box::leak(path.into_boxed_str());
    paths.push(leaked);
    leaked
}

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
        let mut r = Registrar {
            specs: Vec::new(),
            documents: Vec::new(),
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
            documents: r.documents,
            index,
        }
    });
    &TABLE
}

/// Registers every API route, plus the Swagger UI at `/docs`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let mut r = Registrar {
        specs: Vec::new(),
        documents: Vec::new(),
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
