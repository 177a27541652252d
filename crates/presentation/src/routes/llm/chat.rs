//! `POST /api/v1/llm/chat` `{messages[{role, content}], provider?, model?, temperature?, max_tokens?}`

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use stockpilot_application::ports::{ChatMessage, CompletionRequest, OutputSchema, TokenUsage};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::ApiError;
use crate::openapi::{ErrorBody, JsonBodyErrors, ProtectedErrors};
use crate::params;

/// A chat completion to run.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ChatRequest)]
pub struct Body {
    /// 1–100 messages, none blank, at most 200000 characters in all.
    #[schema(min_items = 1, max_items = 100)]
    messages: Vec<ChatMessage>,
    /// A provider by name; by default the highest-priority healthy one, falling back in order.
    provider: Option<String>,
    /// Overrides the provider's model.
    model: Option<String>,
    #[schema(minimum = 0, maximum = 2)]
    temperature: Option<f32>,
    #[schema(minimum = 1, maximum = 32768)]
    max_tokens: Option<u32>,
    /// Ask for JSON: the answer is parsed, checked to be an object, retried once when it is
    /// not, and returned as `json` — or the call fails with `llm_output_invalid`.
    json_schema: Option<JsonSchema>,
}

/// The JSON an answer must be.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ChatJsonSchema)]
pub struct JsonSchema {
    /// Schema name: 1–64 characters of a-z, A-Z, 0-9, `_` and `-`.
    #[schema(pattern = r"^[a-zA-Z0-9_-]{1,64}$")]
    name: String,
    /// A JSON Schema object.
    #[schema(value_type = Object)]
    schema: serde_json::Value,
    /// A valid example answer, shown to providers without schema support.
    #[schema(value_type = Value)]
    example: serde_json::Value,
}

/// A provider's answer.
#[derive(Serialize, ToSchema)]
#[schema(as = ChatAnswer)]
struct Answer {
    /// The answer text (for `json_schema` requests: the raw text of the valid answer).
    content: String,
    /// The provider that answered.
    provider: String,
    model: String,
    usage: TokenUsage,
    #[schema(minimum = 0)]
    latency_ms: u64,
    /// Estimated from the provider's configured prices.
    cost_usd: f64,
    /// Served from the identical-request cache (no provider call, no cost).
    cached: bool,
    #[schema(required)]
    finish_reason: Option<String>,
    /// The parsed answer, for `json_schema` requests; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    json: Option<serde_json::Value>,
}

/// Bounds that keep one request from costing a fortune or exhausting memory.
const MAX_MESSAGES: usize = 100;
const MAX_CHARS: usize = 200_000;

/// Chat with an LLM.
///
/// One chat completion through the gateway (retries, fallback along the priority order,
/// usage recorded); with `json_schema`, a JSON object checked and returned as `json`.
#[utoipa::path(
    post,
    path = "/api/v1/llm/chat",
    tag = "llm",
    operation_id = "llm_chat",
    request_body = Body,
    responses(
        (status = 200, description = "The answer.", body = Answer),
        (status = 404, description = "`not_found`: the named provider does not exist.",
            body = ErrorBody),
        (status = 409, description = "`conflict`: no LLM provider is configured.",
            body = ErrorBody),
        (status = 502, description = "`upstream_error` (every provider failed) or \
            `llm_output_invalid` (the answer was not the JSON asked for, twice; `details` holds \
            a sample).", body = ErrorBody),
        JsonBodyErrors,
        ProtectedErrors,
    ),
)]
pub async fn handle(
    state: web::Data<AppState>,
    body: web::Json<Body>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    if body.messages.is_empty() || body.messages.len() > MAX_MESSAGES {
        return Err(params::invalid(
            "messages",
            format!("must hold 1–{MAX_MESSAGES} messages"),
        ));
    }
    if let Some(i) = body
        .messages
        .iter()
        .position(|m| m.content.trim().is_empty())
    {
        return Err(params::invalid(
            &format!("messages[{i}].content"),
            "must not be empty",
        ));
    }
    if body.messages.iter().map(|m| m.content.len()).sum::<usize>() > MAX_CHARS {
        return Err(params::invalid(
            "messages",
            format!("at most {MAX_CHARS} characters in all"),
        ));
    }
    if let Some(t) = body.temperature
        && !(0.0..=2.0).contains(&t)
    {
        return Err(params::invalid(
            "temperature",
            format!("must be between 0 and 2, got {t}"),
        ));
    }
    if body.max_tokens.is_some_and(|m| m == 0 || m > 32_768) {
        return Err(params::invalid("max_tokens", "must be between 1 and 32768"));
    }
    let schema = match body.json_schema {
        Some(s) => {
            let name_ok = !s.name.is_empty()
                && s.name.len() <= 64
                && s.name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !name_ok {
                return Err(params::invalid(
                    "json_schema.name",
                    "must be 1–64 characters of a-z, A-Z, 0-9, _ and -",
                ));
            }
            if !s.schema.is_object() {
                return Err(params::invalid(
                    "json_schema.schema",
                    "must be a JSON Schema object",
                ));
            }
            Some(OutputSchema {
                name: s.name,
                schema: s.schema,
                example: s.example,
            })
        }
        None => None,
    };
    let request = CompletionRequest {
        messages: body.messages,
        provider: body.provider,
        model: body.model,
        temperature: body.temperature,
        max_tokens: body.max_tokens,
        purpose: if schema.is_some() {
            "chat:json".into()
        } else {
            "chat".into()
        },
        schema,
    };
    let (c, json) = if request.schema.is_some() {
        let (value, mut calls) = stockpilot_application::llm::structured::<serde_json::Value>(
            state.llm.gateway().as_ref(),
            request,
            |v| {
                if v.is_object() {
                    Ok(())
                } else {
                    Err("the answer must be a JSON object".into())
                }
            },
        )
        .await?;
        let last = calls
            .pop()
            .ok_or_else(|| params::invalid("messages", "no completion was made"))?;
        (last, Some(value))
    } else {
        (state.llm.chat(request).await?, None)
    };
    Ok(HttpResponse::Ok().json(Answer {
        json,
        content: c.content,
        provider: c.provider,
        model: c.model,
        usage: c.usage,
        latency_ms: u64::try_from(c.latency.as_millis()).unwrap_or(u64::MAX),
        cost_usd: c.cost_usd,
        cached: c.cached,
        finish_reason: c.finish_reason,
    }))
}
