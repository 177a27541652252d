//! Valuations, financial statements and indicators, news, insider trades, and the sync
//! engine's jobs, failure ledger and schedule claims.

use sea_orm_migration::prelude::*;

pub const DESCRIPTION: &str =
    "valuations, financials, news, insider trades, sync jobs, failure ledger, schedule claims";

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DailyValuations {
    Table,
    Symbol,
    TradeDate,
    TurnoverRate,
    Pe,
    PeTtm,
    Pb,
    Ps,
    PsTtm,
    DividendYield,
    TotalShares,
    FloatShares,
    TotalMarketCap,
    FloatMarketCap,
    Provider,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum FinancialStatements {
    Table,
    Symbol,
    Kind,
    Period,
    ReportDate,
    AnnouncedDate,
    Currency,
    Items,
    Raw,
    Provider,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum FinancialIndicators {
    Table,
    Symbol,
    Period,
    ReportDate,
    Metrics,
    Provider,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum NewsArticles {
    Table,
    Symbol,
    Url,
    Title,
    Source,
    Author,
    PublishedOn,
    Sentiment,
    Provider,
}

#[derive(DeriveIden)]
enum InsiderTrades {
    Table,
    Symbol,
    TradeKey,
    FilingDate,
    Trade,
    Provider,
}

#[derive(DeriveIden)]
enum SyncJobs {
    Table,
    Id,
    Kind,
    Provider,
    Status,
    Params,
    Cursor,
    Total,
    RowsWritten,
    SymbolsFailed,
    Message,
    ScheduleName,
    CancelRequested,
    ClaimedBy,
    HeartbeatAt,
    ResumeAfter,
    CreatedAt,
    StartedAt,
    FinishedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SyncFailures {
    Table,
    Provider,
    Dataset,
    Symbol,
    ErrorKind,
    Error,
    Attempts,
    Status,
    NextRetryAt,
    LastJobId,
    FirstFailedAt,
    LastFailedAt,
}

#[derive(DeriveIden)]
enum ScheduleClaims {
    Table,
    ScheduleName,
    Slot,
    JobId,
    ClaimedBy,
    CreatedAt,
}

fn num(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).decimal_len(28, 8).null().to_owned()
}

fn ts(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().not_null().to_owned()
}

fn ts_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().null().to_owned()
}

fn text(col: impl IntoIden, len: u32) -> ColumnDef {
    ColumnDef::new(col).string_len(len).not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// Atomic on SQLite too (it has transactional DDL): a failed revision leaves nothing
    /// half-applied, and every statement runs on one connection.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use DailyValuations as V;
        manager
            .create_table(
                Table::create()
                    .table(V::Table)
                    .col(text(V::Symbol, 16))
                    .col(ColumnDef::new(V::TradeDate).date().not_null())
                    .col(num(V::TurnoverRate))
                    .col(num(V::Pe))
                    .col(num(V::PeTtm))
                    .col(num(V::Pb))
                    .col(num(V::Ps))
                    .col(num(V::PsTtm))
                    .col(num(V::DividendYield))
                    .col(num(V::TotalShares))
                    .col(num(V::FloatShares))
                    .col(num(V::TotalMarketCap))
                    .col(num(V::FloatMarketCap))
                    .col(text(V::Provider, 32))
                    .col(ts(V::UpdatedAt))
                    .primary_key(Index::create().col(V::Symbol).col(V::TradeDate))
                    .to_owned(),
            )
            .await?;

        use FinancialStatements as S;
        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .col(text(S::Symbol, 16))
                    .col(text(S::Kind, 16))
                    .col(text(S::Period, 16))
                    .col(ColumnDef::new(S::ReportDate).date().not_null())
                    .col(ColumnDef::new(S::AnnouncedDate).date().null())
                    .col(text(S::Currency, 8))
                    .col(ColumnDef::new(S::Items).json().not_null())
                    .col(ColumnDef::new(S::Raw).text().not_null())
                    .col(text(S::Provider, 32))
                    .col(ts(S::UpdatedAt))
                    .primary_key(Index::create().col(S::Symbol).col(S::Kind).col(S::Period).col(S::ReportDate))
                    .to_owned(),
            )
            .await?;

        use FinancialIndicators as I;
        manager
            .create_table(
                Table::create()
                    .table(I::Table)
                    .col(text(I::Symbol, 16))
                    .col(text(I::Period, 16))
                    .col(ColumnDef::new(I::ReportDate).date().not_null())
                    .col(ColumnDef::new(I::Metrics).json().not_null())
                    .col(text(I::Provider, 32))
                    .col(ts(I::UpdatedAt))
                    .primary_key(Index::create().col(I::Symbol).col(I::Period).col(I::ReportDate))
                    .to_owned(),
            )
            .await?;

        use NewsArticles as N;
        manager
            .create_table(
                Table::create()
                    .table(N::Table)
                    .col(text(N::Symbol, 16))
                    .col(text(N::Url, 1024))
                    .col(ColumnDef::new(N::Title).text().not_null())
                    .col(ColumnDef::new(N::Source).string_len(256).null())
                    .col(ColumnDef::new(N::Author).string_len(256).null())
                    .col(ColumnDef::new(N::PublishedOn).date().not_null())
                    .col(ColumnDef::new(N::Sentiment).string_len(32).null())
                    .col(text(N::Provider, 32))
                    .primary_key(Index::create().col(N::Symbol).col(N::Url))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_news_articles_symbol_published")
                    .table(N::Table)
                    .col(N::Symbol)
                    .col(N::PublishedOn)
                    .to_owned(),
            )
            .await?;

        use InsiderTrades as T;
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .col(text(T::Symbol, 16))
                    .col(text(T::TradeKey, 512))
                    .col(ColumnDef::new(T::FilingDate).date().not_null())
                    .col(ColumnDef::new(T::Trade).json().not_null())
                    .col(text(T::Provider, 32))
                    .primary_key(Index::create().col(T::Symbol).col(T::TradeKey))
                    .to_owned(),
            )
            .await?;

        use SyncJobs as J;
        manager
            .create_table(
                Table::create()
                    .table(J::Table)
                    .col(ColumnDef::new(J::Id).uuid().not_null().primary_key())
                    .col(text(J::Kind, 32))
                    .col(text(J::Provider, 32))
                    .col(text(J::Status, 16))
                    .col(ColumnDef::new(J::Params).json().not_null())
                    .col(ColumnDef::new(J::Cursor).integer().not_null())
                    .col(ColumnDef::new(J::Total).integer().not_null())
                    .col(ColumnDef::new(J::RowsWritten).big_integer().not_null())
                    .col(ColumnDef::new(J::SymbolsFailed).integer().not_null())
                    .col(ColumnDef::new(J::Message).text().null())
                    .col(ColumnDef::new(J::ScheduleName).string_len(64).null())
                    .col(ColumnDef::new(J::CancelRequested).boolean().not_null())
                    .col(ColumnDef::new(J::ClaimedBy).string_len(64).null())
                    .col(ts_null(J::HeartbeatAt))
                    .col(ts_null(J::ResumeAfter))
                    .col(ts(J::CreatedAt))
                    .col(ts_null(J::StartedAt))
                    .col(ts_null(J::FinishedAt))
                    .col(ts(J::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("ix_sync_jobs_status_created").table(J::Table).col(J::Status).col(J::CreatedAt).to_owned(),
            )
            .await?;

        use SyncFailures as F;
        manager
            .create_table(
                Table::create()
                    .table(F::Table)
                    .col(text(F::Provider, 32))
                    .col(text(F::Dataset, 32))
                    .col(text(F::Symbol, 16))
                    .col(text(F::ErrorKind, 32))
                    .col(ColumnDef::new(F::Error).text().not_null())
                    .col(ColumnDef::new(F::Attempts).integer().not_null())
                    .col(text(F::Status, 16))
                    .col(ts_null(F::NextRetryAt))
                    .col(ColumnDef::new(F::LastJobId).uuid().null())
                    .col(ts(F::FirstFailedAt))
                    .col(ts(F::LastFailedAt))
                    .primary_key(Index::create().col(F::Provider).col(F::Dataset).col(F::Symbol))
                    .to_owned(),
            )
            .await?;

        use ScheduleClaims as C;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .col(text(C::ScheduleName, 64))
                    .col(ts(C::Slot))
                    .col(ColumnDef::new(C::JobId).uuid().not_null())
                    .col(text(C::ClaimedBy, 64))
                    .col(ts(C::CreatedAt))
                    .primary_key(Index::create().col(C::ScheduleName).col(C::Slot))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ScheduleClaims::Table.into_iden(),
            SyncFailures::Table.into_iden(),
            SyncJobs::Table.into_iden(),
            InsiderTrades::Table.into_iden(),
            NewsArticles::Table.into_iden(),
            FinancialIndicators::Table.into_iden(),
            FinancialStatements::Table.into_iden(),
            DailyValuations::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
