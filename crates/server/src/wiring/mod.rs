//! Which adapters serve which ports, decided from configuration alone.

use std::sync::Arc;

use anyhow::Context;
use secrecy::ExposeSecret;
use stockpilot_application::market::QuerySettings;
use stockpilot_application::ports::MarketDataSource;
use stockpilot_application::sync::{Sources, SyncSettings};
use stockpilot_data_engineering::{
    CsvSettings, CsvSource, FinancialDatasetsSettings, FinancialDatasetsSource, TushareSettings,
    TushareSource,
};
use stockpilot_domain::market::Market;

use crate::config::{Config, secs};

mod auth;

pub use auth::{
    REVOCATION_CHECK, auth_service, cli_audit, flush_key_usage, watch_revocations,
    write_bootstrap_key,
};

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
    if let Some(token) = &config.tushare.token {
        let settings = TushareSettings::configured(token.secret_string(), &config.tushare);
        sources = sources.with(Arc::new(
            TushareSource::new(settings).context("Tushare client (providers.tushare)")?,
        ));
    }
    let fd = &config.financial_datasets;
    if let Some(key) = &fd.api_key {
        let settings = FinancialDatasetsSettings::configured(key.secret_string(), fd);
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
    SyncSettings::configured(&config.sync)
}

pub fn query_settings(config: &Config) -> QuerySettings {
    QuerySettings::configured(&config.api)
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
            stockpilot_cache::RedisLink::configured(url.expose_secret(), &config.cache).await?,
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
    let settings = GatewaySettings::configured(&config.llm);
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
    let settings = stockpilot_llm::BochaSettings::configured(key.secret_string(), &config.search);
    Ok(Some(Arc::new(
        stockpilot_llm::BochaSearch::new(settings, Some(cache)).context("web search client")?,
    )))
}

/// Research settings from configuration.
pub fn research_settings(config: &Config) -> stockpilot_application::research::ResearchSettings {
    stockpilot_application::research::ResearchSettings::configured(&config.research)
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
    let limits = stockpilot_presentation::middleware::RateLimits::configured(r);
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
