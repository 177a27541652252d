//! Throw-away databases for tests: a temporary SQLite file, and — when `TEST_DATABASE_URL`
//! points at a PostgreSQL server — a freshly created PostgreSQL database that is dropped
//! afterwards. Only compiled with the `testing` feature.

use std::time::Duration;

use anyhow::Context;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};

use crate::{Backend, DbSettings};

/// A database that exists for one test.
pub struct TestDatabase {
    pub url: String,
    pub backend: Backend,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl std::fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDatabase")
            .field("backend", &self.backend)
            .finish()
    }
}

impl TestDatabase {
    /// A fresh SQLite file in a temporary directory.
    ///
    /// # Errors
    /// The temporary directory cannot be created.
    pub fn sqlite() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir().context("temporary directory")?;
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
        Ok(Self {
            url,
            backend: Backend::Sqlite,
            _dir: Some(dir),
            pg: None,
        })
    }

    /// A fresh PostgreSQL database on the server of `TEST_DATABASE_URL`, or `None` when that
    /// variable is unset.
    ///
    /// # Errors
    /// The server refuses the connection or the `CREATE DATABASE`.
    pub async fn postgres() -> anyhow::Result<Option<Self>> {
        let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
            return Ok(None);
        };
        let name = format!("sp_test_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(admin_url.as_str())
            .await
            .context("TEST_DATABASE_URL")?;
        admin
            .execute_raw(Statement::from_string(
                admin.get_database_backend(),
                format!("CREATE DATABASE \"{name}\""),
            ))
            .await
            .context("CREATE DATABASE")?;
        admin.close().await.ok();
        let mut url = url::Url::parse(&admin_url).context("TEST_DATABASE_URL is not a URL")?;
        url.set_path(&format!("/{name}"));
        Ok(Some(Self {
            url: url.to_string(),
            backend: Backend::Postgres,
            _dir: None,
            pg: Some((admin_url, name)),
        }))
    }

    /// SQLite always, plus PostgreSQL when `TEST_DATABASE_URL` is set.
    ///
    /// # Errors
    /// As [`Self::sqlite`] and [`Self::postgres`].
    pub async fn all() -> anyhow::Result<Vec<Self>> {
        let mut dbs = vec![Self::sqlite()?];
        dbs.extend(Self::postgres().await?);
        Ok(dbs)
    }

    /// Pool settings pointing at this database.
    pub fn settings(&self) -> DbSettings {
        DbSettings {
            url: self.url.clone(),
            pool_min: 0,
            pool_max: 5,
            acquire_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
        }
    }

    /// An open pool on this database.
    ///
    /// # Errors
    /// As [`crate::connect`].
    pub async fn connect(&self) -> anyhow::Result<DatabaseConnection> {
        crate::connect(&self.settings()).await
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.pg.take() else {
            return;
        };
        // Drop runs outside any async context we can rely on, so the DROP gets a runtime of
        // its own on a plain thread.
        let handle = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(admin) = Database::connect(admin_url.as_str()).await {
                    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    let _ = admin
                        .execute_raw(Statement::from_string(admin.get_database_backend(), sql))
                        .await;
                    let _ = admin.close().await;
                }
            });
        });
        let _ = handle.join();
    }
}
