//! The OpenAPI 3.1 document of the API and the Swagger UI that renders it. Each handler carries
//! the `#[utoipa::path]` describing its route; the route table (`routes::table`) adds them all to
//! [`ApiDoc`], which holds the shared error body, the security schemes and the tags. The routes serving the document
//! (`GET /api/v1/openapi.json` → [`openapi_json`]) and the UI ([`swagger_ui`], under `/docs/`)
//! are registered with the other routes.

use std::sync::LazyLock;

use actix_web::http::header::ContentType;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, ResponseError};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::{IntoResponses, Modify, OpenApi};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::error::{ApiError, ErrorCode};
use crate::routes;

/// Declares a schema-only type for a closed set of texts that no served enum carries (a
/// parameter's spellings, a fixed status text), so the document can name and describe it.
macro_rules! code_schema {
    ($(#[doc = $doc:literal])+ $vis:vis $name:ident => $values:expr) => {
        $(#[doc = $doc])+
        #[derive(Debug, Clone, Copy)]
        $vis struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                stockpilot_domain::market::closed_set_schema(
                    concat!($($doc),+).trim().to_owned(),
                    $values,
                )
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }
    };
}
pub(crate) use code_schema;

/// Where the document is served.
pub const OPENAPI_JSON_PATH: &str = "/api/v1/openapi.json";
/// The Swagger UI's route pattern (the UI itself is at `/docs/`).
pub const SWAGGER_UI_PATH: &str = "/docs/{_:.*}";

pub use crate::error::{ErrorBody, ErrorDetail};

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
        ErrorCode,
        stockpilot_application::FieldProblem,
        stockpilot_domain::market::Symbol,
        stockpilot_domain::market::Market,
        stockpilot_domain::market::Exchange,
        stockpilot_domain::market::Adjust,
        crate::routes::instruments::financials::StatementParam,
        stockpilot_domain::market::ReportPeriod,
        stockpilot_application::sync::JobStatus,
        stockpilot_application::sync::FailureStatus,
        stockpilot_application::research::model::RunStatus,
        stockpilot_application::ports::UsageGroup,
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
mod tests;
