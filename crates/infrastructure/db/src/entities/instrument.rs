//! `instruments`: one listed security.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "instruments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub symbol: String,
    pub market: String,
    pub exchange: String,
    pub name: String,
    pub industry: Option<String>,
    pub area: Option<String>,
    pub currency: String,
    pub list_date: Option<Date>,
    pub delist_date: Option<Date>,
    pub status: String,
    pub provider: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
