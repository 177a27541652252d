//! One table of error codes, each with its HTTP status, and the one JSON body every error
//! response has: `{"error":{"code","message","details","request_id"}}`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use stockpilot_application::{AppError, FieldProblem};
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

use crate::middleware::current_request_id;

stockpilot_domain::code_enum! {
    @custom_schema
    /// Stable, documented error codes; clients may rely on them.
    pub enum ErrorCode as "error code" {
        /// The request could not be read.
        BadRequest = "bad_request",
        /// The request's head did not arrive in time.
        RequestHeadTimeout = "request_head_timeout",
        /// The request's headers are too large.
        HeadersTooLarge = "headers_too_large",
        /// The body is not JSON.
        MalformedJson = "malformed_json",
        /// The `Host` header names no host this server answers for.
        HostNotAllowed = "host_not_allowed",
        /// An input is not allowed; `details` names each field.
        ValidationFailed = "validation_failed",
        /// No API key, or an unknown, revoked or expired one.
        Unauthorized = "unauthorized",
        /// The key's role is below the route's minimum role.
        Forbidden = "forbidden",
        /// No such route or resource.
        NotFound = "not_found",
        /// The route does not take this method.
        MethodNotAllowed = "method_not_allowed",
        /// The resource's state does not allow the change.
        Conflict = "conflict",
        /// The body is larger than the server accepts.
        PayloadTooLarge = "payload_too_large",
        /// The body is not `application/json`.
        UnsupportedMediaType = "unsupported_media_type",
        /// The client's requests per minute for the route group are used up.
        RateLimited = "rate_limited",
        /// A provider answered with an error.
        UpstreamError = "upstream_error",
        /// The LLM's answer did not match the requested schema.
        LlmOutputInvalid = "llm_output_invalid",
        /// A dependency is down or busy.
        ServiceUnavailable = "service_unavailable",
        /// The database refused, dropped or did not answer in time.
        DatabaseUnavailable = "database_unavailable",
        /// The server is at its concurrent request limit.
        Overloaded = "overloaded",
        /// No response within the deadline.
        RequestTimeout = "request_timeout",
        /// An unexpected failure, logged with the request id.
        InternalError = "internal_error",
    }
}

impl ErrorCode {
    pub fn status(self) -> StatusCode {
        match self {
            Self::BadRequest | Self::MalformedJson | Self::HostNotAllowed => {
                StatusCode::BAD_REQUEST
            }
            Self::RequestHeadTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::ValidationFailed => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::UpstreamError | Self::LlmOutputInvalid => StatusCode::BAD_GATEWAY,
            Self::ServiceUnavailable
            | Self::DatabaseUnavailable
            | Self::Overloaded
            | Self::RequestTimeout => StatusCode::SERVICE_UNAVAILABLE,
            Self::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The code for a bare status produced outside our handlers (actix's own 404/405/413…).
    pub fn for_status(status: StatusCode) -> Self {
        Self::ALL
            .iter()
            .copied()
            .find(|c| {
                c.status() == status
                    && !matches!(
                        c,
                        Self::MalformedJson
                            | Self::HostNotAllowed
                            | Self::DatabaseUnavailable
                            | Self::Overloaded
                            | Self::RequestTimeout
                    )
            })
            .unwrap_or(if status.is_server_error() {
                Self::InternalError
            } else {
                Self::BadRequest
            })
    }
}

/// An error as the API reports it.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub details: Vec<FieldProblem>,
    pub retry_after_secs: Option<u64>,
}

/// The body of every error response, whoever produces it (handlers, extractors, middleware,
/// actix itself).
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    /// For people; the wording may change between releases, unlike `code`.
    pub message: String,
    /// One entry per invalid input (validation errors, invalid LLM output); otherwise empty.
    pub details: Vec<FieldProblem>,
    /// The request's id, as in the `X-Request-Id` response header; quote it when reporting a
    /// problem. `null` or absent only when the error arose outside a request.
    pub request_id: Option<String>,
}

/// The schema `ErrorCode`: every code, and the table of codes and statuses in its description.
impl utoipa::PartialSchema for ErrorCode {
    fn schema() -> RefOr<Schema> {
        let table: Vec<String> = ErrorCode::ALL
            .iter()
            .map(|c| format!("- `{}`: {}", c.as_str(), c.status().as_u16()))
            .collect();
        let description = format!(
            "Stable error code; clients may rely on it. Each code and its HTTP status:\n\n{}",
            table.join("\n")
        );
        stockpilot_domain::market::closed_set_schema(
            description,
            ErrorCode::ALL.iter().map(|c| c.as_str()),
        )
    }
}

impl ToSchema for ErrorCode {}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: Vec::new(),
            retry_after_secs: None,
        }
    }

    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs);
        self
    }

    /// The standard body, with the given request id.
    pub fn body_json(&self, request_id: Option<String>) -> String {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message.clone(),
                details: self.details.clone(),
                request_id,
            },
        };
        serde_json::to_string(&body).unwrap_or_else(|_| {
            format!(
                "{{\"error\":{{\"code\":\"{}\",\"message\":\"\",\"details\":[]}}}}",
                self.code.as_str()
            )
        })
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.code.status());
        res.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        ));
        if let Some(secs) = self.retry_after_secs {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        res.body(self.body_json(current_request_id()))
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound(m) => Self::new(ErrorCode::NotFound, m),
            AppError::Validation { message, problems } => Self {
                details: problems,
                ..Self::new(ErrorCode::ValidationFailed, message)
            },
            AppError::Conflict(m) => Self::new(ErrorCode::Conflict, m),
            AppError::Unauthorized(m) => Self::new(ErrorCode::Unauthorized, m),
            AppError::Forbidden(m) => Self::new(ErrorCode::Forbidden, m),
            AppError::RateLimited { retry_after } => {
                Self::new(ErrorCode::RateLimited, "too many requests")
                    .with_retry_after(retry_after.as_secs().max(1))
            }
            AppError::Upstream {
                provider,
                retryable,
                message,
            } => {
                let code = if retryable {
                    ErrorCode::ServiceUnavailable
                } else {
                    ErrorCode::UpstreamError
                };
                Self::new(
                    code,
                    format!("upstream provider {provider} failed: {message}"),
                )
            }
            AppError::Unavailable(m) => Self::new(ErrorCode::ServiceUnavailable, m),
            AppError::DatabaseUnavailable(cause) => {
                // One line per failed request, with the driver's reason; the client gets none of
                // it (it may name hosts or users).
                tracing::warn!(error = format!("{cause:#}"), "database unavailable");
                Self::new(
                    ErrorCode::DatabaseUnavailable,
                    "the database is unavailable; retry shortly",
                )
                .with_retry_after(1)
            }
            AppError::Internal(cause) => {
                // The cause may hold anything; it is logged with the request id, never sent.
                tracing::error!(error = format!("{cause:#}"), "internal error");
                Self::new(
                    ErrorCode::InternalError,
                    "internal error; quote the request id when reporting it",
                )
            }
        }
    }
}

