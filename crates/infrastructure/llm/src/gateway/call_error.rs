//! How one call to one provider can fail, and what the gateway does about each kind:
//!
//! | failure | retried on the same provider | next provider | counts toward the breaker |
//! |---|---|---|---|
//! | timeout, connection error, 408, 429, 5xx, malformed body | yes | yes | yes |
//! | empty answer with `finish_reason: stop` (DeepSeek quirk) | yes | yes | yes |
//! | 401 / 403 (bad key, no access) | no | yes | yes |
//! | 400 / 422 / other 4xx (request refused) | no | yes | no |
//! | empty answer for another reason (`length`: all tokens spent reasoning) | no | yes | no |
//! | no free concurrency slot within the timeout | no | yes | no |
//!
//! Every message is already scrubbed of the provider's key.

use std::time::Duration;

use stockpilot_application::ports::TokenUsage;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum CallError {
    Timeout(Duration),
    Busy {
        max_concurrent: u32,
    },
    Connect(String),
    RateLimited {
        retry_after: Option<Duration>,
        message: String,
    },
    Server {
        status: u16,
        message: String,
    },
    Auth {
        status: u16,
        message: String,
    },
    Refused {
        status: u16,
        message: String,
    },
    Empty {
        finish_reason: Option<String>,
        usage: TokenUsage,
    },
    Malformed(String),
}

impl CallError {
    pub(crate) fn from_status(status: u16, message: String, retry_after: Option<Duration>) -> Self {
        match status {
            429 => Self::RateLimited {
                retry_after,
                message,
            },
            401 | 403 => Self::Auth { status, message },
            408 | 500..=599 => Self::Server { status, message },
            _ => Self::Refused { status, message },
        }
    }

    /// Worth another attempt on the same provider.
    pub(crate) fn retryable(&self) -> bool {
        match self {
            Self::Timeout(_)
            | Self::Connect(_)
            | Self::RateLimited { .. }
            | Self::Server { .. }
            | Self::Malformed(_) => true,
            Self::Empty { finish_reason, .. } => finish_reason.as_deref() == Some("stop"),
            Self::Busy { .. } | Self::Auth { .. } | Self::Refused { .. } => false,
        }
    }

    /// Says something about the provider's health (rather than about this request).
    pub(crate) fn trips_breaker(&self) -> bool {
        match self {
            Self::Auth { .. } => true,
            Self::Busy { .. } | Self::Refused { .. } => false,
            other => other.retryable(),
        }
    }

    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Tokens the provider billed even though the answer was unusable.
    pub(crate) fn usage(&self) -> TokenUsage {
        match self {
            Self::Empty { usage, .. } => *usage,
            _ => TokenUsage::default(),
        }
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Timeout(after) => write!(f, "timed out after {} ms", after.as_millis()),
            Self::Busy { max_concurrent } => write!(
                f,
                "no free slot within the timeout (max_concurrent = {max_concurrent})"
            ),
            Self::Connect(m) => write!(f, "connection failed: {m}"),
            Self::RateLimited { message, .. } => write!(f, "HTTP 429 rate limited: {message}"),
            Self::Server { status, message } => write!(f, "HTTP {status} server error: {message}"),
            Self::Auth { status, message } => {
                write!(f, "HTTP {status} the API key was rejected: {message}")
            }
            Self::Refused { status, message } => {
                write!(f, "HTTP {status} the request was refused: {message}")
            }
            Self::Empty { finish_reason, .. } => write!(
                f,
                "empty answer (finish_reason {})",
                finish_reason.as_deref().unwrap_or("none")
            ),
            Self::Malformed(m) => write!(f, "malformed response: {m}"),
        }
    }
}
