//! Which adapters serve which ports, decided from configuration alone.

use std::sync::Arc;

use anyhow::Context;
use secrecy::ExposeSecret;
use stockpilot_application::market::QuerySettings;
use stockpilot_application::ports::MarketDataSource;
use stockpilot_application::sync::{Sources, SyncSettings};
use stockpilot_data_engineering::{
    CsvSettings, CsvSource, FinancialDatasetsSettings, FinancialDatasetsSource, RetrySettings,
    ThrottleSettings, TushareSettings, TushareSource,
};
use stockpilot_domain::market::Market;

use crate::config::{Config, millis, secs};

fn retry(max_retries: u32) -> RetrySettings {
    RetrySettings {
        max_retries,
        ..RetrySettings::default()
    }
}

/// What the `csv` provider serves: `providers.csv.dir`, else the demo dataset
/// (`data.demo_dir`, else the copy built into the binary).
pub fn csv_settings(config: &Config) -> CsvSettings {
    match &config.csv.dir {
        Some(dir) => CsvSettings::new(dir.clone()),
        None => crate::demo::DemoData::from_config(config).csv_settings(),
    }
}

/// Every configured provider. The first added for a market is its default: Tushare for CN,
/// Financial Datasets (else CSV) for US.
///
/// # Errors
/// An HTTP client that cannot be built.
pub async fn sources(config: &Config) -> anyhow::Result<Sources> {
    let mut sources = Sources::new()
        .with_hint(Market::Cn, "set TUSHARE_TOKEN (providers.tushare.token) to sync A-shares")
        .with_hint(
            Market::Us,
            "set FINANCIAL_DATASETS_API_KEY (providers.financial_datasets.api_key) or providers.csv.dir",
        );
    let t = &config.tushare;
    if let Some(token) = &t.token {
        let mut settings = TushareSettings::new(token.secret_string());
        settings.base_url = t.base_url.clone();
        settings.timeout = secs(t.timeout_secs);
        settings.throttle = ThrottleSettings {
            min_interval: millis(t.min_interval_ms),
            calls_per_minute: Some(t.calls_per_minute),
        };
        settings.retry = retry(t.max_retries);
        sources = sources.with(Arc::new(
            TushareSource::new(settings).context("Tushare client (providers.tushare)")?,
        ));
    }
    let f = &config.financial_datasets;
    if let Some(key) = &f.api_key {
        let mut settings = FinancialDatasetsSettings::new(key.secret_string());
        settings.base_url = f.base_url.clone();
        settings.timeout = secs(f.timeout_secs);
        settings.throttle = ThrottleSettings {
            min_interval: millis(f.min_interval_ms),
            calls_per_minute: f.calls_per_minute,
        };
        settings.retry = retry(f.max_retries);
        sources = sources
            .with(Arc::new(FinancialDatasetsSource::new(settings).context(
                "Financial Datasets client (providers.financial_datasets)",
            )?));
    }
    // The CSV files are the default only for the markets they actually cover, so a market
    // without a real provider still gets the 409 naming the setting to set.
    let csv = Arc::new(CsvSource::new(csv_settings(config)));
    let mut covered = Vec::new();
    for market in Market::ALL.iter().copied() {
        if csv.instruments(market).await.is_ok_and(|i| !i.is_empty()) {
            covered.push(market);
        }
    }
    Ok(sources.with_markets(csv, &covered))
}

pub fn sync_settings(config: &Config) -> SyncSettings {
    let s = &config.sync;
    SyncSettings {
        batch_size: s.batch_size,
        max_attempts: s.max_attempts,
        retry_backoff: secs(s.retry_backoff_secs),
        incremental_limit_days: s.incremental_limit_days,
        history_start: s.history_start,
        stale_after: secs(s.stale_after_secs),
        poll_interval: millis(s.poll_interval_ms),
    }
}

pub fn query_settings(config: &Config) -> QuerySettings {
    QuerySettings {
        max_range_days: config.api.max_range_days,
        cache_ttl: secs(config.api.cache_ttl_secs),
    }
}

/// A name for this process in job claims: the host name and a random suffix.
pub fn worker_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "stockpilot".into());
    let suffix = uuid_suffix();
    format!("{}-{suffix}", host.chars().take(40).collect::<String>())
}

fn uuid_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{:x}{:x}", std::process::id(), nanos)
}

