//! `POST /api/v1/llm/chat` `{messages[{role, content}], provider?, model?, temperature?, max_tokens?}`

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use stockpilot_application::ports::{ChatMessage, CompletionRequest, TokenUsage};

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
    if let Some(t) = body.temperature {
        if !(0.0..=2.0).contains(&t) {
            return Err(params::invalid(
                "temperature",
                format!("must be between 0 and 2, got {t}"),
            ));
        }
    }
    if body.max_tokens.is_some_and(|m| m == 0 || m > 32_768) {
        return Err(params::invalid("max_tokens", "must be between 1 and 32768"));
    }
    let c = state
        .llm
        .chat(CompletionRequest {
            messages: body.messages,
            provider: body.provider,
            model: body.model,
            temperature: body.temperature,
            max_tokens: body.max_tokens,
            schema: None,
            purpose: "chat".into(),
        })
        .await?;
    Ok(HttpResponse::Ok().json(Answer {
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
