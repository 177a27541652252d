//! The OpenAPI 3.1 document of the API and the Swagger UI that renders it. Each handler carries
//! the `#[utoipa::path]` describing its route; the route table (`routes::table`) adds them all to
//! [`ApiDoc`], which holds the shared error body, the security schemes and the tags. The routes serving the document
//! (`GET /api/v1/openapi.json` → [`openapi_json`]) and the UI ([`swagger_ui`], under `/docs/`)
//! are registered with the other routes.

pub mod schemas;

use std::sync::LazyLock;

use actix_web::http::header::ContentType;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, ResponseError};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::error::{ApiError, ErrorCode};
use crate::routes;

/// Where the document is served.
pub const OPENAPI_JSON_PATH: &str = "/api/v1/openapi.json";
/// The Swagger UI's route pattern (the UI itself is at `/docs/`).
pub const SWAGGER_UI_PATH: &str = "/docs/{_:.*}";

/// The body of every error response, whoever produces it (handlers, extractors, middleware,
/// actix itself).
#[derive(ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(ToSchema)]
pub struct ErrorDetail {
    pub code: schemas::ErrorCodeValue,
    /// For people; the wording may change between releases, unlike `code`.
    pub message: String,
    /// One entry per invalid input (validation errors, invalid LLM output); otherwise empty.
    pub details: Vec<schemas::FieldProblem>,
    /// The request's id, as in the `X-Request-Id` response header; quote it when reporting a
    /// problem. `null` or absent only when the error arose outside a request.
    pub request_id: Option<String>,
}

/// Errors of every route that needs an API key.
#[derive(IntoResponses)]
pub enum ProtectedErrors {
    /// `unauthorized`: no API key, or an unknown, revoked or expired one.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// `forbidden`: the key's role is below the route's minimum role.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// `rate_limited`: this client's requests per minute for the route group are used up.
    #[response(
        status = 429,
        headers(("Retry-After" = u64, description = "Seconds until a retry may succeed"))
    )]
    RateLimited(ErrorBody),
    /// `internal_error`: an unexpected failure, logged with the request id.
    #[response(status = 500)]
    Internal(ErrorBody),
    /// `overloaded` (at the concurrent request limit), `request_timeout` (no response within
    /// the deadline), `database_unavailable` (the database refused, dropped or did not answer
    /// in time) or `service_unavailable` (another dependency is down or busy).
    #[response(
        status = 503,
        headers(("Retry-After" = u64, description = "Seconds until a retry may succeed, when known"))
    )]
    Unavailable(ErrorBody),
}

/// Errors of a JSON request body.
#[derive(IntoResponses)]
pub enum JsonBodyErrors {
    /// `malformed_json`: the body is not JSON (or `bad_request`: it cannot be read).
    #[response(status = 400)]
    Malformed(ErrorBody),
    /// `payload_too_large`: the body exceeds the configured limit.
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// `unsupported_media_type`: `Content-Type` is not `application/json`.
    #[response(status = 415)]
    UnsupportedMediaType(ErrorBody),
    /// `validation_failed`: a field is missing, unknown, of the wrong type or not allowed;
    /// `details` names each field and what is allowed.
    #[response(status = 422)]
    Invalid(ErrorBody),
}

/// `validation_failed`: a path or query parameter is not allowed; `details` names it and says
/// what is.
#[derive(IntoResponses)]
#[response(status = 422)]
pub struct InvalidParams(pub ErrorBody);

const DESCRIPTION: &str = "\
Market data, fundamentals, indicators, data sync, an LLM gateway and research runs for \
equity research (China A-shares and US equities).

## Authentication

Every route except the probes (`/health`, `/ready`, `/api/v1/health`) and this document needs \
an API key \
(`sp_live_…`), sent either as `Authorization: Bearer sp_live_…` or as `X-API-Key: sp_live_…`. \
Each key has a role; roles are ordered `reader` < `analyst` < `operator` < `admin`, and each \
operation states the minimum role it needs (a lower role gets 403 `forbidden`).

## Errors

