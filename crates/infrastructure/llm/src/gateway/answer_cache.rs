//! The identical-request cache: the same structured question to the same provider and model
//! at temperature 0 (or unset) gets the stored answer instead of a paid call.
//!
//! Rules:
//! - only requests with a `schema` whose `temperature` is `None` or `0.0` are cached: they are
//!   the repeatable analyst questions. Free-form chat and liveness probes (the provider test)
//!   always reach the provider;
//! - the key is `llm:v1:` + SHA-256 hex of (provider name, base URL, exact request body: model,
//!   messages, temperature, capped max_tokens, response format with the schema);
//! - only answers whose cleaned text parses as JSON are stored, so an answer that made
//!   `structured` retry is never served again;
//! - a cache failure is logged and the call goes to the provider.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use stockpilot_application::llm::clean_output;
use stockpilot_application::ports::{Cache, Completion, CompletionRequest, TokenUsage};

#[derive(Clone)]
pub(crate) struct AnswerCache {
    cache: Arc<dyn Cache>,
    ttl: Duration,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    content: String,
    model: String,
    finish_reason: Option<String>,
}

impl AnswerCache {
    pub(crate) fn new(cache: Arc<dyn Cache>, ttl: Duration) -> Self {
        Self { cache, ttl }
    }

    pub(crate) fn applies_to(request: &CompletionRequest) -> bool {
        request.schema.is_some() && request.temperature.is_none_or(|t| t == 0.0)
    }

    pub(crate) fn key(provider: &str, base_url: &str, body: &serde_json::Value) -> String {
        let mut hash = Sha256::new();
        hash.update(provider.as_bytes());
        hash.update([0]);
        hash.update(base_url.as_bytes());
        hash.update([0]);
        hash.update(body.to_string().as_bytes());
        let hex: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        format!("llm:v1:{hex}")
    }

    /// The stored answer as a free completion from `provider`.
    pub(crate) async fn get(&self, key: &str, provider: &str) -> Option<Completion> {
        let bytes = match self.cache.get(key).await {
            Ok(hit) => hit?,
            Err(e) => {
                tracing::warn!(error = %e, "LLM answer cache unreadable; calling the provider");
                return None;
            }
        };
        let stored: Stored = serde_json::from_slice(&bytes).ok()?;
        Some(Completion {
            content: stored.content,
            provider: provider.to_owned(),
            model: stored.model,
            usage: TokenUsage::default(),
            latency: Duration::ZERO,
            finish_reason: stored.finish_reason,
            cost_usd: 0.0,
            cached: true,
        })
    }

    pub(crate) async fn put(&self, key: &str, completion: &Completion) {
        if serde_json::from_str::<serde_json::Value>(&clean_output(&completion.content)).is_err() {
            return;
        }
        let stored = Stored {
            content: completion.content.clone(),
            model: completion.model.clone(),
            finish_reason: completion.finish_reason.clone(),
        };
        let Ok(bytes) = serde_json::to_vec(&stored) else {
            return;
        };
        if let Err(e) = self.cache.set(key, &bytes, self.ttl).await {
            tracing::warn!(error = %e, "could not store an LLM answer in the cache");
        }
    }
}
