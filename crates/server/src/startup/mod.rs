//! Builds the running service from a validated [`Config`]: database (migrated unless
//! `database.auto_migrate = false`), cache, readiness probes, metrics, HTTP listeners.

use std::net::TcpListener;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, web};
use anyhow::Context;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use secrecy::ExposeSecret;
use stockpilot_application::health::HealthService;
use stockpilot_application::market::MarketQueries;
use stockpilot_application::ports::{Cache, Clock, DependencyProbe, MarketDataStore, SystemClock};
use stockpilot_application::queue;
use stockpilot_application::sync::{Scheduler, SyncService};
use stockpilot_db::{DatabaseConnection, DatabaseProbe, DbSettings, SeaStore};
use stockpilot_presentation::{AppState, HttpSettings, Shared};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{Config, secs};
use crate::wiring;

/// How long one readiness probe may wait for a dependency.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// A built, bound, not yet running service.
pub struct Application {
    port: u16,
    metrics_port: Option<u16>,
    server: Server,
    metrics_server: Option<Server>,
    db: DatabaseConnection,
    pub cache: Arc<dyn Cache>,
    pub sync: Arc<SyncService>,
    pub research: Arc<stockpilot_application::research::ResearchService>,
    pub auth: Arc<stockpilot_application::auth::AuthService>,
    background: Vec<JoinHandle<()>>,
    stop_background: watch::Sender<bool>,
    grace: Duration,
}

/// The process-wide Prometheus recorder (the `metrics` facade allows one per process).
/// `get_or_init` runs the installation once even when several servers start concurrently
/// in one process (tests).
fn metrics_handle() -> anyhow::Result<PrometheusHandle> {
    static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets(&[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                    30.0,
                ])
                .map_err(|e| format!("histogram buckets: {e}"))?
                .install_recorder()
                .map_err(|e| format!("cannot install the metrics recorder: {e}"))?;
            metrics::gauge!("stockpilot_build_info", "version" => crate::VERSION).set(1.0);
            Ok(handle)
        })
        .clone()
        .map_err(anyhow::Error::msg)
}

/// Registers at zero every counter and histogram an alert rule or dashboard reads, for each
/// known label value, so `rate()` and `increase()` work from the first scrape. (The LLM
/// gateway and the HTTP market data adapters register their own series when they are built.)
fn register_metrics(sync: &SyncService) {
    stockpilot_presentation::middleware::register_metrics();
    stockpilot_application::market::register_metrics();
    stockpilot_application::research::register_metrics();
    stockpilot_application::sync::register_metrics(sync.sources());
}

/// Every 5 s until shutdown: keeps `stockpilot_db_pool_connections{state}` current, and
/// folds the histogram samples recorded since into their buckets. The recorder keeps every
/// sample until this upkeep runs (it does not run by itself), so without it the memory of an
/// unscraped server grows with every request.
async fn metrics_upkeep(
    handle: PrometheusHandle,
    db: DatabaseConnection,
    max: u32,
    mut stop: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                handle.run_upkeep();
                let (open, idle, max) = stockpilot_db::pool_stats(&db, max);
                metrics::gauge!("stockpilot_db_pool_connections", "state" => "idle").set(f64::from(idle));
                metrics::gauge!("stockpilot_db_pool_connections", "state" => "in_use").set(f64::from(open - idle));
                metrics::gauge!("stockpilot_db_pool_connections", "state" => "max").set(f64::from(max));
            }
            _ = stop.changed() => return,
        }
    }
}

/// `server.trusted_proxies` as networks (each was checked when the configuration loaded).
fn trusted_proxies(config: &Config) -> Vec<stockpilot_presentation::middleware::ProxyNet> {
    config
        .server
        .trusted_proxies
        .iter()
        .filter_map(|p| p.parse().ok())
        .collect()
}

pub fn db_settings(config: &Config) -> DbSettings {
    DbSettings {
        url: config.database_url().expose_secret().to_owned(),
        pool_min: config.database.pool_min,
        pool_max: config.database.pool_max,
        acquire_timeout: Duration::from_secs_f64(config.database.acquire_timeout_secs),
        idle_timeout: secs(config.database.idle_timeout_secs),
    }
}

/// The store a server uses: on PostgreSQL each statement is bounded by
/// `database.statement_timeout_secs`, so a database that stops answering fails requests with
/// `database_unavailable` instead of hanging them. SQLite is in-process; its writers wait for
/// the busy timeout instead.
fn bounded_store(db: &DatabaseConnection, config: &Config) -> SeaStore {
    let store = SeaStore::new(db.clone());
    let limit = config.database.statement_timeout_secs;
    if limit > 0.0 && db.get_database_backend() == stockpilot_db::DatabaseBackend::Postgres {
        store.with_statement_timeout(Duration::from_secs_f64(limit))
    } else {
        store
    }
}

