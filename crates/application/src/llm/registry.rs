//! The LLM provider registry: providers from configuration (read-only) and from the database
//! (managed over the API, keys sealed at rest), merged and handed to the gateway, which sees
//! every change at once — no restart.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde::Serialize;

use super::presets::{self, Preset};
use crate::ports::{
    ChatMessage, CircuitState, Clock, Completion, CompletionRequest, LlmError, LlmGateway,
    LlmProviderStore, LlmUsageStore, ProviderConfig, SecretBox, StoredProvider, UsageGroup,
    UsageSummary,
};
use crate::{AppError, FieldProblem};

/// A provider as the API shows it: the key only masked.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProviderView {
    pub name: String,
    pub preset: String,
    pub base_url: String,
    pub model: String,
    /// `sk-…abcd`; `None` when no key is set.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub api_key: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub organization: Option<String>,
    pub supports_json_schema: bool,
    pub max_context_tokens: u32,
    pub max_output_tokens: u32,
    pub timeout_secs: u64,
    pub max_concurrent: u32,
    /// Lower is tried first.
    pub priority: i32,
    pub enabled: bool,
    pub price_input_per_1k: f64,
    pub price_output_per_1k: f64,
    /// `config` (read-only over the API) or `database`.
    pub source: String,
    /// The circuit breaker's state; `null` when the gateway does not know the provider.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub circuit: Option<CircuitState>,
}

/// Fields of a provider to create or change; `None` = keep (or, on create, the preset default).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProviderChanges {
    pub preset: Option<String>,
    pub base_url: Option<String>,
    pub model: Option<String>,
    /// `Some(None)` removes the key.
    pub api_key: Option<Option<String>>,
    pub organization: Option<Option<String>>,
    pub supports_json_schema: Option<bool>,
    pub max_context_tokens: Option<u32>,
    pub max_output_tokens: Option<u32>,
    pub timeout_secs: Option<u64>,
    pub max_concurrent: Option<u32>,
    pub priority: Option<i32>,
    pub enabled: Option<bool>,
    pub price_input_per_1k: Option<f64>,
    pub price_output_per_1k: Option<f64>,
}

/// The outcome of a tiny live call.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProviderTest {
    pub provider: String,
    pub ok: bool,
    pub latency_ms: u64,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub model: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub answer: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub error: Option<String>,
}

const NO_ENCRYPTION_KEY: &str = "storing provider API keys needs an encryption key: set STOCKPILOT_ENCRYPTION_KEY (32 bytes, base64 or hex) or STOCKPILOT_ENCRYPTION_KEY_FILE";

