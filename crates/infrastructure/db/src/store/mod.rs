//! `SeaStore`: the sea-orm implementation of `MarketDataStore` and `SyncJobStore`, the same
//! code on PostgreSQL and SQLite.

mod auth;
mod bars_pg;
mod bars_sqlite;
mod bounded;
mod convert;
mod jobs;
mod llm;
mod market;
pub mod queue;
mod research;
mod upsert;

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection};
use stockpilot_application::ports::StoreError;

pub(crate) use bounded::db_err;
use bounded::{Db, Txn};
pub use upsert::upsert_batch;

#[derive(Clone)]
pub struct SeaStore {
    db: Db,
}

impl std::fmt::Debug for SeaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeaStore")
            .field("backend", &self.db.get_database_backend())
            .finish()
    }
}

impl SeaStore {
    /// A store whose statements are unbounded in time (SQLite, tests, one-off commands).
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db: Db {
                conn: db,
                limit: None,
            },
        }
    }

    /// Bounds every statement, `BEGIN` and `COMMIT` to `limit` on the client side: a call
    /// without an answer by then fails as "database unavailable" instead of hanging.
    #[must_use]
    pub fn with_statement_timeout(mut self, limit: Duration) -> Self {
        self.db.limit = Some(limit);
        self
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.db.conn
    }

    async fn write_txn(&self) -> Result<Txn, StoreError> {
        self.db.write_txn().await
    }

    fn is_postgres(&self) -> bool {
        self.db.get_database_backend() == DatabaseBackend::Postgres
    }
}

/// One page of `select` (already filtered and ordered) and the total it pages through.
pub(crate) async fn page<E, T>(
    db: &impl ConnectionTrait,
    select: sea_orm::Select<E>,
    offset: u64,
    limit: u64,
    convert: impl Fn(E::Model) -> Result<T, StoreError>,
) -> Result<stockpilot_application::ports::Page<T>, StoreError>
where
    E: sea_orm::EntityTrait,
    E::Model: sea_orm::FromQueryResult + Send + Sync,
{
    use sea_orm::{PaginatorTrait, QuerySelect};
    let total = select.clone().count(db).await.map_err(db_err)?;
    let rows = select
        .offset(offset)
        .limit(limit)
        .all(db)
        .await
        .map_err(db_err)?;
    let items = rows.into_iter().map(convert).collect::<Result<_, _>>()?;
    Ok(stockpilot_application::ports::Page { items, total })
}

/// One page of `select` over a kind's table joined to its rows in `jobs` (already filtered
/// and ordered), and the total it pages through.
pub(crate) async fn page_of_jobs<E, T>(
    db: &impl ConnectionTrait,
    select: sea_orm::SelectTwo<E, crate::entities::job::Entity>,
    offset: u64,
    limit: u64,
    convert: impl Fn(crate::entities::job::Model, E::Model) -> Result<T, StoreError>,
) -> Result<stockpilot_application::ports::Page<T>, StoreError>
where
    E: sea_orm::EntityTrait,
    E::Model: sea_orm::FromQueryResult + Send + Sync,
{
    use sea_orm::{PaginatorTrait, QuerySelect};
    let total = select.clone().count(db).await.map_err(db_err)?;
    let rows = select
        .offset(offset)
        .limit(limit)
        .all(db)
        .await
        .map_err(db_err)?;
    let items = rows
        .into_iter()
        .map(|(kind_row, job)| convert(joined(job)?, kind_row))
        .collect::<Result<_, _>>()?;
    Ok(stockpilot_application::ports::Page { items, total })
}

/// The `jobs` row a kind's row was joined to (every kind row has one).
pub(crate) fn joined(
    job: Option<crate::entities::job::Model>,
) -> Result<crate::entities::job::Model, StoreError> {
    job.ok_or_else(|| data_err("a queued job's row in `jobs` is missing"))
}

pub(crate) fn data_err(what: impl std::fmt::Display) -> StoreError {
    StoreError(anyhow::anyhow!("stored data is invalid: {what}"))
}
