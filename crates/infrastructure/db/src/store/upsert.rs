//! Idempotent bulk upserts: `INSERT … ON CONFLICT (key) DO UPDATE`, chunked to stay under
//! the bind-parameter limit of both databases (SQLite 32766, PostgreSQL 65535). Daily bars,
//! by far the largest dataset, take a path of their own on each database (`bars_pg`,
//! `bars_sqlite`).

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, EntityTrait, IdenStatic, Iterable, PrimaryKeyToColumn,
};
use stockpilot_application::ports::{DataBatch, StoreError};

use super::bars_sqlite;
use super::convert as c;
use super::db_err;
use crate::entities::{
    adjustment_factor, daily_bar, daily_valuation, financial_indicator, financial_statement,
    insider_trade, instrument, news_article, trading_day,
};

/// Bind parameters per statement; below SQLite's limit with room to spare.
const MAX_PARAMS: usize = 30_000;

async fn upsert_models<E, A, C>(conn: &C, models: Vec<A>) -> Result<u64, StoreError>
where
    E: EntityTrait,
    A: ActiveModelTrait<Entity = E> + Send,
    C: ConnectionTrait,
{
    if models.is_empty() {
        return Ok(0);
    }
    let keys: Vec<E::Column> = E::PrimaryKey::iter().map(|k| k.into_column()).collect();
    let key_names: Vec<&str> = keys.iter().map(|k| k.as_str()).collect();
    let updates: Vec<E::Column> = E::Column::iter()
        .filter(|c| !key_names.contains(&c.as_str()))
        .collect();
    let columns = E::Column::iter().count().max(1);
    let chunk = (MAX_PARAMS / columns).max(1);
    let total = models.len() as u64;
    let mut rows = models.into_iter().peekable();
    while rows.peek().is_some() {
        let part: Vec<A> = rows.by_ref().take(chunk).collect();
        let on_conflict = if updates.is_empty() {
            OnConflict::columns(keys.clone()).do_nothing().to_owned()
        } else {
            OnConflict::columns(keys.clone())
                .update_columns(updates.clone())
                .to_owned()
        };
        E::insert_many(part)
            .on_conflict(on_conflict)
            .exec_without_returning(conn)
            .await
            .map_err(db_err)?;
    }
    Ok(total)
}

/// Writes one batch on `conn` (a connection or an open transaction); returns rows written.
///
/// # Errors
/// [`StoreError`] when the database refuses the rows.
pub async fn upsert_batch<C: ConnectionTrait>(
    conn: &C,
    provider: &str,
    batch: &DataBatch,
) -> Result<u64, StoreError> {
    let now = Utc::now();
    match batch {
        DataBatch::Instruments(v) => {
            upsert_models::<instrument::Entity, _, _>(
                conn,
                v.iter()
                    .map(|i| c::instrument_row(i, provider, now))
                    .collect(),
            )
            .await
        }
        DataBatch::Calendar(v) => {
            upsert_models::<trading_day::Entity, _, _>(
                conn,
                v.iter().map(|d| c::trading_day_row(d, provider)).collect(),
            )
            .await
        }
        DataBatch::DailyBars(v)
            if conn.get_database_backend() == sea_orm::DatabaseBackend::Postgres =>
        {
            super::bars_pg::upsert_bars(conn, provider, v).await
        }
        DataBatch::DailyBars(v)
            if conn.get_database_backend() == sea_orm::DatabaseBackend::Sqlite =>
        {
            bars_sqlite::upsert_bars(conn, provider, v).await
        }
        DataBatch::DailyBars(v) => {
            upsert_models::<daily_bar::Entity, _, _>(
                conn,
                v.iter().map(|b| c::bar_row(b, provider, now)).collect(),
            )
            .await
        }
        DataBatch::AdjustmentFactors(v) => {
            upsert_models::<adjustment_factor::Entity, _, _>(
                conn,
                v.iter().map(|f| c::factor_row(f, provider)).collect(),
            )
            .await
        }
        DataBatch::Valuations(v) => {
            upsert_models::<daily_valuation::Entity, _, _>(
                conn,
                v.iter()
                    .map(|x| c::valuation_row(x, provider, now))
                    .collect(),
            )
            .await
        }
        DataBatch::Statements(v) => {
            let rows = v
                .iter()
                .map(|s| c::statement_row(s, provider, now))
                .collect::<Result<Vec<_>, _>>()?;
            upsert_models::<financial_statement::Entity, _, _>(conn, rows).await
        }
        DataBatch::Indicators(v) => {
            let rows = v
                .iter()
                .map(|s| c::indicators_row(s, provider, now))
                .collect::<Result<Vec<_>, _>>()?;
            upsert_models::<financial_indicator::Entity, _, _>(conn, rows).await
        }
        DataBatch::News(v) => {
            upsert_models::<news_article::Entity, _, _>(
                conn,
                v.iter().map(|n| c::news_row(n, provider)).collect(),
            )
            .await
        }
        DataBatch::InsiderTrades(v) => {
            let rows = v
                .iter()
                .map(|t| c::insider_row(t, provider))
                .collect::<Result<Vec<_>, _>>()?;
            upsert_models::<insider_trade::Entity, _, _>(conn, rows).await
        }
    }
}