/// The sync engine over the store, with the configured providers; its writes invalidate
/// cached bar responses in `cache`.
///
/// # Errors
/// A provider client that cannot be built.
pub async fn sync_service(
    config: &Config,
    store: Arc<stockpilot_db::SeaStore>,
    cache: Arc<dyn stockpilot_application::ports::Cache>,
    clock: Arc<dyn stockpilot_application::ports::Clock>,
) -> anyhow::Result<Arc<stockpilot_application::sync::SyncService>> {
    Ok(Arc::new(
        stockpilot_application::sync::SyncService::new(
            store.clone(),
            store,
            sources(config).await?,
            clock,
            sync_settings(config),
        )
        .with_cache(cache),
    ))
}

/// The Redis link when `cache.redis_url` is set: one connection with a per-command timeout
/// and a circuit breaker, shared by the cache, the rate limiter and their readiness checks.
///
/// # Errors
/// An invalid URL, or Redis refusing or not answering within `cache.connect_timeout_secs`.
pub async fn redis(config: &Config) -> anyhow::Result<Option<stockpilot_cache::RedisLink>> {
    match &config.cache.redis_url {
        Some(url) => Ok(Some(
            stockpilot_cache::RedisLink::connect(
                url.expose_secret(),
                secs(config.cache.connect_timeout_secs),
                millis(config.cache.command_timeout_ms),
            )
            .await?,
        )),
        None => Ok(None),
    }
}

/// The cache: Redis (with this instance's memory while Redis is unavailable) when there is a
/// link, else memory; and the `redis` readiness check.
pub fn cache(
    redis: Option<&stockpilot_cache::RedisLink>,
) -> (
    Arc<dyn stockpilot_application::ports::Cache>,
    Option<Arc<dyn stockpilot_application::ports::DependencyProbe>>,
) {
    match redis {
        Some(link) => {
            let probe: Arc<dyn stockpilot_application::ports::DependencyProbe> =
                Arc::new(link.probe());
            (
                Arc::new(stockpilot_cache::RedisCache::new(link.clone())),
                Some(probe),
            )
        }
        None => (Arc::new(stockpilot_cache::MemoryCache::default()), None),
    }
}

/// Connects (running pending migrations unless `database.auto_migrate = false`) and builds
/// the store and sync service, for CLI commands that work without the HTTP server.
///
/// # Errors
/// Connection, migration or client setup failures.
pub async fn open_sync(
    config: &Config,
) -> anyhow::Result<(
    stockpilot_db::DatabaseConnection,
    Arc<stockpilot_db::SeaStore>,
    Arc<stockpilot_application::sync::SyncService>,
)> {
    let db = stockpilot_db::connect(&crate::startup::db_settings(config)).await?;
    if config.database.auto_migrate {
        migration::ops::upgrade(&db, &migration::ops::UpgradeTarget::Head)
            .await
            .context("running pending migrations")?;
    }
    let store = Arc::new(stockpilot_db::SeaStore::new(db.clone()));
    // Through a shared Redis, a CLI sync invalidates what the servers have cached.
    let (cache, _) = cache(redis(config).await?.as_ref());
    let sync = sync_service(
        config,
        store.clone(),
        cache,
        Arc::new(stockpilot_application::ports::SystemClock),
    )
    .await?;
    Ok((db, store, sync))
}

/// The default LLM provider from `LLM_BASE_URL` / `LLM_MODEL` / `LLM_API_KEY` (or
/// `OPENAI_API_KEY`), if any of them is set. A key alone means OpenAI.
pub fn configured_llm(config: &Config) -> Option<stockpilot_application::ports::ProviderConfig> {
    use stockpilot_application::llm::{from_preset, presets};
    let c = &config.llm;
    if c.base_url.is_none() && c.model.is_none() && c.api_key.is_none() {
        return None;
    }
    let preset = match (&c.preset, &c.base_url) {
        (Some(name), _) => presets::preset(name),
        (None, Some(url)) => Some(presets::guess(url)),
        (None, None) => presets::preset("openai"),
    };
    let mut p = from_preset(
        &c.name,
        preset.unwrap_or(&presets::PRESETS[presets::PRESETS.len() - 1]),
    );
    if let Some(name) = &c.preset {
        p.preset = name.clone();
    }
    if let Some(url) = &c.base_url {
        p.base_url = url.trim_end_matches('/').to_owned();
    }
    if let Some(model) = &c.model {
        p.model = model.clone();
    }
    p.api_key = c.api_key.as_ref().map(|k| k.expose_secret().to_owned());
    if let Some(v) = c.supports_json_schema {
        p.supports_json_schema = v;
    }
    p.timeout = secs(c.timeout_secs);
    p.max_concurrent = c.max_concurrent;
    p.price_input_per_1k = c.price_input_per_1k;
    p.price_output_per_1k = c.price_output_per_1k;
    // Configured first; providers added over the API default to priority 100.
    p.priority = 0;
    p.source = "config".into();
    Some(p)
}

