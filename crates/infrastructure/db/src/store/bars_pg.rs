//! The PostgreSQL path for daily bars, the largest dataset.
//!
//! A batch travels as one array per column (no statement with tens of thousands of bind
//! parameters to parse and plan), expanded by `unnest`s in the select list, which run in step
//! without filling the tuplestore that `FROM unnest(a, b, …)` fills (a quarter of the old
//! statement's time). The batch is sorted by key and split by what is stored already:
//!
//! - Symbols with no stored bar between their first and last date in the batch (one index
//!   probe per symbol finds them) get a plain `INSERT`: `INSERT … ON CONFLICT` costs about
//!   1.6 times as much per row (an index probe before each insert, a speculative insertion
//!   and its confirmation). A concurrent writer could still insert one of those keys first; the
//!   insert runs under a savepoint, and a unique violation sends its rows down the other path.
//! - The other rows go through `INSERT … ON CONFLICT DO UPDATE`. Rows equal to the stored
//!   ones are filtered out before they reach the conflict check (which locks, and so writes,
//!   each conflicting row even when nothing changes), and the update is guarded by
//!   `IS DISTINCT FROM`: re-ingesting unchanged bars writes nothing, changed bars get their
//!   new values, provider and `updated_at`.
//!
//! `COPY` would need the driver's connection, which sea-orm does not expose inside a
//! transaction, and the batch must be written in the caller's transaction.

use std::collections::HashSet;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::sea_query::{ArrayType, Value};
use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, RuntimeErr, Statement};
use stockpilot_application::ports::StoreError;
use stockpilot_domain::market::DailyBar;

use super::db_err;

const COLUMNS: &str = "symbol, trade_date, open, high, low, close, pre_close, change, pct_change, \
    volume, amount, provider, updated_at";

/// The value columns, compared to decide whether a stored row changes.
const DATA: [&str; 10] = [
    "open",
    "high",
    "low",
    "close",
    "pre_close",
    "change",
    "pct_change",
    "volume",
    "amount",
    "provider",
];

/// `$1`…`$11`: the batch's columns (see [`statement`]).
const UNNEST: &str = "unnest($1::varchar[]) AS symbol, unnest($2::date[]) AS trade_date, \
    unnest($3::numeric[]) AS open, unnest($4::numeric[]) AS high, \
    unnest($5::numeric[]) AS low, unnest($6::numeric[]) AS close, \
    NULLIF(unnest($7::text[]), '')::numeric AS pre_close, \
    NULLIF(unnest($8::text[]), '')::numeric AS change, \
    NULLIF(unnest($9::text[]), '')::numeric AS pct_change, \
    unnest($10::numeric[]) AS volume, NULLIF(unnest($11::text[]), '')::numeric AS amount";

/// Plain insert of rows whose keys are not stored; `$12` provider, `$13` time.
static INSERT_SQL: LazyLock<String> = LazyLock::new(|| {
    format!("INSERT INTO daily_bars ({COLUMNS}) SELECT {UNNEST}, $12::varchar, $13::timestamptz")
});

