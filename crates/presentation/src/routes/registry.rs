//! The route table's types: who may call a route, its rate-limit group, its spec, and the
//! registrar that records each route once for actix, authentication, the limiter and the API
//! document.

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

stockpilot_domain::code_enum! {
    @custom_schema
    /// The rate-limit group a route's calls count against (`rate_limit.*_per_minute`).
    pub enum Group as "rate-limit group" {
        /// `GET` of anything.
        Reads = "reads",
        /// Other methods, unless a route says otherwise.
        Writes = "writes",
        /// Calls that cost LLM or search money.
        Chat = "chat",
        /// Research runs started.
        Research = "research",
    }
}

impl Group {
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
pub(super) struct Registrar {
    specs: Vec<RouteSpec>,
    documents: Vec<DocumentOperation>,
    resources: Option<Vec<(&'static str, Resource)>>,
}

impl Registrar {
    /// A registrar that records specs only (`app = false`) or also builds the actix resources.
    pub(super) fn new(app: bool) -> Registrar {
        Registrar {
            specs: Vec::new(),
            documents: Vec::new(),
            resources: app.then(Vec::new),
        }
    }

    /// The table of the routes recorded.
    pub(super) fn into_table(self) -> RouteTable {
        let index = self
            .specs
            .iter()
            .enumerate()
            .map(|(i, s)| ((s.method.clone(), s.path), i))
            .collect();
        RouteTable {
            specs: self.specs,
            documents: self.documents,
            index,
        }
    }

    /// The actix resources built (empty for a specs-only registrar).
    pub(super) fn into_resources(self) -> Vec<(&'static str, Resource)> {
        self.resources.unwrap_or_default()
    }
    /// The route whose method, path and operation its `#[utoipa::path]` declares (`_doc` is the
    /// `__path_<handler>` value the attribute generates), served by `handler` to callers with
    /// `access`, audited and described as `action`.
    pub(super) fn route<P, F, Args>(
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
    pub(super) fn limited_as(&mut self, group: Group) -> &mut Self {
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