Every error response has the same JSON body, \
`{\"error\":{\"code\",\"message\",\"details\",\"request_id\"}}` (schema `ErrorBody`); `code` is \
stable (schema `ErrorCode` lists each with its status), `details` names each invalid field.

## Limits

Requests are rate-limited per API key and route group (reads, writes, chat, research); limited \
responses carry `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`, and 429 carries \
`Retry-After`. Request bodies are limited in size (413), requests in duration and concurrency \
(503 `request_timeout` / `overloaded`). Every response carries `X-Request-Id`.

Decimal amounts are JSON strings (exact); dates are `YYYY-MM-DD`; timestamps are RFC 3339 UTC.";

/// The two ways to present an API key: `bearer` and `api_key`.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("sp_live_…")
                    .description(Some(
                        "API key `sp_live_…` as a bearer token: `Authorization: Bearer sp_live_…`.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-API-Key",
                "API key `sp_live_…` in the `X-API-Key` header.",
            ))),
        );
    }
}

/// Each protected operation's minimum role and security requirement, written from the route
/// table: the role the document shows is the value authentication enforces.
struct RouteAccess;

impl Modify for RouteAccess {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use actix_web::http::Method;
        for spec in routes::table().specs() {
            let routes::Access::Role(role) = spec.access else {
                continue;
            };
            let Some(item) = openapi.paths.paths.get_mut(spec.path) else {
                continue;
            };
            let operation = match spec.method {
                Method::GET => item.get.as_mut(),
                Method::POST => item.post.as_mut(),
                Method::PUT => item.put.as_mut(),
                Method::PATCH => item.patch.as_mut(),
                Method::DELETE => item.delete.as_mut(),
                _ => None,
            };
            let Some(operation) = operation else {
                continue;
            };
            let line = format!("Minimum role: `{}`.", role.as_str());
            operation.description = Some(match operation.description.take() {
                Some(text) if !text.is_empty() => format!("{text}\n\n{line}"),
                _ => line,
            });
            operation.security = Some(vec![
                SecurityRequirement::new("bearer", Vec::<String>::new()),
                SecurityRequirement::new("api_key", Vec::<String>::new()),
            ]);
        }
    }
}

/// The document's frame: the shared schemas, the security schemes and the tags. The paths are
/// added from the route table ([`document`]).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "stockpilot API",
        version = env!("CARGO_PKG_VERSION"),
        description = DESCRIPTION,
    ),
    // Schemas referenced only by parameters are not collected from the paths; they are listed
    // here with the error body (a test checks every `$ref` resolves).
    components(schemas(
        ErrorBody,
        ErrorDetail,
        schemas::ErrorCodeValue,
        schemas::FieldProblem,
        schemas::SymbolText,
        schemas::MarketCode,
        schemas::ExchangeCode,
        schemas::AdjustCode,
        schemas::StatementParam,
        schemas::ReportPeriodCode,
        schemas::JobStatusCode,
        schemas::FailureStatusCode,
        schemas::RunStatusCode,
        schemas::UsageGroupCode,
    )),
    modifiers(&SecuritySchemes),
    tags(
        (name = "instruments", description = "Instruments and their bars, valuations, financials and indicators"),
        (name = "calendar", description = "Exchange trading calendars"),
        (name = "sync", description = "Jobs copying provider data into the store, and the failure ledger"),
        (name = "llm", description = "LLM providers, chat, web search and usage"),
        (name = "research", description = "Research runs by teams of analysts, their events and decisions"),
        (name = "health", description = "Liveness and readiness probes (public)"),
        (name = "admin", description = "API keys and the audit log"),
        (name = "meta", description = "This document (public); the Swagger UI renders it at /docs/"),
    ),
)]
pub struct ApiDoc;

static DOCUMENT: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(|| {
    let mut doc = ApiDoc::openapi();
    routes::table().document(&mut doc);
    RouteAccess.modify(&mut doc);
    doc
});

