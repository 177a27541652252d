//! `GET/POST /api/v1/llm/providers`, `GET/PATCH/DELETE /api/v1/llm/providers/{name}`,
//! `POST /api/v1/llm/providers/{name}/test`.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Deserializer, Serialize};
use stockpilot_application::llm::{ProviderChanges, ProviderView};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::ApiError;
use crate::openapi::{ErrorBody, InvalidParams, JsonBodyErrors, ProtectedErrors};
use crate::params;
use stockpilot_application::llm::ProviderTest;

/// Distinguishes an absent field (keep) from `null` (clear) in PATCH bodies.
fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

crate::openapi::code_schema! {
    /// A preset of known OpenAI-compatible servers (`custom` for any other).
    PresetCode => stockpilot_application::llm::presets::PRESETS.iter().map(|p| p.name)
}

/// A provider to create (`name` required; unset fields take the preset's defaults) or the
/// fields to change (unset fields are kept).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = LlmProviderFields)]
pub struct Body {
    /// Required on create; on update it may only repeat the path's name.
    #[schema(pattern = r"^[a-z0-9_-]{1,64}$")]
    name: Option<String>,
    /// The server's preset; on create, guessed from `base_url` when unset.
    #[schema(value_type = Option<PresetCode>)]
    preset: Option<String>,
    /// An http(s) URL with a host, e.g. `http://localhost:11434/v1`.
    #[schema(pattern = r"^https?://[^/?#:\s]\S*$")]
    base_url: Option<String>,
    /// The model to call (1–128 characters).
    #[schema(min_length = 1, max_length = 128)]
    model: Option<String>,
    /// The API key (1–512 characters, no spaces), sealed at rest and only ever shown masked;
    /// `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, pattern = r"^\S{1,512}$")]
    api_key: Option<Option<String>>,
    /// `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    organization: Option<Option<String>>,
    /// Whether the server enforces `response_format: json_schema`.
    supports_json_schema: Option<bool>,
    #[schema(minimum = 1, maximum = 10000000)]
    max_context_tokens: Option<u32>,
    #[schema(minimum = 1, maximum = 10000000)]
    max_output_tokens: Option<u32>,
    #[schema(minimum = 1, maximum = 600)]
    timeout_secs: Option<u64>,
    /// Calls in flight at once.
    #[schema(minimum = 1, maximum = 256)]
    max_concurrent: Option<u32>,
    /// Lower is tried first.
    priority: Option<i32>,
    enabled: Option<bool>,
    /// US dollars per 1000 prompt tokens.
    #[schema(minimum = 0)]
    price_input_per_1k: Option<f64>,
    /// US dollars per 1000 completion tokens.
    #[schema(minimum = 0)]
    price_output_per_1k: Option<f64>,
}

/// Every provider, configured and stored.
#[derive(Serialize, ToSchema)]
#[schema(as = LlmProviderList)]
pub struct ProviderList {
    pub items: Vec<ProviderView>,
}

impl Body {
    fn changes(&self) -> ProviderChanges {
        ProviderChanges {
            preset: self.preset.clone(),
            base_url: self.base_url.clone(),
            model: self.model.clone(),
            api_key: self.api_key.clone(),
            organization: self.organization.clone(),
            supports_json_schema: self.supports_json_schema,
            max_context_tokens: self.max_context_tokens,
            max_output_tokens: self.max_output_tokens,
            timeout_secs: self.timeout_secs,
            max_concurrent: self.max_concurrent,
            priority: self.priority,
            enabled: self.enabled,
            price_input_per_1k: self.price_input_per_1k,
            price_output_per_1k: self.price_output_per_1k,
        }
    }
}

/// List LLM providers.
///
/// Providers from configuration (read-only) and from the database, keys masked, with their
/// circuit state.
#[utoipa::path(
    get,
    path = "/api/v1/llm/providers",
    tag = "llm",
    operation_id = "list_llm_providers",
    responses(
        (status = 200, description = "Every provider.", body = ProviderList),
        ProtectedErrors,
    ),
)]
pub async fn list(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ProviderList {
        items: state.llm.list().await?,
    }))
}