/// The LLM registry over the gateway, with providers from configuration and the database.
///
/// # Errors
/// An HTTP client that cannot be built, or an unusable encryption key.
pub async fn llm_registry(
    config: &Config,
    store: Arc<stockpilot_db::SeaStore>,
    cache: Arc<dyn stockpilot_application::ports::Cache>,
    clock: Arc<dyn stockpilot_application::ports::Clock>,
) -> anyhow::Result<Arc<stockpilot_application::llm::LlmRegistry>> {
    use stockpilot_llm::{AesGcmBox, GatewaySettings, OpenAiGateway};
    let c = &config.llm;
    let settings = GatewaySettings {
        max_retries: c.max_retries,
        breaker_failures: c.breaker_failures,
        breaker_cooldown: secs(c.breaker_cooldown_secs),
        cache_ttl: (c.cache_ttl_secs > 0).then(|| secs(c.cache_ttl_secs)),
        ..GatewaySettings::default()
    };
    let gateway = OpenAiGateway::new(Vec::new(), settings, store.clone(), Some(cache))
        .context("LLM gateway")?;
    let secrets: Option<Arc<dyn stockpilot_application::ports::SecretBox>> =
        match &config.security.encryption_key {
            Some(key) => Some(Arc::new(
                AesGcmBox::from_key_text(key.expose_secret())
                    .map_err(|e| anyhow::anyhow!("security.encryption_key: {e}"))?,
            )),
            None => None,
        };
    let registry = Arc::new(stockpilot_application::llm::LlmRegistry::new(
        store.clone(),
        store,
        Arc::new(gateway),
        secrets,
        configured_llm(config).into_iter().collect(),
        clock,
    ));
    let n = registry
        .reload()
        .await
        .map_err(|e| anyhow::anyhow!("loading LLM providers: {e}"))?;
    if n == 0 {
        tracing::info!(
            "no LLM provider configured; LLM features answer 409 until LLM_BASE_URL or a provider is set"
        );
    } else {
        tracing::info!(providers = n, "LLM providers loaded");
    }
    Ok(registry)
}

/// Bocha web search, when `BOCHA_API_KEY` is set.
///
/// # Errors
/// An HTTP client that cannot be built.
pub fn web_search(
    config: &Config,
    cache: Arc<dyn stockpilot_application::ports::Cache>,
) -> anyhow::Result<Option<Arc<dyn stockpilot_application::ports::WebSearch>>> {
    let Some(key) = &config.search.bocha_api_key else {
        return Ok(None);
    };
    let mut settings = stockpilot_llm::BochaSettings::new(key.secret_string());
    settings.base_url = config.search.base_url.clone();
    settings.timeout = secs(config.search.timeout_secs);
    settings.cache_ttl = secs(config.search.cache_ttl_secs);
    Ok(Some(Arc::new(
        stockpilot_llm::BochaSearch::new(settings, Some(cache)).context("web search client")?,
    )))
}

/// Research settings from configuration.
pub fn research_settings(config: &Config) -> stockpilot_application::research::ResearchSettings {
    let r = &config.research;
    stockpilot_application::research::ResearchSettings {
        max_concurrent_analysts: r.max_concurrent_analysts as usize,
        run_concurrency: r.run_concurrency as usize,
        default_max_tokens: r.max_tokens,
        max_tokens_per_call: r.max_tokens_per_call,
        stale_after: secs(r.stale_after_secs),
        poll_interval: millis(r.poll_interval_ms),
        resume_interrupted: r.on_interrupted == "resume",
        portfolio_value: rust_decimal::Decimal::from(r.portfolio_value),
    }
}

/// The research service over the store, the LLM gateway and web search.
pub fn research_service(
    config: &Config,
    store: Arc<stockpilot_db::SeaStore>,
    llm: &stockpilot_application::llm::LlmRegistry,
    search: Option<Arc<dyn stockpilot_application::ports::WebSearch>>,
    clock: Arc<dyn stockpilot_application::ports::Clock>,
) -> Arc<stockpilot_application::research::ResearchService> {
    Arc::new(
        stockpilot_application::research::ResearchService::new(
            store.clone(),
            store.clone(),
            Some(llm.gateway().clone()),
            search,
            clock,
            research_settings(config),
        )
        .with_usage_ledger(store),
    )
}

