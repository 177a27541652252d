//! `GET /api/v1/admin/api-keys`, `POST /api/v1/admin/api-keys` `{name, role}` → 201 with the
//! token (shown this once), `DELETE /api/v1/admin/api-keys/{id}` → the revoked key.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use stockpilot_application::auth::{ApiKey, Role};

use crate::AppState;
use crate::error::ApiError;
use crate::openapi::{ErrorBody, InvalidParams, JsonBodyErrors, ProtectedErrors};
use crate::params;
use crate::params::IdPath;
use stockpilot_application::KeyId;

/// A key to create.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// Who or what uses the key: 1–64 letters, digits, space and `- _ . @`.
    #[schema(min_length = 1, max_length = 64, example = "research-desk")]
    name: String,
    #[schema(value_type = Role)]
    role: String,
}

/// A key as listed: never its token or hash.
#[derive(Serialize, utoipa::ToSchema)]
pub struct KeyView {
    #[schema(value_type = String, format = Uuid)]
    id: KeyId,
    name: String,
    role: Role,
    /// The first 16 characters of the token, to recognise the key by.
    prefix: String,
    created_at: DateTime<Utc>,
    /// A key name, `cli`, `bootstrap` or `api`.
    created_by: String,
    /// Written at most every `auth.usage_flush_secs`, and when keys are listed.
    #[schema(required)]
    last_used_at: Option<DateTime<Utc>>,
    #[schema(required)]
    revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKey> for KeyView {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id,
            name: k.name,
            role: k.role,
            prefix: k.prefix,
            created_at: k.created_at,
            created_by: k.created_by,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// Every key, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct KeyList {
    items: Vec<KeyView>,
    #[schema(minimum = 0)]
    total: usize,
}

/// A key just created, with its token.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedKey {
    #[serde(flatten)]
    key: KeyView,
    /// The token (`sp_live_` + 64 hex digits): store it now, it is never shown again.
    #[schema(pattern = "^sp_live_[0-9a-f]{64}$")]
    token: String,
}

/// List API keys.
///
/// Every key, newest first, with its role, prefix and last use; never a token or hash.
#[utoipa::path(
    get,
    path = "/api/v1/admin/api-keys",
    tag = "admin",
    operation_id = "list_api_keys",
    responses(
        (status = 200, description = "The keys.", body = KeyList),
        ProtectedErrors,
    ),
)]
pub async fn list(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let keys = state.auth.list().await?;
    Ok(HttpResponse::Ok().json(KeyList {
        total: keys.len(),
        items: keys.into_iter().map(KeyView::from).collect(),
    }))
}

/// Create an API key.
///
/// The answer holds the token, this once; only its SHA-256 is stored.
#[utoipa::path(
    post,
    path = "/api/v1/admin/api-keys",
    tag = "admin",
    operation_id = "create_api_key",
    request_body = NewKey,
    responses(
        (status = 201, description = "The key and its token.", body = CreatedKey,
            headers(
                ("Location" = String, description = "The key's URL (for revoking it)"),
                ("Cache-Control" = String, description = "`no-store`")
            )),
        JsonBodyErrors,
        ProtectedErrors,
    ),
)]
pub async fn create(
    state: web::Data<AppState>,
    principal: Option<web::ReqData<stockpilot_application::auth::Principal>>,
    body: web::Json<NewKey>,
) -> Result<HttpResponse, ApiError> {
    let role: Role = params::code("role", Some(body.role.as_str()))?.ok_or_else(|| {
        params::invalid("role", "required; one of reader, analyst, operator, admin")
    })?;
    let by = principal.map_or_else(|| "api".to_owned(), |p| p.name.clone());
    let created = state.auth.create(&body.name, role, &by).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/admin/api-keys/{}", created.key.id),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(CreatedKey {
            key: created.key.into(),
            token: created.token,
        }))
}

/// Revoke an API key.
///
/// The key stops working at once on this instance and within `auth.key_cache_ttl_secs` on
/// others. Revoking again is harmless and keeps the first revocation time.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/api-keys/{id}",
    tag = "admin",
    operation_id = "revoke_api_key",
    params(("id" = String, Path, description = "The key's id")),
    responses(
        (status = 200, description = "The revoked key.", body = KeyView),
        (status = 404, description = "`not_found`: no such key.", body = ErrorBody),
        InvalidParams,
        ProtectedErrors,
    ),
)]
pub async fn revoke(
    state: web::Data<AppState>,
    IdPath(id): IdPath<KeyId>,
) -> Result<HttpResponse, ApiError> {
    let key = state.auth.revoke(id).await?;
    Ok(HttpResponse::Ok().json(KeyView::from(key)))
}