impl Application {
    /// Connects, migrates and binds.
    ///
    /// # Errors
    /// Unreachable database or Redis, a failing migration, or a port already in use.
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        let db = stockpilot_db::connect(&db_settings(config)).await?;
        if config.database.auto_migrate {
            let applied = migration::ops::upgrade(&db, &migration::ops::UpgradeTarget::Head)
                .await
                .context(
                    "running pending migrations (set database.auto_migrate = false to skip)",
                )?;
            if applied.is_empty() {
                tracing::info!("database schema is up to date");
            } else {
                tracing::info!(revisions = ?applied, "applied migrations");
            }
        } else {
            tracing::info!("database.auto_migrate is off; not running migrations");
        }

        let mut probes: Vec<Arc<dyn DependencyProbe>> =
            vec![Arc::new(DatabaseProbe::new(db.clone()))];
        let redis = wiring::redis(config).await?;
        let (cache, redis_probe) = wiring::cache(redis.as_ref());
        probes.extend(redis_probe);
        let limiting = wiring::rate_limiting(config, redis.as_ref());
        if let Some((_, Some(probe))) = &limiting {
            probes.push(probe.clone());
        }
        tracing::info!(cache = cache.backend(), "cache ready");

        let metrics = if config.metrics.enabled {
            Some(metrics_handle()?)
        } else {
            None
        };
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let store = Arc::new(bounded_store(&db, config));
        let sync =
            wiring::sync_service(config, store.clone(), cache.clone(), clock.clone()).await?;
        if metrics.is_some() {
            register_metrics(&sync);
            if let Some(link) = &redis {
                link.export_state();
            }
        }
        let worker = wiring::worker_id();
        import_demo_if_empty(config, store.as_ref(), &sync, &worker).await?;
        let market = Arc::new(MarketQueries::new(
            store.clone(),
            cache.clone(),
            clock,
            wiring::query_settings(config),
        ));
        let (stop_background, stop_rx) = watch::channel(false);
        let mut background = Vec::new();
        if config.scheduler.enabled {
            let scheduler = Scheduler::new(
                sync.clone(),
                crate::schedules::build(&config.scheduler.jobs),
                worker.clone(),
            );
            background.push(tokio::spawn(
                scheduler.run(secs(config.scheduler.tick_secs), stop_rx.clone()),
            ));
            tracing::info!(schedules = config.scheduler.jobs.len(), "scheduler started");
        }
        if let Some(handle) = &metrics {
            background.push(tokio::spawn(metrics_upkeep(
                handle.clone(),
                db.clone(),
                config.database.pool_max,
                stop_rx.clone(),
            )));
        }
        let llm = wiring::llm_registry(config, store.clone(), cache.clone(), Arc::new(SystemClock))
            .await?;
        let search = wiring::web_search(config, cache.clone())?;
        let research = wiring::research_service(
            config,
            store.clone(),
            &llm,
            search.clone(),
            Arc::new(SystemClock),
        );
        // Every kind of queued work is registered here: its configured number of worker loops.
        background.extend(queue::spawn_workers(
            &sync,
            config.sync.workers,
            &worker,
            &stop_rx,
        ));
        let prefix = format!("{worker}-research");
        background.extend(queue::spawn_workers(
            &research,
            config.research.workers,
            &prefix,
            &stop_rx,
        ));
        let auth = wiring::auth_service(config, store.clone());
        if config.auth.enabled {
            if let Some(created) = auth.bootstrap().await.map_err(|e| e.into_anyhow())? {
                wiring::write_bootstrap_key(&config.bootstrap_key_file(), &created.token)?;
                auth.record(wiring::cli_audit(
                    &auth,
                    "api_key.create",
                    &created.key.id.to_string(),
                    "bootstrap",
                ))
                .await;
                tracing::warn!(
                    file = %config.bootstrap_key_file().display(),
                    key_id = %created.key.id,
                    "no API key existed: created an admin key and wrote it to this file (mode 0600); \
                     read it, store it safely, then delete the file"
                );
            }
        } else {
            tracing::warn!(
                "AUTHENTICATION IS DISABLED (auth.enabled = false): every request is served as an \
                 admin. Never run like this where anyone else can reach the port."
            );
        }
        background.push(tokio::spawn(wiring::flush_key_usage(
            auth.clone(),
            secs(config.auth.usage_flush_secs),
            stop_rx.clone(),
        )));
        if config.auth.enabled {
            background.push(tokio::spawn(wiring::watch_revocations(
                auth.clone(),
                stop_rx.clone(),
            )));
        }
        let state = AppState {
            version: crate::VERSION,
            health: HealthService::new(probes, PROBE_TIMEOUT),
            market,
            sync: sync.clone(),
            llm,
            search,
            research: research.clone(),
            auth: auth.clone(),
        };
        let mut shared = Shared::new(
            state,
            config.server.max_concurrent_requests,
            metrics.clone(),
        );
        if let Some((limits, _)) = limiting {
            shared = shared.with_rate_limiting(limits);
        }
        shared = shared
            .with_trusted_proxies(trusted_proxies(config))
            .with_authentication(stockpilot_presentation::middleware::Authentication {
                service: auth.clone(),
                enabled: config.auth.enabled,
                metrics_path: Some(config.metrics.path.clone()),
                metrics_public: config.metrics.public,
            });
        let settings = HttpSettings {
            max_body_bytes: config.server.max_body_bytes,
            request_timeout: secs(config.server.request_timeout_secs),
            hsts_max_age_secs: Some(config.server.hsts_max_age_secs).filter(|age| *age > 0),
            metrics_path: metrics
                .as_ref()
                .filter(|_| config.metrics.port.is_none())
                .map(|_| config.metrics.path.clone()),
            allowed_hosts: config.server.allowed_hosts.0.clone(),
            cors_allowed_origins: config.server.cors_allowed_origins.0.clone(),
        };

