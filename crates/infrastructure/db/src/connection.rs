//! Opening the pool with the configured limits, and probing it for `/ready`.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use stockpilot_application::ports::{DependencyProbe, ProbeFailure};

/// Which database a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    /// The backend named by a URL's scheme, or `None` for anything else.
    pub fn of_url(url: &str) -> Option<Self> {
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            "postgres" | "postgresql" => Some(Self::Postgres),
            "sqlite" => Some(Self::Sqlite),
            _ => None,
        }
    }
}

/// Pooled connections idle at least this long are pinged before they are handed out.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(5);

/// How long the readiness probe keeps retrying after a failed ping (see `DatabaseProbe`).
const QUICK_RETRIES: Duration = Duration::from_millis(250);

stockpilot_application::settings! {
    /// `database`: where stockpilot keeps its data.
    pub struct DatabaseConfig {
        /// `postgres://`, `postgresql://` or `sqlite:`; the SQLite file and its directory are
        /// created.
        url: Option<stockpilot_application::settings::Secret> = None; secret = true, env = &["DATABASE_URL"], default_shown = "sqlite://<data.dir>/stockpilot.db?mode=rwc", example = "postgres://stockpilot:secret@db:5432/stockpilot",
        /// Connections kept open at least; at most `pool_max`.
        pool_min: u32 = 1,
        /// Size it to the requests you expect in flight at once (a request waiting for a
        /// connection holds its worker's time too: on the bars benchmark, 32 concurrent
        /// requests got 1,500 req/s with 10 connections and 2,000 with 32). Each connection is
        /// one PostgreSQL backend process, so keep `pool_max` × replicas under the server's
        /// `max_connections`. A pooled connection idle for 5 s or more is pinged before use
        /// and replaced if dead.
        pool_max: u32 = 10; range = (1.0, 1000.0),
        /// Wait for a pooled connection, including connecting a new one (seconds, fractions
        /// allowed). A request that cannot get a connection in this time answers `503
        /// database_unavailable`, so a refused or unreachable database is reported within it.
        /// Raise it for a remote database whose TLS handshake takes longer.
        acquire_timeout_secs: f64 = 0.5; range = (0.05, 300.0),
        /// PostgreSQL only: each statement, `BEGIN` and `COMMIT` the server runs gets at most
        /// this long (seconds, 0.05–3600, measured by the client; `0` turns it off). A database
        /// that keeps its connections open but stops answering fails requests with `503
        /// database_unavailable` after it instead of hanging them. SQLite is in-process: its
        /// writers wait for the busy timeout (10 s) instead.
        statement_timeout_secs: f64 = 5.0; range = (0.0, 3600.0),
        /// Idle connections are closed after this (seconds).
        idle_timeout_secs: u64 = 600,
        /// Run pending migrations when `serve` starts.
        auto_migrate: bool = true,
    }
}

impl DatabaseConfig {
    /// The client-side bound on each statement (PostgreSQL), `None` when off.
    pub fn statement_timeout(&self) -> Option<Duration> {
        (self.statement_timeout_secs > 0.0)
            .then(|| Duration::from_secs_f64(self.statement_timeout_secs))
    }
}

/// Pool settings, already validated by the configuration loader.
#[derive(Debug, Clone)]
pub struct DbSettings {
    pub url: String,
    pub pool_min: u32,
    pub pool_max: u32,
    pub acquire_timeout: Duration,
    pub idle_timeout: Duration,
}

impl DbSettings {
    /// The pool `config` declares, for `url` (the configured one, or the derived default).
    pub fn configured(url: String, config: &DatabaseConfig) -> Self {
        Self {
            url,
            pool_min: config.pool_min,
            pool_max: config.pool_max,
            acquire_timeout: Duration::from_secs_f64(config.acquire_timeout_secs),
            idle_timeout: Duration::from_secs(config.idle_timeout_secs),
        }
    }
}

/// The path of a file-backed SQLite URL (`sqlite://data/x.db?mode=rwc` → `data/x.db`).
fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.starts_with(":memory:")).then_some(path)
}

/// Connects with the configured pool limits. For SQLite the parent directory of the file is
/// created, the file is created when missing, and WAL journaling is on so readers never
/// block the writer.
///
/// # Errors
/// A URL of an unsupported scheme, an uncreatable directory, or a server that refuses or
/// does not answer within the acquire timeout. Messages never contain the URL (it may hold a
/// password).
pub async fn connect(settings: &DbSettings) -> anyhow::Result<DatabaseConnection> {
    let backend = Backend::of_url(&settings.url)
        .context("database.url must start with postgres://, postgresql:// or sqlite:")?;
    if backend == Backend::Sqlite
        && let Some(parent) = sqlite_file(&settings.url).and_then(|f| Path::new(f).parent())
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the SQLite directory {}", parent.display()))?;
    }
    let mut opts = ConnectOptions::new(settings.url.clone());
    opts.max_connections(settings.pool_max)
        .min_connections(settings.pool_min)
        .acquire_timeout(settings.acquire_timeout)
        .connect_timeout(settings.acquire_timeout)
        .idle_timeout(settings.idle_timeout)
        // A connection that was in use moments ago is handed out as it is; one idle for a
        // while (which a restarted server, a proxy or a firewall may have dropped) is pinged
        // first and replaced if dead. Pinging on every checkout, sqlx's default, costs a round
        // trip per query.
        .test_before_acquire_if_idle_for(PING_IF_IDLE_FOR)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                // Page cache of up to 64 MiB per connection (the default is 2 MiB), taken as
                // pages are read: with the default, bulk upserts into a table of a million
                // bars re-read most pages from the OS cache, one `pread` each.
                .pragma("cache_size", "-65536")
        });
    let kind = match backend {
        Backend::Postgres => "PostgreSQL",
        Backend::Sqlite => "SQLite",
    };
    Database::connect(opts)
        .await
        .map_err(|e| anyhow::anyhow!(redact(&e.to_string(), &settings.url)))
        .with_context(|| format!("cannot connect to the {kind} database (database.url)"))
}

