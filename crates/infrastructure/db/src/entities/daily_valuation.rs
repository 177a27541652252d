//! `daily_valuations`: daily valuation metrics of one symbol on one day.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "daily_valuations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub symbol: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub trade_date: Date,
    pub turnover_rate: Option<Decimal>,
    pub pe: Option<Decimal>,
    pub pe_ttm: Option<Decimal>,
    pub pb: Option<Decimal>,
    pub ps: Option<Decimal>,
    pub ps_ttm: Option<Decimal>,
    pub dividend_yield: Option<Decimal>,
    pub total_shares: Option<Decimal>,
    pub float_shares: Option<Decimal>,
    pub total_market_cap: Option<Decimal>,
    pub float_market_cap: Option<Decimal>,
    pub provider: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
