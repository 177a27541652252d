//! Between domain values and table rows.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use stockpilot_application::ports::{BarText, Dataset, InstrumentRecord, StoreError};
use stockpilot_application::research::model::{Run, RunRequest, RunStatus};
use stockpilot_application::sync::{FailureStatus, JobKind, JobStatus, SyncFailure, SyncJob};
use stockpilot_domain::market::{
    AdjustmentFactor, DailyBar, DailyValuation, Exchange, FinancialIndicators, FinancialStatement,
    InsiderTrade, Instrument, ListingStatus, Market, NewsArticle, Symbol, TradingDay,
};

use super::data_err;
use crate::entities::{
    adjustment_factor, daily_bar, daily_valuation, financial_indicator, financial_statement,
    insider_trade, instrument, job, news_article, research_run, sync_failure, sync_job,
    trading_day,
};

pub fn symbol(s: &str) -> Result<Symbol, StoreError> {
    Symbol::parse(s).map_err(data_err)
}

pub fn instrument_row(
    i: &Instrument,
    provider: &str,
    now: DateTime<Utc>,
) -> instrument::ActiveModel {
    instrument::Model {
        symbol: i.symbol.to_string(),
        market: i.market.as_str().to_owned(),
        exchange: i.exchange.as_str().to_owned(),
        name: i.name.clone(),
        industry: i.industry.clone(),
        area: i.area.clone(),
        currency: i.currency.clone(),
        list_date: i.list_date,
        delist_date: i.delist_date,
        status: i.status.as_str().to_owned(),
        provider: provider.to_owned(),
        updated_at: now,
    }
    .into()
}

pub fn instrument_record(m: instrument::Model) -> Result<InstrumentRecord, StoreError> {
    Ok(InstrumentRecord {
        instrument: Instrument {
            symbol: symbol(&m.symbol)?,
            name: m.name,
            exchange: m.exchange.parse::<Exchange>().map_err(data_err)?,
            market: m.market.parse::<Market>().map_err(data_err)?,
            industry: m.industry,
            area: m.area,
            currency: m.currency,
            list_date: m.list_date,
            delist_date: m.delist_date,
            status: m.status.parse::<ListingStatus>().map_err(data_err)?,
        },
        provider: m.provider,
        updated_at: m.updated_at,
    })
}

pub fn trading_day_row(d: &TradingDay, provider: &str) -> trading_day::ActiveModel {
    trading_day::Model {
        exchange: d.exchange.as_str().to_owned(),
        trade_date: d.date,
        is_open: d.is_open,
        pretrade_date: d.pretrade_date,
        provider: provider.to_owned(),
    }
    .into()
}

pub fn trading_day(m: trading_day::Model) -> Result<TradingDay, StoreError> {
    Ok(TradingDay {
        exchange: m.exchange.parse().map_err(data_err)?,
        date: m.trade_date,
        is_open: m.is_open,
        pretrade_date: m.pretrade_date,
    })
}

pub fn bar_row(b: &DailyBar, provider: &str, now: DateTime<Utc>) -> daily_bar::ActiveModel {
    daily_bar::Model {
        symbol: b.symbol.to_string(),
        trade_date: b.trade_date,
        open: b.open,
        high: b.high,
        low: b.low,
        close: b.close,
        pre_close: b.pre_close,
        change: b.change,
        pct_change: b.pct_change,
        volume: b.volume,
        amount: b.amount,
        provider: provider.to_owned(),
        updated_at: now,
    }
    .into()
}

/// A stored bar as the bar reads select it: date, open, high, low, close, pre-close, change,
/// % change, volume, amount, provider; the numbers as `N` (`Decimal`, or `String` when the
/// database prints them).
pub type BarRow<N = Decimal> = (
    NaiveDate,
    N,
    N,
    N,
    N,
    Option<N>,
    Option<N>,
    Option<N>,
    N,
    Option<N>,
    String,
);

pub fn bar_text_from_row(r: BarRow<String>) -> BarText {
    let (trade_date, open, high, low, close, pre_close, change, pct_change, volume, amount, _) = r;
    BarText {
        trade_date,
        open,
        high,
        low,
        close,
        pre_close,
        change,
        pct_change,
        volume,
        amount,
    }
}

