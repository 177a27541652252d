//! The store's connection: every statement, `BEGIN` and `COMMIT` is bounded by the statement
//! timeout on the client side, so a database that keeps the TCP connection open but stops
//! answering fails the call with [`StoreError::unavailable`] instead of hanging it. A timed-out
//! statement's connection is not reused: the pool tests it on release and closes it when the
//! test fails.
//!
//! Driver errors are classified here too: refused, dropped and timed-out connections, an
//! exhausted pool and the server's own "shutting down" / "cannot connect now" answers mean the
//! database is unavailable; anything else is an internal error.

use std::future::Future;
use std::time::Duration;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, RuntimeErr, Statement,
};
use stockpilot_application::ports::StoreError;

/// Prefix of the error a statement gets when it has no answer within the timeout.
const TIMED_OUT: &str = "no answer from the database within";

async fn bounded<T>(
    limit: Option<Duration>,
    call: impl Future<Output = Result<T, DbErr>>,
) -> Result<T, DbErr> {
    let Some(limit) = limit else {
        return call.await;
    };
    tokio::time::timeout(limit, call).await.unwrap_or_else(|_| {
        Err(DbErr::Custom(format!(
            "{TIMED_OUT} {} ms (database.statement_timeout_secs)",
            limit.as_millis()
        )))
    })
}

/// A connection (`C` = the pool) or an open transaction (`C` = a transaction) whose
/// statements have at most `limit` each (`None`: unbounded). A transaction dropped without
/// [`Txn::commit`] rolls back.
#[derive(Clone)]
pub(crate) struct Bounded<C> {
    pub(crate) conn: C,
    pub(crate) limit: Option<Duration>,
}

/// The store's pooled connection.
pub(crate) type Db = Bounded<DatabaseConnection>;
/// An open write transaction.
pub(crate) type Txn = Bounded<DatabaseTransaction>;

#[async_trait::async_trait]
impl<C: ConnectionTrait + Send + Sync> ConnectionTrait for Bounded<C> {
    fn get_database_backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        bounded(self.limit, self.conn.execute_raw(stmt)).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        bounded(self.limit, self.conn.execute_unprepared(sql)).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        bounded(self.limit, self.conn.query_one_raw(stmt)).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        bounded(self.limit, self.conn.query_all_raw(stmt)).await
    }
}

impl Db {
    /// A write transaction. On SQLite it takes the write lock at `BEGIN` (IMMEDIATE), so a
    /// read-then-write cannot fail with a stale snapshot under concurrency; it waits for the
    /// busy timeout instead. PostgreSQL ignores the mode.
    pub(crate) async fn write_txn(&self) -> Result<Txn, StoreError> {
        use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
        let txn = bounded(
            self.limit,
            self.conn.begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..TransactionOptions::default()
            }),
        )
        .await
        .map_err(db_err)?;
        Ok(Bounded {
            conn: txn,
            limit: self.limit,
        })
    }
}

impl Txn {
    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        bounded(self.limit, self.conn.commit())
            .await
            .map_err(db_err)
    }

    pub(crate) async fn rollback(self) -> Result<(), StoreError> {
        bounded(self.limit, self.conn.rollback())
            .await
            .map_err(db_err)
    }
}

/// Driver errors become `StoreError`, marked unavailable when the database could not be
/// reached or did not answer; the text is for logs (the API shows a generic message).
pub(crate) fn db_err(e: DbErr) -> StoreError {
    if is_unavailable(&e) {
        StoreError::unavailable(e)
    } else {
        StoreError(anyhow::Error::new(e))
    }
}

/// Whether a driver error means "the database is not there right now" rather than "this
/// statement is wrong".
pub(crate) fn is_unavailable(e: &DbErr) -> bool {
    match e {
        DbErr::ConnectionAcquire(_) => true,
        DbErr::Custom(text) => text.starts_with(TIMED_OUT),
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => sqlx_unavailable(e),
        _ => false,
    }
}

fn sqlx_unavailable(e: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error as E;
    match e {
        E::Io(_) | E::Tls(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed => true,
        // PostgreSQL's connection exceptions (class 08), shutdown and "cannot connect now"
        // (57P01–57P03), a statement cancelled by its server-side timeout (57014) and too many
        // connections (53300).
        E::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08")
                || matches!(
                    code.as_ref(),
                    "57P01" | "57P02" | "57P03" | "57014" | "53300"
                )
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn a_statement_without_an_answer_fails_as_unavailable_at_the_limit() {
        let started = std::time::Instant::now();
        let err = bounded(
            Some(Duration::from_millis(30)),
            std::future::pending::<Result<(), DbErr>>(),
        )
        .await
        .unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(30));
        assert!(is_unavailable(&err), "{err}");
        assert!(err.to_string().contains("30 ms"), "{err}");
        assert!(db_err(err).is_unavailable());
    }

    #[test]
    fn connection_failures_are_unavailable_and_statement_errors_are_not() {
        let io =
            sea_orm::sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(is_unavailable(&DbErr::Conn(RuntimeErr::SqlxError(
            Arc::new(io)
        ))));
        assert!(is_unavailable(&DbErr::ConnectionAcquire(
            sea_orm::error::ConnAcquireErr::Timeout
        )));
        let decode = sea_orm::sqlx::Error::RowNotFound;
        assert!(!is_unavailable(&DbErr::Query(RuntimeErr::SqlxError(
            Arc::new(decode)
        ))));
        assert!(!is_unavailable(&DbErr::Custom("duplicate key".into())));
        assert!(!db_err(DbErr::RecordNotFound("x".into())).is_unavailable());
    }
}
