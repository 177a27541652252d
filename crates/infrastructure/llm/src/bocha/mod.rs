//! The `WebSearch` port over Bocha (`POST {base}/v1/web-search`), with results cached by
//! (query, freshness, count, summary) so agents repeating a search do not pay twice.
//!
//! Metric: `stockpilot_web_search_requests_total{outcome}` with outcome `ok`, `cached`,
//! `bad_key`, `out_of_balance`, `rate_limited`, `bad_request`, `unavailable`.

mod wire;

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use sha2::{Digest, Sha256};
use stockpilot_application::ports::{Cache, SearchError, SearchQuery, SearchResult, WebSearch};

use crate::redact::scrub;

stockpilot_application::settings! {
    /// `search`: web search (Bocha).
    pub struct SearchConfig {
        /// Enables `POST /api/v1/llm/web-search`.
        bocha_api_key: Option<stockpilot_application::settings::Secret> = None; secret = true, env = &["BOCHA_API_KEY"], default_shown = "unset (no web search)",
        /// Bocha API root.
        base_url: String = "https://api.bochaai.com".to_owned(),
        /// Per search (seconds).
        timeout_secs: u64 = 15; range = (1.0, 120.0),
        /// Results cached by query and freshness (seconds).
        cache_ttl_secs: u64 = 600,
    }
}

/// Where Bocha is and how patient to be with it.
#[derive(Debug, Clone)]
pub struct BochaSettings {
    pub api_key: SecretString,
    /// `search.base_url`.
    pub base_url: String,
    /// Whole-request timeout (`search.timeout_secs`).
    pub timeout: Duration,
    /// How long results are reused (`search.cache_ttl_secs`).
    pub cache_ttl: Duration,
}

impl BochaSettings {
    /// The settings `config` declares, for `api_key`.
    pub fn configured(api_key: SecretString, config: &SearchConfig) -> Self {
        Self {
            api_key,
            base_url: config.base_url.clone(),
            timeout: Duration::from_secs(config.timeout_secs),
            cache_ttl: Duration::from_secs(config.cache_ttl_secs),
        }
    }

    /// The declared defaults, for `api_key`.
    pub fn new(api_key: SecretString) -> Self {
        Self::configured(api_key, &SearchConfig::default())
    }
}

pub struct BochaSearch {
    settings: BochaSettings,
    endpoint: String,
    http: reqwest::Client,
    cache: Option<Arc<dyn Cache>>,
}

impl std::fmt::Debug for BochaSearch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BochaSearch")
            .field("endpoint", &self.endpoint)
            .field("cache", &self.cache.as_ref().map(|c| c.backend()))
            .finish_non_exhaustive()
    }
}

impl BochaSearch {
    /// # Errors
    /// [`crate::HttpClientError`] when the HTTP client cannot be built (no TLS provider).
    pub fn new(
        settings: BochaSettings,
        cache: Option<Arc<dyn Cache>>,
    ) -> Result<Self, crate::HttpClientError> {
        let endpoint = format!("{}/v1/web-search", settings.base_url.trim_end_matches('/'));
        Ok(Self {
            settings,
            endpoint,
            http: crate::http_client()?,
            cache,
        })
    }

    fn cache_key(query: &SearchQuery, count: u8) -> String {
        let identity = json!([query.query, query.freshness, count, query.summary]).to_string();
        let digest = Sha256::digest(identity.as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!("websearch:v1:{hex}")
    }

    async fn cached(&self, key: &str) -> Option<Vec<SearchResult>> {
        match self.cache.as_ref()?.get(key).await {
            Ok(hit) => serde_json::from_slice(&hit?).ok(),
            Err(e) => {
                tracing::warn!(error = %e, "web search cache unreadable; asking Bocha");
                None
            }
        }
    }

    async fn remember(&self, key: &str, results: &[SearchResult]) {
        let (Some(cache), Ok(bytes)) = (&self.cache, serde_json::to_vec(results)) else {
            return;
        };
        if let Err(e) = cache.set(key, &bytes, self.settings.cache_ttl).await {
            tracing::warn!(error = %e, "could not cache web search results");
        }
    }

    async fn fetch(
        &self,
        query: &SearchQuery,
        count: u8,
    ) -> Result<Vec<SearchResult>, SearchError> {
        let key = self.settings.api_key.expose_secret();
        let body = json!({
            "query": query.query,
            "freshness": query.freshness,
            "summary": query.summary,
            "count": count,
        });
        let unavailable = |e: reqwest::Error| {
            let text = if e.is_timeout() {
                format!("no answer within {} ms", self.settings.timeout.as_millis())
            } else {
                let mut text = e.to_string();
                if let Some(cause) = std::error::Error::source(&e) {
                    text = format!("{text}: {cause}");
                }
                text
            };
            SearchError::Unavailable(scrub(&text, Some(key)))
        };
        let response = self
            .http
            .post(&self.endpoint)
            .bearer_auth(key)
            .timeout(self.settings.timeout)
            .json(&body)
            .send()
            .await
            .map_err(unavailable)?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(unavailable)?;
        wire::read(status, &bytes).map_err(|e| match e {
            SearchError::BadRequest(m) => SearchError::BadRequest(scrub(&m, Some(key))),
            SearchError::Unavailable(m) => SearchError::Unavailable(scrub(&m, Some(key))),
            other => other,
        })
    }
}

fn outcome(result: &Result<Vec<SearchResult>, SearchError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(SearchError::NotConfigured) => "not_configured",
        Err(SearchError::BadKey) => "bad_key",
        Err(SearchError::OutOfBalance) => "out_of_balance",
        Err(SearchError::RateLimited) => "rate_limited",
        Err(SearchError::BadRequest(_)) => "bad_request",
        Err(SearchError::Unavailable(_)) => "unavailable",
    }
}

#[async_trait::async_trait]
impl WebSearch for BochaSearch {
    #[tracing::instrument(skip_all, fields(count = query.count, summary = query.summary))]
    async fn search(&self, query: &SearchQuery) -> Result<Vec<SearchResult>, SearchError> {
        if self.settings.api_key.expose_secret().trim().is_empty() {
            return Err(SearchError::NotConfigured);
        }
        if query.query.trim().is_empty() {
            return Err(SearchError::BadRequest("the query is empty".into()));
        }
        // Bocha accepts 1–50; anything else would be a 400 for the caller to puzzle over.
        let count = query.count.clamp(1, 50);
        let key = Self::cache_key(query, count);
        if let Some(results) = self.cached(&key).await {
            metrics::counter!("stockpilot_web_search_requests_total", "outcome" => "cached")
                .increment(1);
            return Ok(results);
        }
        let result = self.fetch(query, count).await;
        metrics::counter!("stockpilot_web_search_requests_total", "outcome" => outcome(&result))
            .increment(1);
        match &result {
            Ok(results) => self.remember(&key, results).await,
            Err(e) => tracing::warn!(error = %e, "web search failed"),
        }
        result
    }
}
