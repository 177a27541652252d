//! LLM adapters of stockpilot: [`OpenAiGateway`] (the `LlmGateway` port over any
//! OpenAI-compatible chat-completions server, with retries, circuit breakers, fallback,
//! usage and an identical-request cache), [`BochaSearch`] (the `WebSearch` port) and
//! [`AesGcmBox`] (the `SecretBox` port that seals provider keys at rest).
//!
//! No driver type (reqwest, aes-gcm) leaves this crate: every failure is converted into the
//! port's error type, and API keys never appear in an error, a log line or `Debug` output.

mod bocha;
mod gateway;
mod redact;
mod secret_box;

pub use bocha::{BochaSearch, BochaSettings, SearchConfig};
pub use gateway::{GatewaySettings, LlmConfig, OpenAiGateway};
pub use secret_box::AesGcmBox;

/// The HTTP client of an adapter could not be built (TLS backend missing or misconfigured).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("could not build the HTTP client: {0}")]
pub struct HttpClientError(pub String);

fn http_client() -> Result<reqwest::Client, HttpClientError> {
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| HttpClientError(e.to_string()))
}
