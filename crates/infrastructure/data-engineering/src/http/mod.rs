//! Plumbing shared by the HTTP adapters: client construction, throttling, retries, the mapping
//! of transport failures and HTTP statuses onto [`SourceError`], and secret scrubbing.

mod retry;
mod throttle;

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use stockpilot_application::ports::SourceError;

pub(crate) use retry::{Failure, Retrier};
pub use throttle::Throttle;

/// Registers `stockpilot_upstream_requests_total{provider, outcome}` at zero for every outcome
/// (`ok` and each [`SourceError::KINDS`]) of `provider`, so the upstream error-ratio alert
/// works from the first scrape. Called when an adapter names its retrier.
pub(crate) fn register_metrics(provider: &'static str) {
    for outcome in std::iter::once("ok").chain(SourceError::KINDS) {
        metrics::counter!("stockpilot_upstream_requests_total", "provider" => provider, "outcome" => outcome)
            .increment(0);
    }
}

/// Why an adapter could not be built from its settings.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// `base_url` is not an absolute http(s) URL.
    #[error("{provider}: base URL '{url}' is invalid: {reason}")]
    InvalidBaseUrl {
        provider: &'static str,
        url: String,
        reason: String,
    },
    /// No rustls crypto provider is installed for the process.
    #[error(
        "{provider}: no TLS crypto provider installed; call \
         rustls::crypto::ring::default_provider().install_default() at startup"
    )]
    NoTlsProvider { provider: &'static str },
    /// The HTTP client could not be built.
    #[error("{provider}: cannot build the HTTP client: {reason}")]
    Client {
        provider: &'static str,
        reason: String,
    },
}

/// An HTTP client with the per-request timeout; refuses to build (instead of panicking inside
/// reqwest) when the process has no rustls crypto provider.
pub(crate) fn build_client(
    provider: &'static str,
    timeout: Duration,
) -> Result<reqwest::Client, SetupError> {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        return Err(SetupError::NoTlsProvider { provider });
    }
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("stockpilot/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| SetupError::Client {
            provider,
            reason: e.without_url().to_string(),
        })
}

/// Parses a base URL, which must be absolute http or https.
pub(crate) fn parse_base_url(provider: &'static str, url: &str) -> Result<Url, SetupError> {
    let invalid = |reason: String| SetupError::InvalidBaseUrl {
        provider,
        url: url.to_owned(),
        reason,
    };
    let parsed = Url::parse(url.trim()).map_err(|e| invalid(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid("scheme must be http or https".to_owned()));
    }
    Ok(parsed)
}

/// A transport failure (connect, timeout, broken body) as a retryable `Transient` error.
/// The URL is dropped from the message: it may carry query parameters worth keeping out of
/// logs, and the call site already names the operation.
pub(crate) fn transport_failure(provider: &'static str, error: reqwest::Error) -> Failure {
    let message = if error.is_timeout() {
        "request timed out".to_owned()
    } else if error.is_connect() {
        format!("cannot connect: {}", error.without_url())
    } else {
        format!("request failed: {}", error.without_url())
    };
    SourceError::Transient { provider, message }.into()
}

/// Classifies a non-success HTTP status that the adapter does not handle itself.
///
/// 401/403 → `Auth`; 402 → `QuotaExhausted`; 429 → `RateLimited` waiting `Retry-After`
/// (bounded by `max_backoff`) or the computed backoff; 408 and 5xx → `Transient`; any other
/// status → `Malformed` (the request or the answer is not what the protocol describes, and
/// repeating it will not help).
pub(crate) fn status_failure(
    provider: &'static str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    max_backoff: Duration,
    auth_hint: &str,
) -> Failure {
    let detail = format!("HTTP {}: {}", status.as_u16(), excerpt(body));
    match status.as_u16() {
        401 | 403 => SourceError::Auth {
            provider,
            message: format!("{detail}; {auth_hint}"),
        }
        .into(),
        402 => SourceError::QuotaExhausted {
            provider,
            message: detail,
        }
        .into(),
        429 => {
            let wait = retry_after(headers).map(|w| w.min(max_backoff));
            Failure {
                error: SourceError::RateLimited {
                    provider,
                    retry_after: wait.unwrap_or(max_backoff),
                    message: detail,
                },
                wait,
            }
        }
        408 | 500..=599 => SourceError::Transient {
            provider,
            message: detail,
        }
        .into(),
        _ => SourceError::Malformed {
            provider,
            message: detail,
        }
        .into(),
    }
}

