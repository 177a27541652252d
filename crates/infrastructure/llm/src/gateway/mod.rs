//! The `LlmGateway` port over OpenAI-compatible chat-completions servers.
//!
//! Which providers a call tries:
//! - `request.provider` named: only that one (`UnknownProvider` if it does not exist,
//!   `Unavailable` if it is disabled or its circuit refuses calls);
//! - otherwise every enabled provider by ascending `priority` (ties by name), skipping open
//!   circuits, moving to the next after any failure (see `call_error` for which failures are
//!   retried on the same provider first and which count toward its breaker). None enabled →
//!   `NoProvider`; every one failed or skipped → `AllFailed` listing each with its reason.
//!
//! Each attempt is recorded as a `UsageRecord` and in metrics (see `telemetry`); a cached
//! answer (see `answer_cache`) is recorded with outcome `cached`.
//!
//! The wire format is spoken with reqwest directly rather than through async-openai 0.43:
//! its client drops response headers (no `Retry-After`), turns non-OpenAI error bodies into
//! deserialization errors without the HTTP status, and its response types reject answers
//! that compatible servers really send (`finish_reason` values outside OpenAI's enum such as
//! DeepSeek's `insufficient_system_resource`, missing `id`/`created`).

mod answer_cache;
mod breaker;
mod call_error;
mod provider;
mod settings;
mod telemetry;
mod wire;

use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use stockpilot_application::ports::{
    Cache, CallOutcome, Completion, CompletionRequest, LlmError, LlmGateway, LlmUsageStore,
    ProviderConfig, ProviderStatus,
};
use tokio::sync::Semaphore;

pub use settings::{GatewaySettings, LlmConfig};

use answer_cache::AnswerCache;
use breaker::Breaker;
use call_error::CallError;
use provider::Provider;
use telemetry::Attempt;

/// Sends completions along the configured providers; cheap to share behind an `Arc`.
pub struct OpenAiGateway {
    settings: GatewaySettings,
    usage: Arc<dyn LlmUsageStore>,
    answers: Option<AnswerCache>,
    http: reqwest::Client,
    /// Replaced whole on reload; a call clones the `Arc` and finishes on the set it started with.
    providers: RwLock<Arc<Vec<Arc<Provider>>>>,
    jitter: AtomicU64,
}

