//! Reads and standalone writes of market data.

use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
    TryGetableMany,
};
use stockpilot_application::ports::{
    BarText, DataBatch, InstrumentRecord, MarketDataStore, Page, Sourced, StoreError,
};
use stockpilot_domain::market::{
    AdjustmentFactor, DailyBar, DailyValuation, DateRange, Exchange, FinancialIndicators,
    FinancialStatement, Market, ReportPeriod, StatementKind, Symbol, TradingDay,
};

use super::convert as c;
use super::{SeaStore, db_err, page, upsert_batch};
use crate::entities::{
    adjustment_factor, daily_bar, daily_valuation, financial_indicator, financial_statement,
    instrument, trading_day,
};

#[async_trait::async_trait]
impl MarketDataStore for SeaStore {
    async fn upsert(&self, provider: &str, batch: &DataBatch) -> Result<u64, StoreError> {
        let txn = self.write_txn().await?;
        let n = upsert_batch(&txn, provider, batch).await?;
        txn.commit().await?;
        Ok(n)
    }

    async fn instrument(&self, symbol: &Symbol) -> Result<Option<InstrumentRecord>, StoreError> {
        instrument::Entity::find_by_id(symbol.as_str().to_owned())
            .one(&self.db)
            .await
            .map_err(db_err)?
            .map(c::instrument_record)
            .transpose()
    }

    async fn search_instruments(
        &self,
        market: Option<Market>,
        query: Option<&str>,
        offset: u64,
        limit: u64,
    ) -> Result<Page<InstrumentRecord>, StoreError> {
        let mut select = instrument::Entity::find();
        if let Some(m) = market {
            select = select.filter(instrument::Column::Market.eq(m.as_str()));
        }
        if let Some(q) = query.map(str::trim).filter(|q| !q.is_empty()) {
            let pattern = format!("%{}%", q.to_lowercase().replace(['%', '_', '\\'], ""));
            select = select.filter(
                Condition::any()
                    .add(
                        Expr::expr(Func::lower(Expr::col(instrument::Column::Symbol)))
                            .like(pattern.clone()),
                    )
                    .add(
                        Expr::expr(Func::lower(Expr::col(instrument::Column::Name))).like(pattern),
                    ),
            );
        }
        let select = select.order_by_asc(instrument::Column::Symbol);
        page(&self.db, select, offset, limit, c::instrument_record).await
    }

    async fn symbols(&self, market: Market) -> Result<Vec<Symbol>, StoreError> {
        let rows: Vec<String> = instrument::Entity::find()
            .select_only()
            .column(instrument::Column::Symbol)
            .filter(instrument::Column::Market.eq(market.as_str()))
            .order_by_asc(instrument::Column::Symbol)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(db_err)?;
        rows.iter().map(|s| c::symbol(s)).collect()
    }

    #[tracing::instrument(name = "db.daily_bars", skip_all, fields(symbol = %symbol))]
    async fn daily_bars(
        &self,
        symbol: &Symbol,
        range: DateRange,
    ) -> Result<Sourced<DailyBar>, StoreError> {
        use daily_bar::Column as B;
        // Only the columns a bar needs, decoded by position: the hottest read of the API.
        let (rows, provider) = self
            .bar_rows::<rust_decimal::Decimal>(
                daily_bar::Entity::find().select_only().columns([
                    B::TradeDate,
                    B::Open,
                    B::High,
                    B::Low,
                    B::Close,
                    B::PreClose,
                    B::Change,
                    B::PctChange,
                    B::Volume,
                    B::Amount,
                    B::Provider,
                ]),
                symbol,
                range,
            )
            .await?;
        Ok(Sourced {
            rows: rows
                .into_iter()
                .map(|r| c::bar_from_row(r, symbol))
                .collect(),
            provider,
        })
    }

    /// On PostgreSQL the numbers arrive as text, trailing zeros trimmed by the database
    /// (`trim_scale(x)::text`, the strings `Decimal::normalize` would print): the bars route
    /// skips decoding binary `numeric`s into `Decimal`s only to format them again. Elsewhere
    /// the bars are converted from [`daily_bars`](MarketDataStore::daily_bars).
    #[tracing::instrument(name = "db.daily_bars_text", skip_all, fields(symbol = %symbol))]
    async fn daily_bars_text(
        &self,
        symbol: &Symbol,
        range: DateRange,
    ) -> Result<Sourced<BarText>, StoreError> {
        use daily_bar::Column as B;
        if !self.is_postgres() {
            return Ok(self.daily_bars(symbol, range).await?.into_text());
        }
        let text = |column: &str| Expr::cust(format!("trim_scale(\"{column}\")::text"));
        let (rows, provider) = self
            .bar_rows::<String>(
                daily_bar::Entity::find()
                    .select_only()
                    .column(B::TradeDate)
                    .column_as(text("open"), "open")
                    .column_as(text("high"), "high")
                    .column_as(text("low"), "low")
                    .column_as(text("close"), "close")
                    .column_as(text("pre_close"), "pre_close")
                    .column_as(text("change"), "change")
                    .column_as(text("pct_change"), "pct_change")
                    .column_as(text("volume"), "volume")
                    .column_as(text("amount"), "amount")
                    .column(B::Provider),
                symbol,
                range,
            )
            .await?;
        Ok(Sourced {
            rows: rows.into_iter().map(c::bar_text_from_row).collect(),
            provider,
        })
    }

