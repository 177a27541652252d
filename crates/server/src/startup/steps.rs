//! The steps of `Application::build`, in order: the database, the connections around it,
//! the services, the background workers, the routes and listeners.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, web};
use anyhow::Context;
use metrics_exporter_prometheus::PrometheusHandle;
use stockpilot_application::auth::AuthService;
use stockpilot_application::health::HealthService;
use stockpilot_application::llm::LlmRegistry;
use stockpilot_application::market::MarketQueries;
use stockpilot_application::ports::{Cache, Clock, DependencyProbe, SystemClock, WebSearch};
use stockpilot_application::queue;
use stockpilot_application::research::ResearchService;
use stockpilot_application::sync::{Scheduler, SyncService};
use stockpilot_cache::RedisLink;
use stockpilot_db::{DatabaseConnection, DatabaseProbe};
use stockpilot_presentation::middleware::{Authentication, RateLimiting};
use stockpilot_presentation::{AppState, HttpSettings, Shared};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{
    PROBE_TIMEOUT, bounded_store, db_settings, import_demo_if_empty, metrics_handle,
    metrics_upkeep, register_metrics, trusted_proxies,
};
use crate::config::{Config, secs};
use crate::wiring;

/// Connects the pool and runs pending migrations (unless `database.auto_migrate = false`).
pub async fn database(config: &Config) -> anyhow::Result<DatabaseConnection> {
    let db = stockpilot_db::connect(&db_settings(config)).await?;
    if !config.database.auto_migrate {
        tracing::info!("database.auto_migrate is off; not running migrations");
        return Ok(db);
    }
    let applied = migration::ops::upgrade(&db, &migration::ops::UpgradeTarget::Head)
        .await
        .context("running pending migrations (set database.auto_migrate = false to skip)")?;
    if applied.is_empty() {
        tracing::info!("database schema is up to date");
    } else {
        tracing::info!(revisions = ?applied, "applied migrations");
    }
    Ok(db)
}

/// What the service talks to besides its database, and how readiness checks all of it.
pub struct Connections {
    pub db: DatabaseConnection,
    pub redis: Option<RedisLink>,
    pub cache: Arc<dyn Cache>,
    pub limiting: Option<RateLimiting>,
    pub probes: Vec<Arc<dyn DependencyProbe>>,
    pub metrics: Option<PrometheusHandle>,
}

/// Redis when configured (else memory) with the cache and rate limiter over it, the
/// readiness probes and the Prometheus recorder.
pub async fn connections(config: &Config, db: DatabaseConnection) -> anyhow::Result<Connections> {
    let mut probes: Vec<Arc<dyn DependencyProbe>> = vec![Arc::new(DatabaseProbe::new(db.clone()))];
    let redis = wiring::redis(config).await?;
    let (cache, redis_probe) = wiring::cache(redis.as_ref());
    probes.extend(redis_probe);
    let limiting = wiring::rate_limiting(config, redis.as_ref()).map(|(limits, probe)| {
        probes.extend(probe);
        limits
    });
    tracing::info!(cache = cache.backend(), "cache ready");
    let metrics = if config.metrics.enabled {
        Some(metrics_handle()?)
    } else {
        None
    };
    Ok(Connections {
        db,
        redis,
        cache,
        limiting,
        probes,
        metrics,
    })
}

/// The application's services over the store.
pub struct Services {
    pub sync: Arc<SyncService>,
    pub market: Arc<MarketQueries>,
    pub llm: Arc<LlmRegistry>,
    pub search: Option<Arc<dyn WebSearch>>,
    pub research: Arc<ResearchService>,
    pub auth: Arc<AuthService>,
    /// This process's name in job claims.
    pub worker: String,
}

/// Builds the services; imports the demo dataset into an empty database and creates the
/// first admin key when none exists.
pub async fn services(config: &Config, c: &Connections) -> anyhow::Result<Services> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = Arc::new(bounded_store(&c.db, config));
    let sync = wiring::sync_service(config, store.clone(), c.cache.clone(), clock.clone()).await?;
    if c.metrics.is_some() {
        register_metrics(&sync);
        if let Some(link) = &c.redis {
            link.export_state();
        }
    }
    let worker = wiring::worker_id();
    import_demo_if_empty(config, store.as_ref(), &sync, &worker).await?;
    let market = Arc::new(MarketQueries::new(
        store.clone(),
        c.cache.clone(),
        clock.clone(),
        wiring::query_settings(config),
    ));
    let llm = wiring::llm_registry(config, store.clone(), c.cache.clone(), clock.clone()).await?;
    let search = wiring::web_search(config, c.cache.clone())?;
    let research = wiring::research_service(config, store.clone(), &llm, search.clone(), clock);
    let auth = wiring::auth_service(config, store.clone());
    first_admin_key(config, &auth).await?;
    Ok(Services {
        sync,
        market,
        llm,
        search,
        research,
        auth,
        worker,
    })
}

/// With authentication on and no key yet, creates an admin key and writes it to
/// `auth.bootstrap_key_file`; with it off, says loudly that every caller is an admin.
async fn first_admin_key(config: &Config, auth: &AuthService) -> anyhow::Result<()> {
    if !config.auth.enabled {
        tracing::warn!(
            "AUTHENTICATION IS DISABLED (auth.enabled = false): every request is served as an \
             admin. Never run like this where anyone else can reach the port."
        );
        return Ok(());
    }
    let Some(created) = auth.bootstrap().await.map_err(|e| e.into_anyhow())? else {
        return Ok(());
    };
    let file = config.bootstrap_key_file();
    wiring::write_bootstrap_key(&file, &created.token)?;
    let id = created.key.id.to_string();
    auth.record(wiring::cli_audit(auth, "api_key.create", &id, "bootstrap"))
        .await;
    tracing::warn!(
        file = %file.display(),
        key_id = %created.key.id,
        "no API key existed: created an admin key and wrote it to this file (mode 0600); \
         read it, store it safely, then delete the file"
    );
    Ok(())
}