impl std::fmt::Debug for OpenAiGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self.current().iter().map(|p| p.name().to_owned()).collect();
        f.debug_struct("OpenAiGateway")
            .field("providers", &names)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl OpenAiGateway {
    /// A gateway over `providers`; `cache` is used only when `settings.cache_ttl` is set.
    ///
    /// # Errors
    /// [`crate::HttpClientError`] when the HTTP client cannot be built (no TLS provider).
    pub fn new(
        providers: Vec<ProviderConfig>,
        settings: GatewaySettings,
        usage: Arc<dyn LlmUsageStore>,
        cache: Option<Arc<dyn Cache>>,
    ) -> Result<Self, crate::HttpClientError> {
        let answers = cache
            .zip(settings.cache_ttl)
            .map(|(cache, ttl)| AnswerCache::new(cache, ttl));
        let gateway = Self {
            jitter: AtomicU64::new(settings.jitter_seed),
            settings,
            usage,
            answers,
            http: crate::http_client()?,
            providers: RwLock::new(Arc::new(Vec::new())),
        };
        gateway.reload(providers);
        Ok(gateway)
    }

    fn current(&self) -> Arc<Vec<Arc<Provider>>> {
        // The guarded value is an `Arc` swapped in one assignment; it is never half-written.
        Arc::clone(
            &self
                .providers
                .read()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// The new set, keeping breaker, in-flight count and (if the limit is unchanged) the
    /// concurrency slots of providers that keep their name.
    fn build(&self, mut configs: Vec<ProviderConfig>, old: &[Arc<Provider>]) -> Vec<Arc<Provider>> {
        configs.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
        let mut seen = HashSet::new();
        let mut set = Vec::with_capacity(configs.len());
        for config in configs {
            if !seen.insert(config.name.clone()) {
                tracing::warn!(provider = %config.name, "duplicate LLM provider name; keeping the higher-priority one");
                continue;
            }
            let previous = old.iter().find(|p| p.name() == config.name);
            let breaker = previous.map_or_else(
                || {
                    Arc::new(Breaker::new(
                        &config.name,
                        self.settings.breaker_failures,
                        self.settings.breaker_cooldown,
                        config.enabled,
                    ))
                },
                |p| Arc::clone(&p.breaker),
            );
            breaker.set_enabled(config.enabled);
            let slots = previous
                .filter(|p| p.config.max_concurrent == config.max_concurrent)
                .map_or_else(
                    || Arc::new(Semaphore::new(Provider::slot_count(&config))),
                    |p| Arc::clone(&p.slots),
                );
            let in_flight =
                previous.map_or_else(|| Arc::new(AtomicU32::new(0)), |p| Arc::clone(&p.in_flight));
            set.push(Arc::new(Provider::new(
                config,
                breaker,
                slots,
                in_flight,
                self.http.clone(),
            )));
        }
        set
    }

    fn candidates(&self, request: &CompletionRequest) -> Result<Vec<Arc<Provider>>, LlmError> {
        let set = self.current();
        if let Some(name) = &request.provider {
            let provider = set
                .iter()
                .find(|p| p.name() == name)
                .ok_or_else(|| LlmError::UnknownProvider(name.clone()))?;
            if !provider.config.enabled {
                return Err(LlmError::Unavailable {
                    provider: name.clone(),
                    reason: "it is disabled".into(),
                });
            }
            return Ok(vec![Arc::clone(provider)]);
        }
        let enabled: Vec<_> = set.iter().filter(|p| p.config.enabled).cloned().collect();
        if enabled.is_empty() {
            return Err(LlmError::NoProvider);
        }
        Ok(enabled)
    }

    /// One provider, with retries; every attempt is recorded.
    async fn call(
        &self,
        provider: &Provider,
        request: &CompletionRequest,
        model: &str,
        body: &serde_json::Value,
    ) -> Result<(Completion, Duration), CallError> {
        let mut retry = 0;
        loop {
            let started = Instant::now();
            let result = provider.send(body).await;
            let latency = started.elapsed();
            let usage = match &result {
                Ok(answer) => answer.usage,
                Err(e) => e.usage(),
            };
            Attempt {
                provider: provider.name(),
                model,
                purpose: &request.purpose,
                usage,
                latency,
                outcome: if result.is_ok() {
                    CallOutcome::Ok
                } else {
                    CallOutcome::Error
                },
                cost_usd: provider.cost(usage),
            }
            .record(self.usage.as_ref())
            .await;
            let error = match result {
                Ok(answer) => {
                    let completion = Completion {
                        content: answer.content,
                        provider: provider.name().to_owned(),
                        model: model.to_owned(),
                        usage: answer.usage,
                        latency,
                        finish_reason: answer.finish_reason,
                        cost_usd: provider.cost(answer.usage),
                        cached: false,
                    };
                    return Ok((completion, latency));
                }
                Err(error) => error,
            };
            if retry >= self.settings.max_retries || !error.retryable() {
                return Err(error);
            }
            let Some(delay) = self.backoff(retry, error.retry_after()) else {
                return Err(error);
            };
            tracing::info!(provider = %provider.name(), retry = retry + 1, delay_ms = delay.as_millis() as u64, error = %error, "retrying LLM call");
            tokio::time::sleep(delay).await;
            retry += 1;
        }
    }

    /// Exponential backoff with equal jitter; `None` when the server asks to wait longer than
    /// `max_backoff` (better to move on to the next provider than to wait).
    fn backoff(&self, retry: u32, retry_after: Option<Duration>) -> Option<Duration> {
        let max = self.settings.max_backoff;
        let exp = self
            .settings
            .base_backoff
            .saturating_mul(1u32.checked_shl(retry).unwrap_or(u32::MAX))
            .min(max);
        let half = exp / 2;
        let unit = (self.next_random() >> 11) as f64 / (1u64 << 53) as f64;
        let delay = half + half.mul_f64(unit);
        match retry_after {
            Some(asked) if asked > max => None,
            Some(asked) => Some(asked.max(delay)),
            None => Some(delay),
        }
    }

    /// splitmix64 over a shared counter: cheap, lock-free, reproducible from the seed.
    fn next_random(&self) -> u64 {
        let mut z = self
            .jitter
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    async fn cached(
        &self,
        provider: &Provider,
        request: &CompletionRequest,
        key: &str,
        started: Instant,
    ) -> Option<Completion> {
        let mut hit = self.answers.as_ref()?.get(key, provider.name()).await?;
        hit.latency = started.elapsed();
        Attempt {
            provider: provider.name(),
            model: &hit.model,
            purpose: &request.purpose,
            usage: hit.usage,
            latency: hit.latency,
            outcome: CallOutcome::Cached,
            cost_usd: 0.0,
        }
        .record(self.usage.as_ref())
        .await;
        Some(hit)
    }
}

#[async_trait::async_trait]
impl LlmGateway for OpenAiGateway {
    #[tracing::instrument(skip_all, fields(purpose = %request.purpose, provider = request.provider.as_deref()))]
    async fn complete(&self, request: CompletionRequest) -> Result<Completion, LlmError> {
        let started = Instant::now();
        let candidates = self.candidates(&request)?;
        let explicit = request.provider.is_some();
        let cacheable = self.answers.is_some() && AnswerCache::applies_to(&request);
        let mut attempts = Vec::new();
        for provider in candidates {
            let model = provider.model_for(&request);
            let body = wire::request_body(&provider.config, &request, &model);
            let key = cacheable
                .then(|| AnswerCache::key(provider.name(), &provider.config.base_url, &body));
            if let Some(key) = &key
                && let Some(hit) = self.cached(&provider, &request, key, started).await
            {
                return Ok(hit);
            }
            let admission = match provider.breaker.admit() {
                Ok(admission) => admission,
                Err(refusal) if explicit => {
                    return Err(LlmError::Unavailable {
                        provider: provider.name().to_owned(),
                        reason: refusal.to_string(),
                    });
                }
                Err(refusal) => {
                    attempts.push((provider.name().to_owned(), refusal.to_string()));
                    continue;
                }
            };
            match self.call(&provider, &request, &model, &body).await {
                Ok((mut completion, _)) => {
                    admission.succeeded();
                    if let (Some(answers), Some(key)) = (&self.answers, &key) {
                        answers.put(key, &completion).await;
                    }
                    completion.latency = started.elapsed();
                    return Ok(completion);
                }
                Err(error) => {
                    if error.trips_breaker() {
                        admission.failed();
                    } else {
                        admission.neutral();
                    }
                    tracing::warn!(provider = %provider.name(), %error, "LLM provider failed");
                    attempts.push((provider.name().to_owned(), error.to_string()));
                }
            }
        }
        Err(LlmError::AllFailed { attempts })
    }

    fn status(&self) -> Vec<ProviderStatus> {
        self.current()
            .iter()
            .map(|p| ProviderStatus {
                name: p.name().to_owned(),
                enabled: p.config.enabled,
                circuit: p.breaker.state(),
                in_flight: p.in_flight.load(Ordering::Relaxed),
            })
            .collect()
    }

    fn reload(&self, providers: Vec<ProviderConfig>) {
        let mut guard = self
            .providers
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let next = self.build(providers, &guard);
        for gone in guard
            .iter()
            .filter(|old| !next.iter().any(|p| p.name() == old.name()))
        {
            telemetry::provider_removed(gone.name());
        }
        for provider in &next {
            telemetry::register(provider.name(), &provider.config.model);
        }
        tracing::info!(providers = next.len(), "LLM provider set loaded");
        *guard = Arc::new(next);
    }
}
