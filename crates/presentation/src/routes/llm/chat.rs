//! `POST /api/v1/llm/chat` `{messages[{role, content}], provider?, model?, temperature?, max_tokens?}`

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use stockpilot_application::ports::{ChatMessage, CompletionRequest, OutputSchema, TokenUsage};

use crate::AppState;
use crate::error::ApiError;
use crate::params;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Body {
    messages: Vec<ChatMessage>,
    provider: Option<String>,
    model: Option<String>,
    temperature: Option<f32>,
    max_tokens: Option<u32>,
    /// Ask for JSON: the answer is parsed, checked to be an object, retried once when it is
    /// not, and returned as `json` — or the call fails with `llm_output_invalid`.
    json_schema: Option<JsonSchema>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonSchema {
    name: String,
    schema: serde_json::Value,
    example: serde_json::Value,
}

#[derive(Serialize)]
struct Answer {
    content: String,
    provider: String,
    model: String,
    usage: TokenUsage,
    latency_ms: u64,
    cost_usd: f64,
    cached: bool,
    finish_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    json: Option<serde_json::Value>,
}

/// Bounds that keep one request from costing a fortune or exhausting memory.
const MAX_MESSAGES: usize = 100;
const MAX_CHARS: usize = 200_000;

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
