//! The PostgreSQL fast path for daily bars, the largest dataset: one statement per batch that
//! binds one array per column and inserts `FROM UNNEST(…)`, instead of a multi-row `VALUES`
//! list with tens of thousands of bind parameters that PostgreSQL must parse and plan.

use chrono::Utc;
use rust_decimal::Decimal;
use sea_orm::sea_query::{ArrayType, Value};
use sea_orm::{ConnectionTrait, Statement};
use stockpilot_application::ports::StoreError;
use stockpilot_domain::market::DailyBar;

use super::db_err;

const SQL: &str = "INSERT INTO daily_bars \
    (symbol, trade_date, open, high, low, close, pre_close, change, pct_change, volume, amount, provider, updated_at) \
    SELECT u.symbol, u.trade_date, u.open, u.high, u.low, u.close, \
           NULLIF(u.pre_close, '')::numeric, NULLIF(u.change, '')::numeric, NULLIF(u.pct_change, '')::numeric, \
           u.volume, NULLIF(u.amount, '')::numeric, $12, $13 \
    FROM UNNEST($1::varchar[], $2::date[], $3::numeric[], $4::numeric[], $5::numeric[], $6::numeric[], \
                $7::text[], $8::text[], $9::text[], $10::numeric[], $11::text[]) \
         AS u(symbol, trade_date, open, high, low, close, pre_close, change, pct_change, volume, amount) \
    ON CONFLICT (symbol, trade_date) DO UPDATE SET \
        open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close, \
        pre_close = EXCLUDED.pre_close, change = EXCLUDED.change, pct_change = EXCLUDED.pct_change, \
        volume = EXCLUDED.volume, amount = EXCLUDED.amount, provider = EXCLUDED.provider, \
        updated_at = EXCLUDED.updated_at";

fn decimals(bars: &[DailyBar], f: impl Fn(&DailyBar) -> Decimal) -> Value {
    Value::Array(
        ArrayType::Decimal,
        Some(Box::new(bars.iter().map(|b| Value::from(f(b))).collect())),
    )
}

/// Nullable decimals travel as text (`''` = NULL): the driver binds numeric arrays without
/// NULL elements only.
fn optional(bars: &[DailyBar], f: impl Fn(&DailyBar) -> Option<Decimal>) -> Value {
    let text = bars
        .iter()
        .map(|b| Value::from(f(b).map(|d| d.to_string()).unwrap_or_default()))
        .collect();
    Value::Array(ArrayType::String, Some(Box::new(text)))
}

/// Upserts `bars` in one statement on `conn` (a PostgreSQL connection or transaction).
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
    let symbols = bars
        .iter()
        .map(|b| Value::from(b.symbol.as_str().to_owned()))
        .collect();
    let dates = bars.iter().map(|b| Value::from(b.trade_date)).collect();
    let values = vec![
        Value::Array(ArrayType::String, Some(Box::new(symbols))),
        Value::Array(ArrayType::ChronoDate, Some(Box::new(dates))),
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
        Value::from(Utc::now()),
    ];
    conn.execute_raw(Statement::from_sql_and_values(
        conn.get_database_backend(),
        SQL,
        values,
    ))
    .await
    .map_err(db_err)?;
    Ok(bars.len() as u64)
}