/// Per-client rate limits when `rate_limit.enabled`: counted in this instance's memory and in
/// Redis when there is a link (per instance only while Redis is unavailable, with a `/ready`
/// check saying so), else in memory.
pub fn rate_limiting(
    config: &Config,
    redis: Option<&stockpilot_cache::RedisLink>,
) -> Option<(
    stockpilot_presentation::middleware::RateLimiting,
    Option<Arc<dyn stockpilot_application::ports::DependencyProbe>>,
)> {
    let r = &config.rate_limit;
    if !r.enabled {
        tracing::warn!("rate_limit.enabled is false: requests are not rate limited");
        return None;
    }
    let limits = stockpilot_presentation::middleware::RateLimits {
        reads: r.reads_per_minute,
        writes: r.writes_per_minute,
        chat: r.chat_per_minute,
        research: r.research_per_minute,
    };
    let (store, probe): (
        Arc<dyn stockpilot_application::ports::RateLimitStore>,
        Option<Arc<dyn stockpilot_application::ports::DependencyProbe>>,
    ) = match redis {
        Some(link) => {
            let limiter = stockpilot_cache::FallbackRateLimiter::new(
                stockpilot_cache::RedisRateLimiter::new(link, "limits"),
            );
            let probe: Arc<dyn stockpilot_application::ports::DependencyProbe> =
                Arc::new(limiter.probe());
            (Arc::new(limiter), Some(probe))
        }
        None => (
            Arc::new(stockpilot_cache::MemoryRateLimiter::default()),
            None,
        ),
    };
    tracing::info!(
        backend = store.backend(),
        reads = limits.reads,
        writes = limits.writes,
        chat = limits.chat,
        research = limits.research,
        "rate limits per client per minute"
    );
    Some((
        stockpilot_presentation::middleware::RateLimiting { store, limits },
        probe,
    ))
}

/// API keys and the audit log over the database.
pub fn auth_service(
    config: &Config,
    store: Arc<stockpilot_db::SeaStore>,
) -> Arc<stockpilot_application::auth::AuthService> {
    Arc::new(stockpilot_application::auth::AuthService::new(
        store.clone(),
        store,
        Arc::new(stockpilot_application::ports::SystemClock),
        secs(config.auth.key_cache_ttl_secs),
    ))
}

/// Writes the first-run admin key to `path`, readable by the owner only.
///
/// # Errors
/// The directory or file cannot be written.
pub fn write_bootstrap_key(path: &std::path::Path, token: &str) -> anyhow::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating {} (auth.bootstrap_key_file)", dir.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("writing {} (auth.bootstrap_key_file)", path.display()))?;
    // An existing file keeps its old mode through `open`: set it explicitly.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    writeln!(file, "{token}")?;
    Ok(())
}

/// An audit entry for something done outside the API (the CLI, first start).
pub fn cli_audit(
    auth: &stockpilot_application::auth::AuthService,
    action: &str,
    target: &str,
    actor: &str,
) -> stockpilot_application::auth::AuditEntry {
    stockpilot_application::auth::AuditEntry {
        id: 0,
        at: auth.now(),
        key_id: None,
        key_name: Some(actor.to_owned()),
        role: None,
        action: action.to_owned(),
        target: target.to_owned(),
        client_ip: None,
        request_id: None,
        outcome: "succeeded".to_owned(),
        status: None,
    }
}

/// How often each server checks whether a key was revoked by another process (the CLI or
/// another replica); a revocation takes effect everywhere within about this long.
pub const REVOCATION_CHECK: std::time::Duration = std::time::Duration::from_secs(1);

/// Clears the key cache whenever a key was revoked elsewhere, checking every
/// [`REVOCATION_CHECK`] until shutdown.
pub async fn watch_revocations(
    auth: Arc<stockpilot_application::auth::AuthService>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(REVOCATION_CHECK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut seen = None;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        match auth.forget_if_revoked_elsewhere(seen).await {
            Ok(n) => seen = Some(n),
            // The database being down is reported by readiness; cached keys then expire by
            // their own TTL (auth.key_cache_ttl_secs).
            Err(e) => tracing::debug!(error = %e, "cannot check for revoked API keys"),
        }
    }
}

/// Writes keys' `last_used_at` every `every`, and once more on shutdown.
pub async fn flush_key_usage(
    auth: Arc<stockpilot_application::auth::AuthService>,
    every: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let stopping = tokio::select! {
            _ = tick.tick() => false,
            _ = stop.changed() => true,
        };
        if let Err(e) = auth.flush_usage().await {
            tracing::warn!(error = %e, "API key usage not written; retrying at the next flush");
        }
        if stopping {
            return;
        }
    }
}
