//! The one error type use cases return; presentation maps its kinds to HTTP.

use std::time::Duration;

/// One problem with one input field, for validation errors that list several at once.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldProblem {
    /// The field as the caller named it (e.g. `start`, `symbols[3]`).
    pub field: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl FieldProblem {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Kinds of failure a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    NotFound(String),
    #[error("{message}")]
    Validation {
        message: String,
        problems: Vec<FieldProblem>,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("rate limited; retry after {} s", retry_after.as_secs())]
    RateLimited { retry_after: Duration },
    #[error("upstream provider {provider} failed: {message}")]
    Upstream {
        provider: String,
        retryable: bool,
        message: String,
    },
    #[error("{0}")]
    Unavailable(String),
    /// The database was unreachable or did not answer in time; the cause is for logs.
    #[error("the database is unavailable")]
    DatabaseUnavailable(#[source] anyhow::Error),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl AppError {
    /// A validation error about a single field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        let problem = FieldProblem::new(field, message);
        Self::Validation {
            message: format!("{}: {}", problem.field, problem.message),
            problems: vec![problem],
        }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        if crate::ports::is_database_unavailable(e.as_ref()) {
            Self::DatabaseUnavailable(e)
        } else {
            Self::Internal(e)
        }
    }
}

impl AppError {
    /// For command-line callers: internal causes keep their chain, others become their message.
    pub fn into_anyhow(self) -> anyhow::Error {
        match self {
            Self::Internal(inner) | Self::DatabaseUnavailable(inner) => inner,
            other => anyhow::anyhow!(other.to_string()),
        }
    }
}