pub fn bar_from_row(r: BarRow, sym: &Symbol) -> DailyBar {
    let (trade_date, open, high, low, close, pre_close, change, pct_change, volume, amount, _) = r;
    DailyBar {
        symbol: sym.clone(),
        trade_date,
        open: open.normalize(),
        high: high.normalize(),
        low: low.normalize(),
        close: close.normalize(),
        pre_close: pre_close.map(|d| d.normalize()),
        change: change.map(|d| d.normalize()),
        pct_change: pct_change.map(|d| d.normalize()),
        volume: volume.normalize(),
        amount: amount.map(|d| d.normalize()),
    }
}

pub fn factor_row(f: &AdjustmentFactor, provider: &str) -> adjustment_factor::ActiveModel {
    adjustment_factor::Model {
        symbol: f.symbol.to_string(),
        trade_date: f.trade_date,
        factor: f.factor,
        provider: provider.to_owned(),
    }
    .into()
}

pub fn factor(m: adjustment_factor::Model, sym: &Symbol) -> AdjustmentFactor {
    AdjustmentFactor {
        symbol: sym.clone(),
        trade_date: m.trade_date,
        factor: m.factor.normalize(),
    }
}

pub fn valuation_row(
    v: &DailyValuation,
    provider: &str,
    now: DateTime<Utc>,
) -> daily_valuation::ActiveModel {
    daily_valuation::Model {
        symbol: v.symbol.to_string(),
        trade_date: v.trade_date,
        turnover_rate: v.turnover_rate,
        pe: v.pe,
        pe_ttm: v.pe_ttm,
        pb: v.pb,
        ps: v.ps,
        ps_ttm: v.ps_ttm,
        dividend_yield: v.dividend_yield,
        total_shares: v.total_shares,
        float_shares: v.float_shares,
        total_market_cap: v.total_market_cap,
        float_market_cap: v.float_market_cap,
        provider: provider.to_owned(),
        updated_at: now,
    }
    .into()
}

pub fn valuation(m: daily_valuation::Model, sym: &Symbol) -> DailyValuation {
    let n = |d: Option<rust_decimal::Decimal>| d.map(|d| d.normalize());
    DailyValuation {
        symbol: sym.clone(),
        trade_date: m.trade_date,
        turnover_rate: n(m.turnover_rate),
        pe: n(m.pe),
        pe_ttm: n(m.pe_ttm),
        pb: n(m.pb),
        ps: n(m.ps),
        ps_ttm: n(m.ps_ttm),
        dividend_yield: n(m.dividend_yield),
        total_shares: n(m.total_shares),
        float_shares: n(m.float_shares),
        total_market_cap: n(m.total_market_cap),
        float_market_cap: n(m.float_market_cap),
    }
}

fn json<T: serde::Serialize>(v: &T) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(v).map_err(data_err)
}

pub fn statement_row(
    s: &FinancialStatement,
    provider: &str,
    now: DateTime<Utc>,
) -> Result<financial_statement::ActiveModel, StoreError> {
    Ok(financial_statement::Model {
        symbol: s.symbol.to_string(),
        kind: s.kind.as_str().to_owned(),
        period: s.period.as_str().to_owned(),
        report_date: s.report_date,
        announced_date: s.announced_date,
        currency: s.currency.clone(),
        items: json(&s.items)?,
        raw: s.raw.clone(),
        provider: provider.to_owned(),
        updated_at: now,
    }
    .into())
}

pub fn statement(
    m: financial_statement::Model,
    sym: &Symbol,
) -> Result<FinancialStatement, StoreError> {
    Ok(FinancialStatement {
        symbol: sym.clone(),
        kind: m.kind.parse().map_err(data_err)?,
        period: m.period.parse().map_err(data_err)?,
        report_date: m.report_date,
        announced_date: m.announced_date,
        currency: m.currency,
        items: serde_json::from_value(m.items).map_err(data_err)?,
        raw: m.raw,
    })
}

pub fn indicators_row(
    i: &FinancialIndicators,
    provider: &str,
    now: DateTime<Utc>,
) -> Result<financial_indicator::ActiveModel, StoreError> {
    Ok(financial_indicator::Model {
        symbol: i.symbol.to_string(),
        period: i.period.as_str().to_owned(),
        report_date: i.report_date,
        metrics: json(i)?,
        provider: provider.to_owned(),
        updated_at: now,
    }
    .into())
}

pub fn indicators(m: financial_indicator::Model) -> Result<FinancialIndicators, StoreError> {
    serde_json::from_value(m.metrics).map_err(data_err)
}

