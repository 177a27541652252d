//! `trading_calendar`: one calendar day of one exchange.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "trading_calendar")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub exchange: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub trade_date: Date,
    pub is_open: bool,
    pub pretrade_date: Option<Date>,
    pub provider: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