/// `sk-…abcd`: enough to recognise a key, not to use it.
pub fn mask(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() < 12 {
        return "****".into();
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

fn view(c: &ProviderConfig, circuit: Option<CircuitState>) -> ProviderView {
    ProviderView {
        name: c.name.clone(),
        preset: c.preset.clone(),
        base_url: c.base_url.clone(),
        model: c.model.clone(),
        api_key: c.api_key.as_deref().map(mask),
        organization: c.organization.clone(),
        supports_json_schema: c.supports_json_schema,
        max_context_tokens: c.max_context_tokens,
        max_output_tokens: c.max_output_tokens,
        timeout_secs: c.timeout.as_secs(),
        max_concurrent: c.max_concurrent,
        priority: c.priority,
        enabled: c.enabled,
        price_input_per_1k: c.price_input_per_1k,
        price_output_per_1k: c.price_output_per_1k,
        source: c.source.clone(),
        circuit,
    }
}

/// Every problem with a provider's values, each naming the field.
pub fn validate(c: &ProviderConfig) -> Vec<FieldProblem> {
    let mut p = Vec::new();
    let name_ok = !c.name.is_empty()
        && c.name.len() <= 64
        && c.name
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-' || ch == '_');
    if !name_ok {
        p.push(FieldProblem::new(
            "name",
            "must be 1–64 characters of a-z, 0-9, - and _",
        ));
    }
    if presets::preset(&c.preset).is_none() {
        p.push(FieldProblem::new(
            "preset",
            format!(
                "unknown preset '{}'; allowed: {}",
                c.preset,
                presets::names()
            ),
        ));
    }
    let url = c.base_url.as_str();
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or_default());
    if !host.is_some_and(|h| !h.is_empty() && !h.starts_with(':'))
        || url.chars().any(char::is_whitespace)
    {
        p.push(FieldProblem::new(
            "base_url",
            "must be an http(s) URL with a host, e.g. http://localhost:11434/v1",
        ));
    }
    if c.model.trim().is_empty() || c.model.len() > 128 {
        p.push(FieldProblem::new(
            "model",
            "must not be empty (at most 128 characters)",
        ));
    }
    if c.api_key
        .as_deref()
        .is_some_and(|k| k.is_empty() || k.len() > 512 || k.chars().any(char::is_whitespace))
    {
        p.push(FieldProblem::new(
            "api_key",
            "must be 1–512 characters without spaces",
        ));
    }
    for (field, price) in [
        ("price_input_per_1k", c.price_input_per_1k),
        ("price_output_per_1k", c.price_output_per_1k),
    ] {
        if !(price.is_finite() && price >= 0.0) {
            p.push(FieldProblem::new(
                field,
                format!("must be a price of zero or more, got {price}"),
            ));
        }
    }
    if !(1..=600).contains(&c.timeout.as_secs()) {
        p.push(FieldProblem::new(
            "timeout_secs",
            "must be between 1 and 600",
        ));
    }
    if !(1..=256).contains(&c.max_concurrent) {
        p.push(FieldProblem::new(
            "max_concurrent",
            "must be between 1 and 256",
        ));
    }
    for (field, v) in [
        ("max_context_tokens", c.max_context_tokens),
        ("max_output_tokens", c.max_output_tokens),
    ] {
        if !(1..=10_000_000).contains(&v) {
            p.push(FieldProblem::new(field, "must be between 1 and 10000000"));
        }
    }
    p
}

fn invalid(problems: Vec<FieldProblem>) -> AppError {
    let message = problems
        .iter()
        .map(|p| format!("{}: {}", p.field, p.message))
        .collect::<Vec<_>>()
        .join("; ");
    AppError::Validation { message, problems }
}

/// A provider with the defaults of its preset.
pub fn from_preset(name: &str, preset: &Preset) -> ProviderConfig {
    ProviderConfig {
        name: name.to_owned(),
        preset: preset.name.to_owned(),
        base_url: preset.base_url.to_owned(),
        model: preset.default_model.to_owned(),
        api_key: None,
        organization: None,
        supports_json_schema: preset.supports_json_schema,
        max_context_tokens: preset.max_context_tokens,
        max_output_tokens: preset.max_output_tokens,
        timeout: Duration::from_secs(60),
        max_concurrent: 4,
        priority: 100,
        enabled: true,
        price_input_per_1k: 0.0,
        price_output_per_1k: 0.0,
        source: "database".into(),
    }
}

fn apply(mut c: ProviderConfig, ch: &ProviderChanges) -> ProviderConfig {
    if let Some(v) = &ch.base_url {
        c.base_url = v.trim_end_matches('/').to_owned();
    }
    c.model = ch.model.clone().unwrap_or(c.model);
    c.api_key = ch.api_key.clone().unwrap_or(c.api_key);
    c.organization = ch.organization.clone().unwrap_or(c.organization);
    c.supports_json_schema = ch.supports_json_schema.unwrap_or(c.supports_json_schema);
    c.max_context_tokens = ch.max_context_tokens.unwrap_or(c.max_context_tokens);
    c.max_output_tokens = ch.max_output_tokens.unwrap_or(c.max_output_tokens);
    c.timeout = ch.timeout_secs.map_or(c.timeout, Duration::from_secs);
    c.max_concurrent = ch.max_concurrent.unwrap_or(c.max_concurrent);
    c.priority = ch.priority.unwrap_or(c.priority);
    c.enabled = ch.enabled.unwrap_or(c.enabled);
    c.price_input_per_1k = ch.price_input_per_1k.unwrap_or(c.price_input_per_1k);
    c.price_output_per_1k = ch.price_output_per_1k.unwrap_or(c.price_output_per_1k);
    c
}

pub struct LlmRegistry {
    store: Arc<dyn LlmProviderStore>,
    usage: Arc<dyn LlmUsageStore>,
    gateway: Arc<dyn LlmGateway>,
    secrets: Option<Arc<dyn SecretBox>>,
    configured: Vec<ProviderConfig>,
    clock: Arc<dyn Clock>,
}

impl LlmRegistry {
    pub fn new(
        store: Arc<dyn LlmProviderStore>,
        usage: Arc<dyn LlmUsageStore>,
        gateway: Arc<dyn LlmGateway>,
        secrets: Option<Arc<dyn SecretBox>>,
        configured: Vec<ProviderConfig>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            usage,
            gateway,
            secrets,
            configured,
            clock,
        }
    }

    pub fn gateway(&self) -> &Arc<dyn LlmGateway> {
        &self.gateway
    }

    /// Every provider with its key opened; a key that cannot be opened (the encryption key
    /// changed) disables that provider with a warning instead of stopping the service.
    async fn providers(&self) -> Result<Vec<ProviderConfig>, AppError> {
        let mut all = self.configured.clone();
        for stored in self.store.list().await? {
            let mut c = stored.config;
            if let Some(sealed) = &stored.sealed_key {
                match self.secrets.as_ref().map(|s| s.open(sealed)) {
                    Some(Ok(key)) => c.api_key = Some(key),
                    Some(Err(e)) => {
                        tracing::error!(provider = %c.name, error = %e, "cannot open the provider's API key; provider disabled");
                        c.enabled = false;
                    }
                    None => {
                        tracing::error!(provider = %c.name, "provider has a sealed key but no STOCKPILOT_ENCRYPTION_KEY is set; provider disabled");
                        c.enabled = false;
                    }
                }
            }
            all.push(c);
        }
        Ok(all)
    }

    /// Hands the current provider set to the gateway (at start and after every change).
    ///
    /// # Errors
    /// Storage errors.
    pub async fn reload(&self) -> Result<usize, AppError> {
        let providers = self.providers().await?;
        let n = providers.len();
        self.gateway.reload(providers);
        Ok(n)
    }

    fn circuit(&self, name: &str) -> Option<CircuitState> {
        self.gateway
            .status()
            .into_iter()
            .find(|s| s.name == name)
            .map(|s| s.circuit)
    }

    /// # Errors
    /// Storage errors.
    pub async fn list(&self) -> Result<Vec<ProviderView>, AppError> {
        Ok(self
            .providers()
            .await?
            .iter()
            .map(|c| view(c, self.circuit(&c.name)))
            .collect())
    }

    /// # Errors
    /// `NotFound` naming the provider.
    pub async fn get(&self, name: &str) -> Result<ProviderView, AppError> {
        self.providers()
            .await?
            .iter()
            .find(|c| c.name == name)
            .map(|c| view(c, self.circuit(name)))
            .ok_or_else(|| AppError::NotFound(format!("LLM provider '{name}' does not exist")))
    }

    fn seal(&self, key: Option<&str>) -> Result<Option<Vec<u8>>, AppError> {
        match key {
            None => Ok(None),
            Some(k) => {
                let secrets = self
                    .secrets
                    .as_ref()
                    .ok_or_else(|| AppError::Conflict(NO_ENCRYPTION_KEY.into()))?;
                secrets.seal(k).map(Some).map_err(|e| {
                    AppError::Internal(anyhow::anyhow!("sealing the API key failed: {e}"))
                })
            }
        }
    }

    async fn save(
        &self,
        config: ProviderConfig,
        created_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<ProviderView, AppError> {
        let problems = validate(&config);
        if !problems.is_empty() {
            return Err(invalid(problems));
        }
        let sealed_key = self.seal(config.api_key.as_deref())?;
        let now = self.clock.now();
        let stored = StoredProvider {
            config: ProviderConfig {
                api_key: None,
                ..config.clone()
            },
            sealed_key,
            created_at: created_at.unwrap_or(now),
            updated_at: now,
        };
        self.store.save(&stored).await?;
        self.reload().await?;
        Ok(view(&config, self.circuit(&config.name)))
    }

    /// # Errors
    /// `Validation` listing every bad field, `Conflict` for an existing name or a key without
    /// an encryption key.
    pub async fn create(
        &self,
        name: &str,
        changes: &ProviderChanges,
    ) -> Result<ProviderView, AppError> {
        let preset_name = changes.preset.clone().unwrap_or_else(|| {
            changes
                .base_url
                .as_deref()
                .map_or("custom", |u| presets::guess(u).name)
                .to_owned()
        });
        let Some(preset) = presets::preset(&preset_name) else {
            return Err(AppError::invalid(
                "preset",
                format!(
                    "unknown preset '{preset_name}'; allowed: {}",
                    presets::names()
                ),
            ));
        };
        if self.configured.iter().any(|c| c.name == name) || self.store.get(name).await?.is_some() {
            return Err(AppError::Conflict(format!(
                "LLM provider '{name}' already exists; change it with PATCH"
            )));
        }
        let config = apply(from_preset(name, preset), changes);
        self.save(config, None).await
    }

    /// # Errors
    /// `NotFound`, `Conflict` for providers defined by configuration, `Validation`.
    pub async fn update(
        &self,
        name: &str,
        changes: &ProviderChanges,
    ) -> Result<ProviderView, AppError> {
        if self.configured.iter().any(|c| c.name == name) {
            return Err(AppError::Conflict(format!(
                "LLM provider '{name}' is defined by configuration (LLM_BASE_URL …); change it there"
            )));
        }
        let stored =
            self.store.get(name).await?.ok_or_else(|| {
                AppError::NotFound(format!("LLM provider '{name}' does not exist"))
            })?;
        if let Some(p) = &changes.preset
            && presets::preset(p).is_none()
        {
            return Err(AppError::invalid(
                "preset",
                format!("unknown preset '{p}'; allowed: {}", presets::names()),
            ));
        }
        let mut config = stored.config;
        // Keep the stored key unless the change sets or clears it.
        if changes.api_key.is_none()
            && let Some(sealed) = &stored.sealed_key
        {
            let secrets = self
                .secrets
                .as_ref()
                .ok_or_else(|| AppError::Conflict(NO_ENCRYPTION_KEY.into()))?;
            config.api_key = Some(secrets.open(sealed).map_err(|e| {
                AppError::Conflict(format!(
                    "the stored API key cannot be opened ({e}); set a new api_key"
                ))
            })?);
        }
        if let Some(p) = &changes.preset {
            config.preset = p.clone();
        }
        self.save(apply(config, changes), Some(stored.created_at))
            .await
    }

    /// # Errors
    /// `NotFound`, or `Conflict` for providers defined by configuration.
    pub async fn delete(&self, name: &str) -> Result<(), AppError> {
        if self.configured.iter().any(|c| c.name == name) {
            return Err(AppError::Conflict(format!(
                "LLM provider '{name}' is defined by configuration; remove it there"
            )));
        }
        if !self.store.delete(name).await? {
            return Err(AppError::NotFound(format!(
                "LLM provider '{name}' does not exist"
            )));
        }
        self.reload().await?;
        Ok(())
    }

    /// A tiny live call through the gateway to this provider.
    ///
    /// # Errors
    /// `NotFound` for an unknown provider; a failing call is reported in the result.
    pub async fn test(&self, name: &str) -> Result<ProviderTest, AppError> {
        self.get(name).await?;
        let started = Instant::now();
        let outcome = self
            .chat(CompletionRequest {
                messages: vec![ChatMessage::user("Reply with the single word: ok")],
                provider: Some(name.to_owned()),
                model: None,
                temperature: Some(0.0),
                max_tokens: Some(5),
                schema: None,
                purpose: "provider_test".into(),
            })
            .await;
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        Ok(match outcome {
            Ok(c) => ProviderTest {
                provider: name.into(),
                ok: true,
                latency_ms,
                model: Some(c.model),
                answer: Some(c.content),
                error: None,
            },
            Err(e) => ProviderTest {
                provider: name.into(),
                ok: false,
                latency_ms,
                model: None,
                answer: None,
                error: Some(e.to_string()),
            },
        })
    }

    /// # Errors
    /// [`LlmError`].
    pub async fn chat(&self, request: CompletionRequest) -> Result<Completion, LlmError> {
        self.gateway.complete(request).await
    }

    /// # Errors
    /// Storage errors.
    pub async fn usage(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        group: UsageGroup,
    ) -> Result<Vec<UsageSummary>, AppError> {
        Ok(self.usage.summary(from, to, group).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keys_to_a_recognisable_stub() {
        assert_eq!(mask("sk-proj-abcdefghijklmnop1234"), "sk-…1234");
        assert_eq!(mask("short"), "****");
    }

    #[test]
    fn lists_every_invalid_field() {
        let mut c = from_preset("Bad Name", presets::preset("custom").unwrap());
        c.base_url = "ftp://x".into();
        c.price_input_per_1k = -1.0;
        let fields: Vec<String> = validate(&c).into_iter().map(|p| p.field).collect();
        assert_eq!(fields, ["name", "base_url", "model", "price_input_per_1k"]);
        let ok = ProviderConfig {
            model: "llama3.1".into(),
            ..from_preset("local", presets::preset("ollama").unwrap())
        };
        assert!(validate(&ok).is_empty());
    }
}