/// Starts the background tasks: the scheduler, the metrics upkeep, every kind of queued
/// work's workers and the API keys' upkeep. They stop when `stop` turns true.
pub fn workers(
    config: &Config,
    c: &Connections,
    s: &Services,
    stop: &watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let mut background = Vec::new();
    if config.scheduler.enabled {
        let jobs = crate::schedules::build(&config.scheduler.jobs);
        let scheduler = Scheduler::new(s.sync.clone(), jobs, s.worker.clone());
        let tick = secs(config.scheduler.tick_secs);
        background.push(tokio::spawn(scheduler.run(tick, stop.clone())));
        tracing::info!(schedules = config.scheduler.jobs.len(), "scheduler started");
    }
    if let Some(handle) = &c.metrics {
        let pool_max = config.database.pool_max;
        let upkeep = metrics_upkeep(handle.clone(), c.db.clone(), pool_max, stop.clone());
        background.push(tokio::spawn(upkeep));
    }
    // Every kind of queued work is registered here: its configured number of worker loops.
    background.extend(queue::spawn_workers(
        &s.sync,
        config.sync.workers,
        &s.worker,
        stop,
    ));
    let prefix = format!("{}-research", s.worker);
    background.extend(queue::spawn_workers(
        &s.research,
        config.research.workers,
        &prefix,
        stop,
    ));
    let every = secs(config.auth.usage_flush_secs);
    let flush = wiring::flush_key_usage(s.auth.clone(), every, stop.clone());
    background.push(tokio::spawn(flush));
    if config.auth.enabled {
        let watch = wiring::watch_revocations(s.auth.clone(), stop.clone());
        background.push(tokio::spawn(watch));
    }
    background
}

/// The bound HTTP servers.
pub struct Listening {
    pub port: u16,
    pub metrics_port: Option<u16>,
    pub server: Server,
    pub metrics_server: Option<Server>,
}

/// The routes over the services with their middleware, bound to `server.host`/`server.port`
/// (and `metrics.port` when set).
pub fn routes(config: &Config, c: &Connections, s: &Services) -> anyhow::Result<Listening> {
    let state = AppState {
        version: crate::VERSION,
        health: HealthService::new(c.probes.clone(), PROBE_TIMEOUT),
        market: s.market.clone(),
        sync: s.sync.clone(),
        llm: s.llm.clone(),
        search: s.search.clone(),
        research: s.research.clone(),
        auth: s.auth.clone(),
    };
    let max_concurrent = config.server.max_concurrent_requests;
    let mut shared = Shared::new(state, max_concurrent, c.metrics.clone());
    if let Some(limits) = c.limiting.clone() {
        shared = shared.with_rate_limiting(limits);
    }
    let shared = shared
        .with_trusted_proxies(trusted_proxies(config))
        .with_authentication(Authentication {
            service: s.auth.clone(),
            enabled: config.auth.enabled,
            metrics_path: Some(config.metrics.path.clone()),
            metrics_public: config.metrics.public,
        });
    let server_settings = &config.server;
    let settings = HttpSettings {
        max_body_bytes: server_settings.max_body_bytes,
        request_timeout: secs(server_settings.request_timeout_secs),
        hsts_max_age_secs: Some(server_settings.hsts_max_age_secs).filter(|age| *age > 0),
        metrics_path: c
            .metrics
            .as_ref()
            .filter(|_| config.metrics.port.is_none())
            .map(|_| config.metrics.path.clone()),
        allowed_hosts: server_settings.allowed_hosts.0.clone(),
        cors_allowed_origins: server_settings.cors_allowed_origins.0.clone(),
    };
    let host = server_settings.host.as_str();
    let listener = TcpListener::bind((host, server_settings.port)).with_context(|| {
        format!(
            "cannot listen on {host}:{} (server.host, server.port)",
            server_settings.port
        )
    })?;
    let port = listener.local_addr()?.port();
    let grace = secs(server_settings.shutdown_grace_secs);
    let workers = server_settings.workers;
    let server = stockpilot_presentation::serve(listener, workers, grace, move || {
        stockpilot_presentation::app(&shared, &settings)
    })?;
    let (metrics_server, metrics_port) = match (config.metrics.port, c.metrics.clone()) {
        (Some(mport), Some(handle)) => {
            let listener = TcpListener::bind((host, mport))
                .with_context(|| format!("cannot listen on metrics port {mport} (metrics.port)"))?;
            let bound = listener.local_addr()?.port();
            let path = config.metrics.path.clone();
            let data = web::Data::new(handle);
            let server = stockpilot_presentation::serve(listener, 1, grace, move || {
                App::new().app_data(data.clone()).route(
                    &path,
                    web::get().to(stockpilot_presentation::routes::metrics::render),
                )
            })?;
            (Some(server), Some(bound))
        }
        _ => (None, None),
    };
    Ok(Listening {
        port,
        metrics_port,
        server,
        metrics_server,
    })
}
