//! `SeaStore`: the sea-orm implementation of `MarketDataStore` and `SyncJobStore`, the same
//! code on PostgreSQL and SQLite.

mod auth;
mod bars_pg;
mod bars_sqlite;
mod convert;
mod jobs;
mod llm;
mod market;
mod research;
mod upsert;

use sea_orm::{DatabaseBackend, DatabaseConnection};
use stockpilot_application::ports::StoreError;

pub use upsert::upsert_batch;

#[derive(Clone)]
pub struct SeaStore {
    db: DatabaseConnection,
}

impl std::fmt::Debug for SeaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeaStore")
            .field("backend", &self.db.get_database_backend())
            .finish()
    }
}

impl SeaStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// A write transaction. On SQLite it takes the write lock at `BEGIN` (IMMEDIATE), so a
    /// read-then-write cannot fail with a stale snapshot under concurrency; it waits for the
    /// busy timeout instead. PostgreSQL ignores the mode.
    async fn write_txn(&self) -> Result<sea_orm::DatabaseTransaction, StoreError> {
        use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
        self.db
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..TransactionOptions::default()
            })
            .await
            .map_err(db_err)
    }

    fn is_postgres(&self) -> bool {
        self.db.get_database_backend() == DatabaseBackend::Postgres
    }
}

/// Driver errors become `StoreError`; the text is for logs (the API shows a generic message).
pub(crate) fn db_err(e: sea_orm::DbErr) -> StoreError {
    StoreError(anyhow::Error::new(e))
}

/// One page of `select` (already filtered and ordered) and the total it pages through.
pub(crate) async fn page<E, T>(
    db: &DatabaseConnection,
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

pub(crate) fn data_err(what: impl std::fmt::Display) -> StoreError {
    StoreError(anyhow::anyhow!("stored data is invalid: {what}"))
}