    async fn last_bar_date(&self, symbol: &Symbol) -> Result<Option<NaiveDate>, StoreError> {
        daily_bar::Entity::find()
            .select_only()
            .column_as(daily_bar::Column::TradeDate.max(), "last")
            .filter(daily_bar::Column::Symbol.eq(symbol.as_str()))
            .into_tuple::<Option<NaiveDate>>()
            .one(&self.db)
            .await
            .map(Option::flatten)
            .map_err(db_err)
    }

    async fn adjustment_factors(
        &self,
        symbol: &Symbol,
        range: DateRange,
    ) -> Result<Vec<AdjustmentFactor>, StoreError> {
        let by_symbol = adjustment_factor::Column::Symbol.eq(symbol.as_str());
        let mut rows = adjustment_factor::Entity::find()
            .filter(by_symbol.clone())
            .filter(adjustment_factor::Column::TradeDate.between(range.start(), range.end()))
            .order_by_asc(adjustment_factor::Column::TradeDate)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        // The factor in force at the range start, and the newest one (the forward divisor).
        let before = adjustment_factor::Entity::find()
            .filter(by_symbol.clone())
            .filter(adjustment_factor::Column::TradeDate.lt(range.start()))
            .order_by_desc(adjustment_factor::Column::TradeDate)
            .one(&self.db)
            .await
            .map_err(db_err)?;
        let latest = adjustment_factor::Entity::find()
            .filter(by_symbol)
            .filter(adjustment_factor::Column::TradeDate.gt(range.end()))
            .order_by_desc(adjustment_factor::Column::TradeDate)
            .one(&self.db)
            .await
            .map_err(db_err)?;
        if let Some(b) = before {
            rows.insert(0, b);
        }
        rows.extend(latest);
        Ok(rows.into_iter().map(|m| c::factor(m, symbol)).collect())
    }

    async fn valuations(
        &self,
        symbol: &Symbol,
        range: DateRange,
    ) -> Result<Sourced<DailyValuation>, StoreError> {
        let rows = daily_valuation::Entity::find()
            .filter(daily_valuation::Column::Symbol.eq(symbol.as_str()))
            .filter(daily_valuation::Column::TradeDate.between(range.start(), range.end()))
            .order_by_asc(daily_valuation::Column::TradeDate)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        let provider = rows.last().map(|r| r.provider.clone());
        Ok(Sourced {
            rows: rows.into_iter().map(|m| c::valuation(m, symbol)).collect(),
            provider,
        })
    }

    async fn statements(
        &self,
        symbol: &Symbol,
        kind: StatementKind,
        period: ReportPeriod,
        limit: u64,
    ) -> Result<Sourced<FinancialStatement>, StoreError> {
        let rows = financial_statement::Entity::find()
            .filter(financial_statement::Column::Symbol.eq(symbol.as_str()))
            .filter(financial_statement::Column::Kind.eq(kind.as_str()))
            .filter(financial_statement::Column::Period.eq(period.as_str()))
            .order_by_desc(financial_statement::Column::ReportDate)
            .limit(limit)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        let provider = rows.first().map(|r| r.provider.clone());
        let rows = rows
            .into_iter()
            .map(|m| c::statement(m, symbol))
            .collect::<Result<_, _>>()?;
        Ok(Sourced { rows, provider })
    }

    async fn financial_indicators(
        &self,
        symbol: &Symbol,
        period: ReportPeriod,
        limit: u64,
    ) -> Result<Sourced<FinancialIndicators>, StoreError> {
        let rows = financial_indicator::Entity::find()
            .filter(financial_indicator::Column::Symbol.eq(symbol.as_str()))
            .filter(financial_indicator::Column::Period.eq(period.as_str()))
            .order_by_desc(financial_indicator::Column::ReportDate)
            .limit(limit)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        let provider = rows.first().map(|r| r.provider.clone());
        Ok(Sourced {
            rows: rows
                .into_iter()
                .map(c::indicators)
                .collect::<Result<_, _>>()?,
            provider,
        })
    }

    async fn calendar(
        &self,
        exchange: Exchange,
        range: DateRange,
    ) -> Result<Sourced<TradingDay>, StoreError> {
        let rows = trading_day::Entity::find()
            .filter(trading_day::Column::Exchange.eq(exchange.as_str()))
            .filter(trading_day::Column::TradeDate.between(range.start(), range.end()))
            .order_by_asc(trading_day::Column::TradeDate)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        let provider = rows.last().map(|r| r.provider.clone());
        let rows = rows
            .into_iter()
            .map(c::trading_day)
            .collect::<Result<_, _>>()?;
        Ok(Sourced { rows, provider })
    }
}

impl SeaStore {
    /// The rows of `symbol`'s bars in `range`, oldest first, with the columns `select` chose
    /// (those of [`c::BarRow`]), and the provider of the newest.
    async fn bar_rows<N>(
        &self,
        select: Select<daily_bar::Entity>,
        symbol: &Symbol,
        range: DateRange,
    ) -> Result<(Vec<c::BarRow<N>>, Option<String>), StoreError>
    where
        c::BarRow<N>: TryGetableMany,
    {
        use daily_bar::Column as B;
        let mut rows: Vec<c::BarRow<N>> = select
            .filter(B::Symbol.eq(symbol.as_str()))
            .filter(B::TradeDate.between(range.start(), range.end()))
            .order_by_asc(B::TradeDate)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(db_err)?;
        let provider = rows.last_mut().map(|r| std::mem::take(&mut r.10));
        Ok((rows, provider))
    }
}
