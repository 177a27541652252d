//! `GET/POST /api/v1/llm/providers`, `GET/PATCH/DELETE /api/v1/llm/providers/{name}`,
//! `POST /api/v1/llm/providers/{name}/test`.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Deserializer};
use stockpilot_application::llm::ProviderChanges;

use crate::AppState;
use crate::error::ApiError;
use crate::params;

/// Distinguishes an absent field (keep) from `null` (clear) in PATCH bodies.
fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Body {
    name: Option<String>,
    preset: Option<String>,
    base_url: Option<String>,
    model: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    api_key: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    organization: Option<Option<String>>,
    supports_json_schema: Option<bool>,
    max_context_tokens: Option<u32>,
    max_output_tokens: Option<u32>,
    timeout_secs: Option<u64>,
    max_concurrent: Option<u32>,
    priority: Option<i32>,
    enabled: Option<bool>,
    price_input_per_1k: Option<f64>,
    price_output_per_1k: Option<f64>,
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

pub async fn list(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": state.llm.list().await? })))
}

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

pub async fn get(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.llm.get(&path).await?))
}

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

pub async fn delete(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.llm.delete(&path).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn test(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.llm.test(&path).await?))
}