        let listener = TcpListener::bind((config.server.host.as_str(), config.server.port))
            .with_context(|| {
                format!(
                    "cannot listen on {}:{} (server.host, server.port)",
                    config.server.host, config.server.port
                )
            })?;
        let port = listener.local_addr()?.port();
        let grace = secs(config.server.shutdown_grace_secs);
        let app_shared = shared.clone();
        let server =
            stockpilot_presentation::serve(listener, config.server.workers, grace, move || {
                stockpilot_presentation::app(&app_shared, &settings)
            })?;

        let (metrics_server, metrics_port) = match (config.metrics.port, metrics) {
            (Some(mport), Some(handle)) => {
                let listener = TcpListener::bind((config.server.host.as_str(), mport))
                    .with_context(|| {
                        format!("cannot listen on metrics port {mport} (metrics.port)")
                    })?;
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

        tracing::info!(port, metrics_port, version = crate::VERSION, "listening");
        Ok(Self {
            port,
            metrics_port,
            server,
            metrics_server,
            db,
            cache,
            sync,
            research,
            auth,
            background,
            stop_background,
            grace: secs(config.server.shutdown_grace_secs),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    /// A handle that stops the server (gracefully with `stop(true)`).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until the handle stops it, then finishes in-flight requests (bounded by
    /// `server.shutdown_grace_secs`) and closes the database pool.
    ///
    /// # Errors
    /// An I/O error of the HTTP server.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let metrics_handle = self.metrics_server.as_ref().map(Server::handle);
        let metrics_task = self.metrics_server.map(tokio::spawn);
        let result = self.server.await;
        // Sync workers hand unfinished jobs back to the queue; wait for that within the grace.
        let _ = self.stop_background.send(true);
        let all = futures_util::future::join_all(self.background);
        if tokio::time::timeout(self.grace.max(Duration::from_secs(1)), all)
            .await
            .is_err()
        {
            tracing::warn!("background workers did not stop within the grace period");
        }
        if let Some(h) = metrics_handle {
            h.stop(true).await;
        }
        if let Some(t) = metrics_task {
            let _ = t.await;
        }
        self.db.close().await.context("closing the database pool")?;
        tracing::info!("stopped");
        result.context("HTTP server")
    }

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully.
    ///
    /// # Errors
    /// As [`Self::run_until_stopped`].
    pub async fn run_with_signals(self) -> anyhow::Result<()> {
        let handle = self.handle();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutdown signal received; finishing in-flight requests");
            handle.stop(true).await;
        });
        self.run_until_stopped().await
    }
}

/// Loads the demo dataset when the database holds no instruments yet, so a new installation
/// has real data to look at; otherwise says in one log line why it did not.
async fn import_demo_if_empty(
    config: &Config,
    store: &SeaStore,
    sync: &SyncService,
    worker: &str,
) -> anyhow::Result<()> {
    if !config.data.import_demo {
        tracing::info!("data.import_demo is false: the demo dataset is not imported");
        return Ok(());
    }
    if config.csv.dir.is_some() {
        tracing::info!(
            "providers.csv.dir is set: the demo dataset is not imported (`stockpilot data import-demo` loads it on demand)"
        );
        return Ok(());
    }
    let existing = store.search_instruments(None, None, 0, 1).await?.total;
    if existing > 0 {
        tracing::info!(
            instruments = existing,
            "the database already holds instruments: the demo dataset is not imported"
        );
        return Ok(());
    }
    let demo = crate::demo::DemoData::from_config(config);
    let started = std::time::Instant::now();
    let summary = crate::demo::import(&demo, store, sync, worker)
        .await
        .with_context(|| format!("importing {demo}"))?;
    tracing::info!(
        sse_days = summary.sse_days,
        jobs = ?summary.jobs,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "imported {demo}"
    );
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