/// Upsert of the other rows. `OFFSET 0` keeps the `NOT EXISTS` a per-row primary-key probe:
/// as a join the planner may hash the whole table when its statistics lag behind.
static UPSERT_SQL: LazyLock<String> = LazyLock::new(|| {
    let list = |prefix: &str| {
        DATA.iter()
            .map(|c| format!("{prefix}.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let set = DATA
        .iter()
        .chain(&["updated_at"])
        .map(|c| format!("{c} = EXCLUDED.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO daily_bars AS t ({COLUMNS}) \
         SELECT u.symbol, u.trade_date, u.open, u.high, u.low, u.close, u.pre_close, u.change, \
                u.pct_change, u.volume, u.amount, u.provider, $13::timestamptz \
         FROM (SELECT {UNNEST}, $12::varchar AS provider) AS u \
         WHERE NOT EXISTS (SELECT 1 FROM daily_bars AS x \
             WHERE x.symbol = u.symbol AND x.trade_date = u.trade_date \
               AND ({x}) IS NOT DISTINCT FROM ({u}) OFFSET 0) \
         ON CONFLICT (symbol, trade_date) DO UPDATE SET {set} \
         WHERE ({t}) IS DISTINCT FROM ({excluded})",
        x = list("x"),
        u = list("u"),
        t = list("t"),
        excluded = list("EXCLUDED"),
    )
});

/// Of the symbols `$1`, those with a stored bar between `$2` and `$3` (their first and last
/// date in the batch).
const STORED_SQL: &str = "SELECT s.symbol FROM (SELECT unnest($1::varchar[]) AS symbol, \
        unnest($2::date[]) AS first_date, unnest($3::date[]) AS last_date) AS s \
    WHERE EXISTS (SELECT 1 FROM daily_bars AS b WHERE b.symbol = s.symbol \
        AND b.trade_date BETWEEN s.first_date AND s.last_date OFFSET 0)";

const SAVEPOINT: &str = "stockpilot_new_bars";

/// Rows per statement, which bounds the size of one bind message.
const CHUNK: usize = 100_000;

/// Planner settings for the statements of one batch, `(name, value)`, restored afterwards.
///
/// - JIT compilation: a statement over tens of thousands of rows with a primary-key probe
///   each is costed far above `jit_above_cost` and `jit_optimize_above_cost`, and compiling it
///   took longer than running it (300 ms and more per 50,000 rows, measured).
/// - Bitmap scans: with statistics that lag behind a fast-growing table the planner probes the
///   primary key by bitmap scan, which costs more than a plain index scan for a one-row lookup.
const SETTINGS: [(&str, &str); 2] = [("jit", "off"), ("enable_bitmapscan", "off")];

fn array(ty: ArrayType, values: Vec<Value>) -> Value {
    Value::Array(ty, Some(Box::new(values)))
}

fn decimals(bars: &[&DailyBar], f: impl Fn(&DailyBar) -> Decimal) -> Value {
    array(
        ArrayType::Decimal,
        bars.iter().map(|b| Value::from(f(b))).collect(),
    )
}

/// Nullable decimals travel as text, `''` for NULL (the driver binds arrays without NULL
/// elements only). A column that is NULL in every row of the batch (several providers never
/// fill some) travels as an empty array: the `unnest`s of one select list run in step and the
/// shorter ones are padded with NULLs.
fn optional(bars: &[&DailyBar], f: impl Fn(&DailyBar) -> Option<Decimal>) -> Value {
    let text = if bars.iter().all(|b| f(b).is_none()) {
        Vec::new()
    } else {
        bars.iter()
            .map(|b| Value::from(f(b).map(|d| d.to_string()).unwrap_or_default()))
            .collect()
    };
    array(ArrayType::String, text)
}

/// `sql` with the parameters [`UNNEST`] and `$12` (provider), `$13` (time) expect.
fn statement(sql: &str, bars: &[&DailyBar], provider: &str, now: DateTime<Utc>) -> Statement {
    let symbols = bars
        .iter()
        .map(|b| Value::from(b.symbol.to_string()))
        .collect();
    let dates = bars.iter().map(|b| Value::from(b.trade_date)).collect();
    let values = vec![
        array(ArrayType::String, symbols),
        array(ArrayType::ChronoDate, dates),
        decimals(bars, |b| b.open),
        decimals(bars, |b| b.high),
        decimals(bars, |b| b.low),
        decimals(bars, |b| b.close),
        optional(bars, |b| b.pre_close),
        optional(bars, |b| b.change),
        optional(bars, |b| b.pct_change),
        decimals(bars, |b| b.volume),
        optional(bars, |b| b.amount),
        Value::from(provider.to_owned()),
        Value::from(now),
    ];
    Statement::from_sql_and_values(DatabaseBackend::Postgres, sql, values)
}

/// The SQLSTATE of a database error.
fn sqlstate(e: &DbErr) -> Option<String> {
    match e {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e
            .as_database_error()
            .and_then(|d| d.code())
            .map(|c| c.into_owned()),
        _ => None,
    }
}

fn by_key(a: &&DailyBar, b: &&DailyBar) -> std::cmp::Ordering {
    (a.symbol.as_str(), a.trade_date).cmp(&(b.symbol.as_str(), b.trade_date))
}

/// Of the symbols of `sorted` (in key order), those with a stored bar within the batch's
/// dates of that symbol.
async fn symbols_with_stored_bars<C: ConnectionTrait>(
    conn: &C,
    sorted: &[&DailyBar],
) -> Result<HashSet<String>, StoreError> {
    let (mut symbols, mut first, mut last) = (Vec::new(), Vec::new(), Vec::new());
    for group in sorted.chunk_by(|a, b| a.symbol == b.symbol) {
        if let (Some(a), Some(z)) = (group.first(), group.last()) {
            symbols.push(Value::from(a.symbol.to_string()));
            first.push(Value::from(a.trade_date));
            last.push(Value::from(z.trade_date));
        }
    }
    let rows = conn
        .query_all_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            STORED_SQL,
            [
                array(ArrayType::String, symbols),
                array(ArrayType::ChronoDate, first),
                array(ArrayType::ChronoDate, last),
            ],
        ))
        .await
        .map_err(db_err)?;
    rows.iter()
        .map(|r| r.try_get_by_index::<String>(0))
        .collect::<Result<_, _>>()
        .map_err(db_err)
}

/// Inserts bars whose keys were not stored. `false` when one was stored meanwhile by a
/// concurrent writer; then nothing was written.
async fn insert_new<C: ConnectionTrait>(
    conn: &C,
    bars: &[&DailyBar],
    provider: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    // Outside a transaction block (a plain pool connection) each statement is atomic on its
    // own, and there is no savepoint to take.
    let savepoint = match conn
        .execute_unprepared(&format!("SAVEPOINT {SAVEPOINT}"))
        .await
    {
        Ok(_) => true,
        Err(e) if sqlstate(&e).as_deref() == Some("25P01") => false,
        Err(e) => return Err(db_err(e)),
    };
    match conn
        .execute_raw(statement(&INSERT_SQL, bars, provider, now))
        .await
    {
        Ok(_) => {
            if savepoint {
                conn.execute_unprepared(&format!("RELEASE SAVEPOINT {SAVEPOINT}"))
                    .await
                    .map_err(db_err)?;
            }
            Ok(true)
        }
        Err(e) if sqlstate(&e).as_deref() == Some("23505") => {
            if savepoint {
                for sql in [
                    format!("ROLLBACK TO SAVEPOINT {SAVEPOINT}"),
                    format!("RELEASE SAVEPOINT {SAVEPOINT}"),
                ] {
                    conn.execute_unprepared(&sql).await.map_err(db_err)?;
                }
            }
            Ok(false)
        }
        Err(e) => Err(db_err(e)),
    }
}

/// Writes `sorted` (in key order, at most [`CHUNK`] rows).
async fn write<C: ConnectionTrait>(
    conn: &C,
    sorted: &[&DailyBar],
    provider: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let stored = symbols_with_stored_bars(conn, sorted).await?;
    let (new, mut rest): (Vec<&DailyBar>, Vec<&DailyBar>) = sorted
        .iter()
        .partition(|b| !stored.contains(b.symbol.as_str()));
    if !new.is_empty() && !insert_new(conn, &new, provider, now).await? {
        rest.extend(new);
        rest.sort_by(by_key);
    }
    if !rest.is_empty() {
        conn.execute_raw(statement(&UPSERT_SQL, &rest, provider, now))
            .await
            .map_err(db_err)?;
    }
    Ok(())
}

/// Applies [`SETTINGS`] for the rest of the transaction; returns the values they had.
async fn apply_settings<C: ConnectionTrait>(conn: &C) -> Result<Vec<String>, StoreError> {
    let (old, new): (Vec<String>, Vec<String>) = SETTINGS
        .iter()
        .map(|(name, value)| {
            (
                format!("current_setting('{name}')"),
                format!("set_config('{name}', '{value}', true)"),
            )
        })
        .unzip();
    let sql = format!("SELECT {}, {}", old.join(", "), new.join(", "));
    let Some(row) = conn
        .query_one_raw(Statement::from_string(DatabaseBackend::Postgres, sql))
        .await
        .map_err(db_err)?
    else {
        return Ok(Vec::new());
    };
    (0..SETTINGS.len())
        .map(|i| row.try_get_by_index::<String>(i))
        .collect::<Result<_, _>>()
        .map_err(db_err)
}

/// Gives [`SETTINGS`] back the values [`apply_settings`] found.
async fn restore_settings<C: ConnectionTrait>(
    conn: &C,
    old: Vec<String>,
) -> Result<(), StoreError> {
    if old.len() != SETTINGS.len() {
        return Ok(());
    }
    let calls = SETTINGS
        .iter()
        .enumerate()
        .map(|(i, (name, _))| format!("set_config('{name}', ${}, true)", i + 1))
        .collect::<Vec<_>>()
        .join(", ");
    conn.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        format!("SELECT {calls}"),
        old.into_iter().map(Value::from),
    ))
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Upserts `bars` on `conn` (a PostgreSQL connection or transaction).
///
/// # Errors
/// [`StoreError`] when the database refuses the rows.
pub async fn upsert_bars<C: ConnectionTrait>(
    conn: &C,
    provider: &str,
    bars: &[DailyBar],
) -> Result<u64, StoreError> {
    if bars.is_empty() {
        return Ok(0);
    }
    let now = Utc::now();
    // Key order: index pages are visited once each, and concurrent batches lock rows in the
    // same order. The sort is stable.
    let mut sorted: Vec<&DailyBar> = bars.iter().collect();
    sorted.sort_by(by_key);
    let settings = apply_settings(conn).await?;
    let mut written = Ok(());
    for part in sorted.chunks(CHUNK) {
        written = write(conn, part, provider, now).await;
        if written.is_err() {
            break;
        }
    }
    // After a database error the transaction is aborted and rolls the settings back itself.
    written?;
    restore_settings(conn, settings).await?;
    Ok(bars.len() as u64)
}
