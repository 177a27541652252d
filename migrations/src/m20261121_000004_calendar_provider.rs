//! Which provider wrote each calendar day, so calendar responses name their source.

use sea_orm_migration::prelude::*;

pub const DESCRIPTION: &str = "provider of each trading-calendar day";

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TradingCalendar {
    Table,
    Provider,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// Atomic on SQLite too (it has transactional DDL): a failed revision leaves nothing
    /// half-applied, and every statement runs on one connection.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Days stored before this revision have no recorded source: "unknown".
        manager
            .alter_table(
                Table::alter()
                    .table(TradingCalendar::Table)
                    .add_column(ColumnDef::new(TradingCalendar::Provider).string_len(32).not_null().default("unknown"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(TradingCalendar::Table).drop_column(TradingCalendar::Provider).to_owned())
            .await
    }
}