impl From<stockpilot_application::ports::LlmError> for ApiError {
    fn from(e: stockpilot_application::ports::LlmError) -> Self {
        use stockpilot_application::ports::LlmError as L;
        let message = e.to_string();
        match e {
            L::NoProvider => Self::new(ErrorCode::Conflict, message),
            L::UnknownProvider(_) => Self::new(ErrorCode::NotFound, message),
            L::Unavailable { .. } => {
                Self::new(ErrorCode::ServiceUnavailable, message).with_retry_after(30)
            }
            L::AllFailed { .. } => Self::new(ErrorCode::UpstreamError, message),
            L::OutputInvalid { sample, .. } => {
                let mut api = Self::new(ErrorCode::LlmOutputInvalid, message);
                api.details = vec![FieldProblem::new("output", sample)];
                api
            }
        }
    }
}

impl From<stockpilot_application::ports::SearchError> for ApiError {
    fn from(e: stockpilot_application::ports::SearchError) -> Self {
        use stockpilot_application::ports::SearchError as S;
        let message = e.to_string();
        match e {
            S::NotConfigured => Self::new(ErrorCode::Conflict, message),
            S::BadKey | S::OutOfBalance => Self::new(ErrorCode::UpstreamError, message),
            S::RateLimited => {
                Self::new(ErrorCode::ServiceUnavailable, message).with_retry_after(10)
            }
            S::BadRequest(_) => Self::new(ErrorCode::ValidationFailed, message),
            S::Unavailable(_) => Self::new(ErrorCode::ServiceUnavailable, message),
        }
    }
}

/// Maps JSON body errors: syntax → 400 `malformed_json`, wrong shape → 422 naming the field,
/// too large → 413, wrong content type → 415.
pub fn json_error(err: &actix_web::error::JsonPayloadError, limit: usize) -> ApiError {
    use actix_web::error::JsonPayloadError as E;
    match err {
        E::Overflow { .. } | E::OverflowKnownLength { .. } => ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("request body exceeds the limit of {limit} bytes"),
        ),
        E::ContentType => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "expected Content-Type: application/json",
        ),
        E::Deserialize(e) if e.is_data() => {
            let mut api = ApiError::new(
                ErrorCode::ValidationFailed,
                format!("invalid request body: {e}"),
            );
            api.details = vec![FieldProblem::new("body", e.to_string())];
            api
        }
        E::Deserialize(e) => ApiError::new(
            ErrorCode::MalformedJson,
            format!("request body is not valid JSON: {e}"),
        ),
        other => ApiError::new(
            ErrorCode::BadRequest,
            format!("cannot read request body: {other}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_snake_case_and_unique() {
        let mut names: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert!(
            names
                .iter()
                .all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        );
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ErrorCode::ALL.len());
    }

    #[test]
    fn bare_statuses_map_to_their_codes() {
        assert_eq!(
            ErrorCode::for_status(StatusCode::NOT_FOUND),
            ErrorCode::NotFound
        );
        assert_eq!(
            ErrorCode::for_status(StatusCode::METHOD_NOT_ALLOWED),
            ErrorCode::MethodNotAllowed
        );
        assert_eq!(
            ErrorCode::for_status(StatusCode::PAYLOAD_TOO_LARGE),
            ErrorCode::PayloadTooLarge
        );
        assert_eq!(
            ErrorCode::for_status(StatusCode::BAD_REQUEST),
            ErrorCode::BadRequest
        );
        assert_eq!(
            ErrorCode::for_status(StatusCode::SERVICE_UNAVAILABLE),
            ErrorCode::ServiceUnavailable
        );
    }

    #[test]
    fn internal_errors_never_reveal_their_cause() {
        let api = ApiError::from(AppError::Internal(anyhow::anyhow!("password=hunter2")));
        assert_eq!(api.code, ErrorCode::InternalError);
        assert!(!api.body_json(None).contains("hunter2"));
    }
}