/// `Retry-After` in seconds; the HTTP-date form is not used by these providers and is ignored.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let seconds: f64 = value.parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}

/// The first 200 characters of a response body, on one line, for error messages.
pub(crate) fn excerpt(body: &str) -> String {
    const MAX: usize = 200;
    let one_line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= MAX {
        one_line
    } else {
        let head: String = one_line.chars().take(MAX).collect();
        format!("{head}…")
    }
}

/// Replaces every occurrence of `secret` in the error's message. Adapters never put secrets
/// into messages; this is the guard for a provider that echoes one back.
pub(crate) fn scrub(error: SourceError, secret: &str) -> SourceError {
    if secret.is_empty() {
        return error;
    }
    let clean = |message: String| {
        if message.contains(secret) {
            message.replace(secret, "[REDACTED]")
        } else {
            message
        }
    };
    match error {
        SourceError::Auth { provider, message } => SourceError::Auth {
            provider,
            message: clean(message),
        },
        SourceError::Permission { provider, message } => SourceError::Permission {
            provider,
            message: clean(message),
        },
        SourceError::RateLimited {
            provider,
            retry_after,
            message,
        } => SourceError::RateLimited {
            provider,
            retry_after,
            message: clean(message),
        },
        SourceError::QuotaExhausted { provider, message } => SourceError::QuotaExhausted {
            provider,
            message: clean(message),
        },
        SourceError::Malformed { provider, message } => SourceError::Malformed {
            provider,
            message: clean(message),
        },
        SourceError::Transient { provider, message } => SourceError::Transient {
            provider,
            message: clean(message),
        },
        unsupported @ SourceError::Unsupported { .. } => unsupported,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn statuses_map_to_error_kinds() {
        let headers = HeaderMap::new();
        let kind = |status: u16| {
            status_failure(
                "p",
                StatusCode::from_u16(status).unwrap(),
                &headers,
                "",
                Duration::from_secs(1),
                "check KEY",
            )
            .error
            .kind()
        };
        assert_eq!(kind(401), "auth");
        assert_eq!(kind(403), "auth");
        assert_eq!(kind(402), "quota_exhausted");
        assert_eq!(kind(429), "rate_limited");
        assert_eq!(kind(500), "transient");
        assert_eq!(kind(503), "transient");
        assert_eq!(kind(400), "malformed");
    }

    #[test]
    fn retry_after_is_bounded_by_the_maximum_backoff() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("120"));
        let failure = status_failure(
            "p",
            StatusCode::TOO_MANY_REQUESTS,
            &headers,
            "slow down",
            Duration::from_secs(5),
            "",
        );
        assert_eq!(failure.wait, Some(Duration::from_secs(5)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("0.25"));
        let failure = status_failure(
            "p",
            StatusCode::TOO_MANY_REQUESTS,
            &headers,
            "",
            Duration::from_secs(5),
            "",
        );
        assert_eq!(failure.wait, Some(Duration::from_millis(250)));
    }

    #[test]
    fn scrubbing_removes_an_echoed_secret() {
        let error = SourceError::Malformed {
            provider: "p",
            message: "echo: token=abc123 done".into(),
        };
        assert_eq!(
            scrub(error, "abc123").to_string(),
            "p: malformed response: echo: token=[REDACTED] done"
        );
    }

    #[test]
    fn base_urls_must_be_absolute_http() {
        assert!(parse_base_url("p", "http://127.0.0.1:8080").is_ok());
        assert!(parse_base_url("p", "ftp://x").is_err());
        assert!(parse_base_url("p", "not a url").is_err());
    }
}
