//! Instruments, trading calendars, daily bars and adjustment factors.

use sea_orm_migration::prelude::*;

pub const DESCRIPTION: &str = "instruments, trading calendar, daily bars and adjustment factors";

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Instruments {
    Table,
    Symbol,
    Market,
    Exchange,
    Name,
    Industry,
    Area,
    Currency,
    ListDate,
    DelistDate,
    Status,
    Provider,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TradingCalendar {
    Table,
    Exchange,
    TradeDate,
    IsOpen,
    PretradeDate,
}

#[derive(DeriveIden)]
enum DailyBars {
    Table,
    Symbol,
    TradeDate,
    Open,
    High,
    Low,
    Close,
    PreClose,
    Change,
    PctChange,
    Volume,
    Amount,
    Provider,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AdjustmentFactors {
    Table,
    Symbol,
    TradeDate,
    Factor,
    Provider,
}

fn price(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).decimal_len(20, 6).not_null().to_owned()
}

fn price_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).decimal_len(20, 6).null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// Atomic on SQLite too (it has transactional DDL): a failed revision leaves nothing
    /// half-applied, and every statement runs on one connection.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Instruments::Table)
                    .col(ColumnDef::new(Instruments::Symbol).string_len(16).not_null().primary_key())
                    .col(ColumnDef::new(Instruments::Market).string_len(8).not_null())
                    .col(ColumnDef::new(Instruments::Exchange).string_len(16).not_null())
                    .col(ColumnDef::new(Instruments::Name).string_len(128).not_null())
                    .col(ColumnDef::new(Instruments::Industry).string_len(128).null())
                    .col(ColumnDef::new(Instruments::Area).string_len(64).null())
                    .col(ColumnDef::new(Instruments::Currency).string_len(8).not_null())
                    .col(ColumnDef::new(Instruments::ListDate).date().null())
                    .col(ColumnDef::new(Instruments::DelistDate).date().null())
                    .col(ColumnDef::new(Instruments::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Instruments::Provider).string_len(32).not_null())
                    .col(ColumnDef::new(Instruments::UpdatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_instruments_market")
                    .table(Instruments::Table)
                    .col(Instruments::Market)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TradingCalendar::Table)
                    .col(ColumnDef::new(TradingCalendar::Exchange).string_len(16).not_null())
                    .col(ColumnDef::new(TradingCalendar::TradeDate).date().not_null())
                    .col(ColumnDef::new(TradingCalendar::IsOpen).boolean().not_null())
                    .col(ColumnDef::new(TradingCalendar::PretradeDate).date().null())
                    .primary_key(
                        Index::create()
                            .col(TradingCalendar::Exchange)
                            .col(TradingCalendar::TradeDate),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DailyBars::Table)
                    .col(ColumnDef::new(DailyBars::Symbol).string_len(16).not_null())
                    .col(ColumnDef::new(DailyBars::TradeDate).date().not_null())
                    .col(price(DailyBars::Open))
                    .col(price(DailyBars::High))
                    .col(price(DailyBars::Low))
                    .col(price(DailyBars::Close))
                    .col(price_null(DailyBars::PreClose))
                    .col(price_null(DailyBars::Change))
                    .col(price_null(DailyBars::PctChange))
                    .col(ColumnDef::new(DailyBars::Volume).decimal_len(24, 4).not_null())
                    .col(ColumnDef::new(DailyBars::Amount).decimal_len(24, 4).null())
                    .col(ColumnDef::new(DailyBars::Provider).string_len(32).not_null())
                    .col(ColumnDef::new(DailyBars::UpdatedAt).timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col(DailyBars::Symbol).col(DailyBars::TradeDate))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AdjustmentFactors::Table)
                    .col(ColumnDef::new(AdjustmentFactors::Symbol).string_len(16).not_null())
                    .col(ColumnDef::new(AdjustmentFactors::TradeDate).date().not_null())
                    .col(ColumnDef::new(AdjustmentFactors::Factor).decimal_len(24, 8).not_null())
                    .col(ColumnDef::new(AdjustmentFactors::Provider).string_len(32).not_null())
                    .primary_key(
                        Index::create()
                            .col(AdjustmentFactors::Symbol)
                            .col(AdjustmentFactors::TradeDate),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AdjustmentFactors::Table.into_iden(),
            DailyBars::Table.into_iden(),
            TradingCalendar::Table.into_iden(),
            Instruments::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