/// The document rendered once; the error (which serde_json never produces for this type) is
/// kept as text for the log.
static DOCUMENT_JSON: LazyLock<Result<Bytes, String>> = LazyLock::new(|| {
    serde_json::to_vec(&*DOCUMENT)
        .map(Bytes::from)
        .map_err(|e| e.to_string())
});

/// The OpenAPI document, built once: [`ApiDoc`], then every route's operation from the route
/// table, then each protected operation's role and security requirement.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    &DOCUMENT
}

/// This OpenAPI document.
///
/// Public.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    operation_id = "openapi_document",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document.", content_type = "application/json",
            body = Object),
    ),
)]
pub async fn openapi_json() -> HttpResponse {
    match &*DOCUMENT_JSON {
        Ok(json) => HttpResponse::Ok()
            .insert_header(ContentType::json())
            .body(json.clone()),
        Err(e) => {
            tracing::error!(error = %e, "the OpenAPI document cannot be rendered");
            ApiError::new(
                ErrorCode::InternalError,
                "the API document cannot be rendered",
            )
            .error_response()
        }
    }
}

/// The vendored Swagger UI under `/docs/`, reading the document from `/api/v1/openapi.json`.
/// It registers only its own route; the document's route is registered separately.
pub fn swagger_ui() -> SwaggerUi {
    SwaggerUi::new(SWAGGER_UI_PATH).config(Config::new([OPENAPI_JSON_PATH]))
}