/// Create an LLM provider.
///
/// Stores a provider (its key sealed with the encryption key); the gateway uses it from the
/// next call, no restart.
#[utoipa::path(
    post,
    path = "/api/v1/llm/providers",
    tag = "llm",
    operation_id = "create_llm_provider",
    request_body = Body,
    responses(
        (status = 201, description = "The provider, created.",
            body = ProviderView,
            headers(("Location" = String, description = "The provider's URL"))),
        (status = 409, description = "`conflict`: a provider of that name exists, or a key \
            cannot be stored without an encryption key.", body = ErrorBody),
        JsonBodyErrors,
        ProtectedErrors,
    ),
)]
pub async fn create(
    state: web::Data<AppState>,
    body: web::Json<Body>,
) -> Result<HttpResponse, ApiError> {
    let name = body
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| params::invalid("name", "is required"))?;
    let created = state.llm.create(name, &body.changes()).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("/api/v1/llm/providers/{}", created.name),
        ))
        .json(created))
}

/// Get an LLM provider.
///
/// One provider, key masked.
#[utoipa::path(
    get,
    path = "/api/v1/llm/providers/{name}",
    tag = "llm",
    operation_id = "get_llm_provider",
    params(("name" = String, Path, description = "The provider's name", pattern = r"^[a-z0-9_-]{1,64}$")),
    responses(
        (status = 200, description = "The provider.",
            body = ProviderView),
        (status = 404, description = "`not_found`: no such provider.", body = ErrorBody),
        InvalidParams,
        ProtectedErrors,
    ),
)]
pub async fn get(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.llm.get(&path).await?))
}

/// Update an LLM provider.
///
/// Changes the given fields of a stored provider (`null` removes `api_key` or
/// `organization`); providers from configuration are read-only.
#[utoipa::path(
    patch,
    path = "/api/v1/llm/providers/{name}",
    tag = "llm",
    operation_id = "update_llm_provider",
    params(("name" = String, Path, description = "The provider's name", pattern = r"^[a-z0-9_-]{1,64}$")),
    request_body = Body,
    responses(
        (status = 200, description = "The provider, changed.",
            body = ProviderView),
        (status = 404, description = "`not_found`: no such provider.", body = ErrorBody),
        (status = 409, description = "`conflict`: the provider is defined by configuration, or \
            a key cannot be stored without an encryption key.", body = ErrorBody),
        JsonBodyErrors,
        ProtectedErrors,
    ),
)]
pub async fn update(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<Body>,
) -> Result<HttpResponse, ApiError> {
    if body.name.as_deref().is_some_and(|n| n != path.as_str()) {
        return Err(params::invalid(
            "name",
            "cannot be changed; create a new provider instead",
        ));
    }
    Ok(HttpResponse::Ok().json(state.llm.update(&path, &body.changes()).await?))
}

/// Delete an LLM provider.
///
/// Removes a stored provider; providers from configuration are read-only.
#[utoipa::path(
    delete,
    path = "/api/v1/llm/providers/{name}",
    tag = "llm",
    operation_id = "delete_llm_provider",
    params(("name" = String, Path, description = "The provider's name", pattern = r"^[a-z0-9_-]{1,64}$")),
    responses(
        (status = 204, description = "The provider is gone."),
        (status = 404, description = "`not_found`: no such provider.", body = ErrorBody),
        (status = 409, description = "`conflict`: the provider is defined by configuration.",
            body = ErrorBody),
        InvalidParams,
        ProtectedErrors,
    ),
)]
pub async fn delete(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.llm.delete(&path).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Test an LLM provider.
///
/// Makes a tiny live call; a failed call is reported in the body (`ok: false`), not as an
/// error status.
#[utoipa::path(
    post,
    path = "/api/v1/llm/providers/{name}/test",
    tag = "llm",
    operation_id = "test_llm_provider",
    params(("name" = String, Path, description = "The provider's name", pattern = r"^[a-z0-9_-]{1,64}$")),
    responses(
        (status = 200, description = "The outcome of the call.", body = ProviderTest),
        (status = 404, description = "`not_found`: no such provider.", body = ErrorBody),
        InvalidParams,
        ProtectedErrors,
    ),
)]
pub async fn test(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.llm.test(&path).await?))
}