/// Driver errors sometimes quote the connection string; never let its password out.
fn redact(message: &str, url: &str) -> String {
    let mut out = message.replace(url, "<database.url>");
    if let Ok(parsed) = url::Url::parse(url)
        && let Some(pw) = parsed.password()
        && !pw.is_empty()
    {
        out = out.replace(pw, "<redacted>");
    }
    out
}

/// `SELECT 1` through the pool, for `/ready`.
#[derive(Clone)]
pub struct DatabaseProbe {
    db: DatabaseConnection,
}

impl DatabaseProbe {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait::async_trait]
impl DependencyProbe for DatabaseProbe {
    fn name(&self) -> &'static str {
        "database"
    }

    /// A failed ping closes its connection (sqlx tests a connection when it is released),
    /// but a pool that lived through an outage may hold several dead connections. After a
    /// failure the probe tries again, once per open connection, for at most
    /// [`QUICK_RETRIES`]: dead sockets fail at once and are dropped, so readiness comes back
    /// with the first probe after the database does, while a database that is really down
    /// is still reported within that time.
    async fn probe(&self) -> Result<(), ProbeFailure> {
        let started = std::time::Instant::now();
        let Err(mut failure) = self.db.ping().await else {
            return Ok(());
        };
        let (open, _, _) = pool_stats(&self.db, 0);
        for _ in 0..open {
            let left = QUICK_RETRIES.saturating_sub(started.elapsed());
            if left.is_zero() {
                break;
            }
            match tokio::time::timeout(left, self.db.ping()).await {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(e)) => failure = e,
                Err(_) => break,
            }
        }
        Err(ProbeFailure(format!(
            "database unreachable: {}",
            short(&failure)
        )))
    }
}

/// The first line of a driver error, without any quoted connection details.
fn short(e: &sea_orm::DbErr) -> String {
    let text = e.to_string();
    let line = text.lines().next().unwrap_or_default();
    line.chars().take(200).collect()
}

/// Connections of the pool: `(open, idle, max)`, for the `stockpilot_db_pool_connections`
/// gauge.
pub fn pool_stats(db: &DatabaseConnection, max: u32) -> (u32, u32, u32) {
    let (size, idle) = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (
                pool.size(),
                u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            )
        }
        _ => {
            let pool = db.get_sqlite_connection_pool();
            (
                pool.size(),
                u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            )
        }
    };
    (size, idle.min(size), max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_backends_by_scheme() {
        assert_eq!(
            Backend::of_url("postgres://u@h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(
            Backend::of_url("postgresql://u@h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(
            Backend::of_url("sqlite://data/x.db?mode=rwc"),
            Some(Backend::Sqlite)
        );
        assert_eq!(Backend::of_url("mysql://h/db"), None);
    }

    #[test]
    fn finds_the_file_of_a_sqlite_url() {
        assert_eq!(
            sqlite_file("sqlite://data/x.db?mode=rwc"),
            Some("data/x.db")
        );
        assert_eq!(sqlite_file("sqlite:./x.db"), Some("./x.db"));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
    }

    #[test]
    fn redacts_passwords_from_driver_messages() {
        let url = "postgres://app:hunter2@db:5432/x";
        assert_eq!(
            redact("bad: hunter2 in postgres://app:hunter2@db:5432/x", url),
            "bad: <redacted> in <database.url>"
        );
    }

    #[tokio::test]
    async fn creates_the_sqlite_directory_and_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("nested/deeper/app.db");
        let settings = DbSettings {
            url: format!("sqlite://{}?mode=rwc", file.display()),
            pool_min: 1,
            pool_max: 2,
            acquire_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(60),
        };
        let db = connect(&settings).await.unwrap();
        assert!(DatabaseProbe::new(db.clone()).probe().await.is_ok());
        assert!(file.exists());
        db.close().await.unwrap();
    }

    #[tokio::test]
    async fn an_unreachable_server_fails_with_a_message_naming_the_setting() {
        let settings = DbSettings {
            url: "postgres://app:hunter2@127.0.0.1:1/nothing".into(),
            pool_min: 0,
            pool_max: 1,
            acquire_timeout: Duration::from_millis(500),
            idle_timeout: Duration::from_secs(60),
        };
        let err = connect(&settings).await.unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("database.url"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }
}