#[cfg(test)]
mod conformance;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::BTreeSet;

    use actix_web::App;
    use actix_web::http::{Method, StatusCode};
    use actix_web::test as actix_test;
    use serde_json::{Value, json};

    use super::*;

    /// Every route of `routes::configure`, as (method, path): the route table itself.
    fn expected() -> Vec<(String, String)> {
        routes::table()
            .specs()
            .iter()
            .map(|s| (s.method.to_string(), s.path.to_owned()))
            .collect()
    }

    /// The routes anyone may call.
    fn is_public(path: &str) -> bool {
        routes::table()
            .specs()
            .iter()
            .any(|s| s.path == path && s.access == routes::Access::Public)
    }

    /// The minimum role of a route, from the route table.
    fn role_of(method: &str, path: &str) -> String {
        routes::table()
            .specs()
            .iter()
            .find(|s| s.method.as_str() == method && s.path == path)
            .and_then(|s| match s.access {
                routes::Access::Role(r) => Some(r.as_str().to_owned()),
                routes::Access::Public => None,
            })
            .unwrap_or_else(|| panic!("{method} {path} is not in the route table"))
    }

    fn doc() -> Value {
        serde_json::to_value(document()).unwrap()
    }

    /// Every operation as (METHOD, path, operation).
    fn operations(doc: &Value) -> Vec<(String, String, Value)> {
        let mut all = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                all.push((method.to_uppercase(), path.clone(), op.clone()));
            }
        }
        all
    }

    #[test]
    fn is_openapi_3_1() {
        let doc = doc();
        let version = doc["openapi"].as_str().unwrap();
        assert!(version.starts_with("3.1"), "{version}");
        assert_eq!(doc["info"]["title"], "stockpilot API");
        assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn documents_every_route_and_nothing_else() {
        let doc = doc();
        for (method, path) in expected() {
            assert!(
                doc["paths"][&path][method.to_lowercase()].is_object(),
                "{method} {path} is not documented"
            );
        }
        let documented: BTreeSet<(String, String)> = operations(&doc)
            .into_iter()
            .map(|(m, p, _)| (m, p))
            .collect();
        let expected: BTreeSet<(String, String)> = expected().into_iter().collect();
        assert_eq!(documented, expected);
    }

    /// The route table is what `routes::configure` serves: each pair is routed (the handler runs and
    /// fails for want of state, rather than 404 or 405), and a method it does not list is 405.
    #[actix_web::test]
    async fn expected_routes_are_the_registered_ones() {
        let app = actix_test::init_service(App::new().configure(routes::configure)).await;
        let concrete = |path: &str| {
            path.replace("{symbol}", "AAPL")
                .replace("{exchange}", "SSE")
                .replace("{id}", "x")
                .replace("{name}", "x")
        };
        for (method, path) in expected() {
            let req = actix_test::TestRequest::default()
                .method(Method::from_bytes(method.as_bytes()).unwrap())
                .uri(&concrete(&path))
                .to_request();
            let status = actix_test::call_service(&app, req).await.status();
            assert!(
                status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} → {status}"
            );
        }
        let req = actix_test::TestRequest::put()
            .uri("/api/v1/instruments")
            .to_request();
        assert_eq!(
            actix_test::call_service(&app, req).await.status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
    }

    #[test]
    fn protected_routes_need_a_key_and_state_their_minimum_role() {
        let doc = doc();
        let either = json!([{"bearer": []}, {"api_key": []}]);
        for (method, path, op) in operations(&doc) {
            let description = op["description"].as_str().unwrap_or_default();
            if is_public(&path) {
                assert!(
                    op.get("security").is_none_or(|s| s == &json!([])),
                    "{method} {path} is public"
                );
                assert!(description.contains("Public"), "{method} {path}");
                continue;
            }
            assert_eq!(op["security"], either, "{method} {path}");
            let role = role_of(&method, &path);
            assert!(
                description.contains(&format!("Minimum role: `{role}`.")),
                "{method} {path} must state its minimum role {role}: {description}"
            );
            for status in ["401", "403", "429", "500", "503"] {
                assert!(
                    op["responses"][status].is_object(),
                    "{method} {path} lacks {status}"
                );
            }
        }
    }

    #[test]
    fn security_schemes_are_bearer_and_the_api_key_header() {
        let doc = doc();
        let schemes = &doc["components"]["securitySchemes"];
        assert_eq!(schemes["bearer"]["type"], "http");
        assert_eq!(schemes["bearer"]["scheme"], "bearer");
        assert!(
            schemes["bearer"]["description"]
                .as_str()
                .unwrap()
                .contains("sp_live_")
        );
        assert_eq!(schemes["api_key"]["type"], "apiKey");
        assert_eq!(schemes["api_key"]["in"], "header");
        assert_eq!(schemes["api_key"]["name"], "X-API-Key");
    }

    #[test]
    fn every_operation_has_a_success_response_with_content() {
        let doc = doc();
        for (method, path, op) in operations(&doc) {
            let responses = op["responses"].as_object().unwrap();
            let with_content = responses.iter().any(|(status, r)| {
                status.starts_with('2')
                    && r["content"]
                        .as_object()
                        .is_some_and(|c| c.values().all(|m| m["schema"].is_object()))
            });
            // Deleting a provider answers 204 No Content: no body, by definition.
            if method == "DELETE" && responses.contains_key("204") {
                assert!(responses["204"].get("content").is_none(), "{path}");
                continue;
            }
            assert!(with_content, "{method} {path} has no 2xx with content");
        }
    }

    #[test]
    fn operation_ids_are_unique_snake_case() {
        let doc = doc();
        let ids: Vec<String> = operations(&doc)
            .iter()
            .map(|(m, p, op)| {
                op["operationId"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{m} {p} has no operationId"))
                    .to_owned()
            })
            .collect();
        let unique: BTreeSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{ids:?}");
        for id in &ids {
            assert!(
                id.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{id}"
            );
        }
    }

    #[test]
    fn errors_use_the_error_body() {
        let doc = doc();
        let error_body = json!({"$ref": "#/components/schemas/ErrorBody"});
        for (method, path, op) in operations(&doc) {
            for (status, response) in op["responses"].as_object().unwrap() {
                if status.starts_with('2') {
                    continue;
                }
                let schema = &response["content"]["application/json"]["schema"];
                // The probes' 503 is the unready report or the error body.
                let expected = if is_public(&path) && status == "503" {
                    json!({"$ref": "#/components/schemas/ReadinessFailure"})
                } else {
                    error_body.clone()
                };
                assert_eq!(schema, &expected, "{method} {path} {status}");
            }
        }
        let codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            doc["components"]["schemas"]["ErrorCode"]["enum"],
            json!(codes)
        );
        let detail = &doc["components"]["schemas"]["ErrorDetail"];
        assert_eq!(detail["required"], json!(["code", "message", "details"]));
        assert_eq!(
            doc["components"]["schemas"]["FieldProblem"]["required"],
            json!(["field", "message"])
        );
    }

    /// Responses may grow fields; clients must not be told otherwise.
    #[test]
    fn response_schemas_allow_more_properties() {
        fn refs(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(map) => {
                    if let Some(Value::String(r)) = map.get("$ref") {
                        out.push(r.trim_start_matches("#/components/schemas/").to_owned());
                    }
                    map.values().for_each(|v| refs(v, out));
                }
                Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let doc = doc();
        let schemas = &doc["components"]["schemas"];
        let mut pending = Vec::new();
        for (_, _, op) in operations(&doc) {
            refs(&op["responses"], &mut pending);
        }
        let mut seen = BTreeSet::new();
        while let Some(name) = pending.pop() {
            if seen.insert(name.clone()) {
                let schema = &schemas[&name];
                assert_ne!(schema["additionalProperties"], json!(false), "{name}");
                refs(schema, &mut pending);
            }
        }
        assert!(seen.contains("RunView") && seen.contains("ErrorBody"));
    }

    #[test]
    fn every_reference_resolves() {
        fn walk(v: &Value, schemas: &Value, missing: &mut Vec<String>) {
            match v {
                Value::Object(map) => {
                    if let Some(Value::String(r)) = map.get("$ref") {
                        let name = r.trim_start_matches("#/components/schemas/");
                        if schemas.get(name).is_none() {
                            missing.push(r.clone());
                        }
                    }
                    map.values().for_each(|v| walk(v, schemas, missing));
                }
                Value::Array(items) => items.iter().for_each(|v| walk(v, schemas, missing)),
                _ => {}
            }
        }
        let doc = doc();
        let mut missing = Vec::new();
        walk(&doc, &doc["components"]["schemas"], &mut missing);
        assert!(missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn symbol_parameters_follow_the_symbol_rule() {
        let doc = doc();
        assert_eq!(
            doc["components"]["schemas"]["Symbol"]["pattern"],
            schemas::SYMBOL_PATTERN
        );
        let mut seen = 0;
        for (method, path, op) in operations(&doc) {
            for param in op["parameters"].as_array().into_iter().flatten() {
                if param["name"] == "symbol" {
                    seen += 1;
                    let schema = &param["schema"];
                    assert!(
                        schema["pattern"] == schemas::SYMBOL_PATTERN
                            || schema["$ref"] == "#/components/schemas/Symbol",
                        "{method} {path}: {schema}"
                    );
                }
            }
        }
        assert_eq!(seen, 6);
    }

    /// The bodies once built with `json!` serialise to exactly the same JSON as before.
    #[test]
    fn typed_bodies_match_their_former_json() {
        use stockpilot_application::ports::{SearchResult, UsageGroup, UsageSummary};

        let results = vec![SearchResult {
            title: "贵州茅台年报".into(),
            url: "https://example.com/a".into(),
            snippet: "…".into(),
            summary: None,
            site_name: Some("example".into()),
            published_at: None,
        }];
        let typed = serde_json::to_value(routes::llm::search::Found {
            query: "茅台".into(),
            count: results.len(),
            results: results.clone(),
        })
        .unwrap();
        let before = json!({ "query": "茅台", "count": results.len(), "results": results });
        assert_eq!(typed, before);
        assert_eq!(
            typed["results"][0],
            json!({"title": "贵州茅台年报", "url": "https://example.com/a", "snippet": "…",
                   "summary": null, "site_name": "example", "published_at": null})
        );

        let from = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
        let to = chrono::NaiveDate::from_ymd_opt(2025, 1, 31).unwrap();
        let rows = vec![UsageSummary {
            key: "local".into(),
            calls: 3,
            errors: 1,
            prompt_tokens: 40,
            completion_tokens: 9,
            cost_usd: 0.5,
        }];
        let typed = serde_json::to_value(routes::llm::usage::Report {
            from,
            to,
            group_by: UsageGroup::Provider,
            total: routes::llm::usage::Totals {
                calls: 3,
                prompt_tokens: 40,
                completion_tokens: 9,
                cost_usd: 0.5,
            },
            groups: rows.clone(),
        })
        .unwrap();
        let before = json!({
            "from": from, "to": to, "group_by": UsageGroup::Provider,
            "total": {"calls": 3u64, "prompt_tokens": 40u64, "completion_tokens": 9u64, "cost_usd": 0.5f64},
            "groups": rows,
        });
        assert_eq!(typed, before);
        assert_eq!(
            typed,
            json!({
                "from": "2025-01-01", "to": "2025-01-31", "group_by": "provider",
                "total": {"calls": 3, "prompt_tokens": 40, "completion_tokens": 9, "cost_usd": 0.5},
                "groups": [{"key": "local", "calls": 3, "errors": 1, "prompt_tokens": 40,
                            "completion_tokens": 9, "cost_usd": 0.5}],
            })
        );

        let catalogue = vec![stockpilot_application::research::AnalystInfo {
            name: "technical",
            kind: stockpilot_application::research::analysts::AnalystKind::Quantitative,
            description: "trend",
            default: true,
        }];
        assert_eq!(
            serde_json::to_value(routes::research::analysts::Catalogue {
                analysts: catalogue.clone(),
            })
            .unwrap(),
            json!({ "analysts": catalogue })
        );

        let items: Vec<stockpilot_application::llm::ProviderView> = Vec::new();
        assert_eq!(
            serde_json::to_value(routes::llm::providers::ProviderList {
                items: items.clone()
            })
            .unwrap(),
            json!({ "items": items })
        );

        let symbols = vec![stockpilot_domain::market::Symbol::parse("AAPL").unwrap()];
        let status = stockpilot_application::research::model::RunStatus::Queued;
        let typed = serde_json::to_value(routes::research::create::Created {
            id: "r1".into(),
            status,
            as_of: from,
            symbols: symbols.clone(),
            analysts: vec!["technical".into()],
            url: "/api/v1/research/runs/r1".into(),
            events_url: "/api/v1/research/runs/r1/events".into(),
        })
        .unwrap();
        assert_eq!(
            typed,
            json!({
                "id": "r1", "status": status, "as_of": from, "symbols": symbols,
                "analysts": ["technical"], "url": "/api/v1/research/runs/r1",
                "events_url": "/api/v1/research/runs/r1/events",
            })
        );
    }

    #[actix_web::test]
    async fn serves_the_document_as_json() {
        let res = openapi_json().await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers().get("content-type").unwrap(),
            "application/json"
        );
        let body = actix_web::body::to_bytes(res.into_body()).await.unwrap();
        let served: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(served, doc());
    }

    #[actix_web::test]
    async fn swagger_ui_reads_the_served_document_and_registers_no_route_for_it() {
        let app = actix_test::init_service(App::new().service(swagger_ui())).await;
        let res = actix_test::call_service(
            &app,
            actix_test::TestRequest::get().uri("/docs/").to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            res.headers()
                .get("content-type")
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let res = actix_test::call_service(
            &app,
            actix_test::TestRequest::get()
                .uri("/docs/swagger-initializer.js")
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        let script = actix_test::read_body(res).await;
        assert!(
            String::from_utf8_lossy(&script).contains(OPENAPI_JSON_PATH),
            "{}",
            String::from_utf8_lossy(&script)
        );
        let res = actix_test::call_service(
            &app,
            actix_test::TestRequest::get()
                .uri(OPENAPI_JSON_PATH)
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }

    #[test]
    #[ignore = "writes the document to /tmp for inspection"]
    fn dump() {
        std::fs::write(
            "/tmp/stockpilot-openapi.json",
            serde_json::to_string_pretty(document()).unwrap(),
        )
        .unwrap();
    }
}
