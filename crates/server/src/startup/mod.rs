//! Builds the running service from a validated [`Config`]: database (migrated unless
//! `database.auto_migrate = false`), cache, readiness probes, metrics, HTTP listeners.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use anyhow::Context;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use secrecy::ExposeSecret;
use stockpilot_application::ports::{Cache, MarketDataStore};
use stockpilot_application::sync::SyncService;
use stockpilot_db::{DatabaseConnection, DbSettings, SeaStore};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{Config, secs};

mod steps;

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
    let url = config.database_url().expose_secret().to_owned();
    DbSettings::configured(url, &config.database)
}

/// The store a server uses: on PostgreSQL each statement is bounded by
/// `database.statement_timeout_secs`, so a database that stops answering fails requests with
/// `database_unavailable` instead of hanging them. SQLite is in-process; its writers wait for
/// the busy timeout instead.
fn bounded_store(db: &DatabaseConnection, config: &Config) -> SeaStore {
    let store = SeaStore::new(db.clone());
    match config.database.statement_timeout() {
        Some(limit) if db.get_database_backend() == stockpilot_db::DatabaseBackend::Postgres => {
            store.with_statement_timeout(limit)
        }
        _ => store,
    }
}

impl Application {
    /// Connects, migrates and binds: [`steps::database`], [`steps::connections`],
    /// [`steps::services`], [`steps::workers`], [`steps::routes`].
    ///
    /// # Errors
    /// Unreachable database or Redis, a failing migration, or a port already in use.
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        let db = steps::database(config).await?;
        let connections = steps::connections(config, db).await?;
        let services = steps::services(config, &connections).await?;
        let (stop_background, stop_rx) = watch::channel(false);
        let background = steps::workers(config, &connections, &services, &stop_rx);
        let listening = steps::routes(config, &connections, &services)?;
        tracing::info!(
            port = listening.port,
            metrics_port = listening.metrics_port,
            version = crate::VERSION,
            "listening"
        );
        Ok(Self {
            port: listening.port,
            metrics_port: listening.metrics_port,
            server: listening.server,
            metrics_server: listening.metrics_server,
            db: connections.db,
            cache: connections.cache,
            sync: services.sync,
            research: services.research,
            auth: services.auth,
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