pub fn news_row(n: &NewsArticle, provider: &str) -> news_article::ActiveModel {
    news_article::Model {
        symbol: n.symbol.to_string(),
        url: n.url.clone(),
        title: n.title.clone(),
        source: n.source.clone(),
        author: n.author.clone(),
        published_on: n.published_on,
        sentiment: n.sentiment.clone(),
        provider: provider.to_owned(),
    }
    .into()
}

pub fn insider_row(
    t: &InsiderTrade,
    provider: &str,
) -> Result<insider_trade::ActiveModel, StoreError> {
    let key = format!(
        "{}|{}|{}|{}|{}",
        t.filing_date,
        t.insider_name,
        t.transaction_date
            .map(|d| d.to_string())
            .unwrap_or_default(),
        t.shares
            .map(|d| d.normalize().to_string())
            .unwrap_or_default(),
        t.price_per_share
            .map(|d| d.normalize().to_string())
            .unwrap_or_default(),
    );
    Ok(insider_trade::Model {
        symbol: t.symbol.to_string(),
        trade_key: key.chars().take(500).collect(),
        filing_date: t.filing_date,
        trade: json(t)?,
        provider: provider.to_owned(),
    }
    .into())
}

/// What a sync job does: the payload of its row in `jobs`.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct SyncPayload {
    pub kind: String,
    pub provider: String,
    pub params: serde_json::Value,
    pub schedule_name: Option<String>,
}

/// A sync job from its row in `jobs` and its progress row.
pub fn job(j: job::Model, p: sync_job::Model) -> Result<SyncJob, StoreError> {
    let payload: SyncPayload = serde_json::from_value(j.payload).map_err(data_err)?;
    Ok(SyncJob {
        id: j.id.into(),
        kind: payload.kind.parse::<JobKind>().map_err(data_err)?,
        provider: payload.provider,
        status: j.status.parse::<JobStatus>().map_err(data_err)?,
        params: serde_json::from_value(payload.params).map_err(data_err)?,
        cursor: u32::try_from(p.cursor).unwrap_or(0),
        total: u32::try_from(p.total).unwrap_or(0),
        rows_written: u64::try_from(p.rows_written).unwrap_or(0),
        symbols_failed: u32::try_from(p.symbols_failed).unwrap_or(0),
        message: j.message,
        schedule_name: payload.schedule_name,
        cancel_requested: j.cancel_requested,
        resume_after: j.run_after,
        created_at: j.created_at,
        started_at: j.started_at,
        finished_at: j.finished_at,
        updated_at: j.updated_at,
    })
}

pub fn dataset(s: &str) -> Result<Dataset, StoreError> {
    s.parse().map_err(data_err)
}

pub fn failure(m: sync_failure::Model) -> Result<SyncFailure, StoreError> {
    Ok(SyncFailure {
        provider: m.provider,
        dataset: dataset(&m.dataset)?,
        symbol: symbol(&m.symbol)?,
        error_kind: m.error_kind,
        error: m.error,
        attempts: u32::try_from(m.attempts).unwrap_or(0),
        status: m.status.parse::<FailureStatus>().map_err(data_err)?,
        next_retry_at: m.next_retry_at,
        last_job_id: m.last_job_id.map(Into::into),
        first_failed_at: m.first_failed_at,
        last_failed_at: m.last_failed_at,
    })
}

/// A research run from its row in `jobs` (its request is the payload) and its usage row.
pub fn run(j: job::Model, u: research_run::Model) -> Result<Run, StoreError> {
    let request: RunRequest = serde_json::from_value(j.payload).map_err(data_err)?;
    Ok(Run {
        id: j.id.into(),
        status: j.status.parse::<RunStatus>().map_err(data_err)?,
        request,
        error: j.message,
        cancel_requested: j.cancel_requested,
        claimed_by: j.claimed_by,
        attempts: u32::try_from(j.attempts).unwrap_or(0),
        prompt_tokens: u64::try_from(u.prompt_tokens).unwrap_or(0),
        completion_tokens: u64::try_from(u.completion_tokens).unwrap_or(0),
        cost_usd: u.cost_usd,
        created_at: j.created_at,
        started_at: j.started_at,
        finished_at: j.finished_at,
        heartbeat_at: j.heartbeat_at,
    })
}
