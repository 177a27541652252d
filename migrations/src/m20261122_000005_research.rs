//! Research runs, their event log, analyst results and decisions.

use sea_orm_migration::prelude::*;

pub const DESCRIPTION: &str = "research runs, events, analyst results and decisions";

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ResearchRuns {
    Table,
    Id,
    Status,
    Request,
    AsOf,
    Symbols,
    Error,
    CancelRequested,
    ClaimedBy,
    Attempts,
    PromptTokens,
    CompletionTokens,
    CostUsd,
    LastSeq,
    CreatedAt,
    StartedAt,
    FinishedAt,
    HeartbeatAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ResearchEvents {
    Table,
    RunId,
    Seq,
    Kind,
    Data,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ResearchResults {
    Table,
    RunId,
    Symbol,
    Analyst,
    Status,
    Body,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ResearchDecisions {
    Table,
    RunId,
    Symbol,
    Body,
    CreatedAt,
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
    /// Atomic on SQLite too (it has transactional DDL).
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ResearchRuns as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .col(ColumnDef::new(R::Id).uuid().not_null().primary_key())
                    .col(text(R::Status, 16))
                    .col(ColumnDef::new(R::Request).json().not_null())
                    .col(ColumnDef::new(R::AsOf).date().not_null())
                    // `,AAPL,MSFT,`: the symbol filter matches `,SYMBOL,`.
                    .col(ColumnDef::new(R::Symbols).text().not_null())
                    .col(ColumnDef::new(R::Error).text().null())
                    .col(ColumnDef::new(R::CancelRequested).boolean().not_null())
                    .col(ColumnDef::new(R::ClaimedBy).string_len(64).null())
                    .col(ColumnDef::new(R::Attempts).integer().not_null())
                    .col(ColumnDef::new(R::PromptTokens).big_integer().not_null())
                    .col(ColumnDef::new(R::CompletionTokens).big_integer().not_null())
                    .col(ColumnDef::new(R::CostUsd).double().not_null())
                    .col(ColumnDef::new(R::LastSeq).big_integer().not_null())
                    .col(ts(R::CreatedAt))
                    .col(ts_null(R::StartedAt))
                    .col(ts_null(R::FinishedAt))
                    .col(ts_null(R::HeartbeatAt))
                    .col(ts(R::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("ix_research_runs_status_created").table(R::Table).col(R::Status).col(R::CreatedAt).to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("ix_research_runs_created").table(R::Table).col(R::CreatedAt).to_owned())
            .await?;

        use ResearchEvents as E;
        manager
            .create_table(
                Table::create()
                    .table(E::Table)
                    .col(ColumnDef::new(E::RunId).uuid().not_null())
                    .col(ColumnDef::new(E::Seq).big_integer().not_null())
                    .col(text(E::Kind, 32))
                    .col(ColumnDef::new(E::Data).json().not_null())
                    .col(ts(E::CreatedAt))
                    .primary_key(Index::create().col(E::RunId).col(E::Seq))
                    .foreign_key(
                        ForeignKey::create().from(E::Table, E::RunId).to(R::Table, R::Id).on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        use ResearchResults as S;
        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .col(ColumnDef::new(S::RunId).uuid().not_null())
                    .col(text(S::Symbol, 32))
                    .col(text(S::Analyst, 32))
                    .col(text(S::Status, 16))
                    .col(ColumnDef::new(S::Body).json().not_null())
                    .col(ts(S::CreatedAt))
                    .primary_key(Index::create().col(S::RunId).col(S::Symbol).col(S::Analyst))
                    .foreign_key(
                        ForeignKey::create().from(S::Table, S::RunId).to(R::Table, R::Id).on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        use ResearchDecisions as D;
        manager
            .create_table(
                Table::create()
                    .table(D::Table)
                    .col(ColumnDef::new(D::RunId).uuid().not_null())
                    .col(text(D::Symbol, 32))
                    .col(ColumnDef::new(D::Body).json().not_null())
                    .col(ts(D::CreatedAt))
                    .primary_key(Index::create().col(D::RunId).col(D::Symbol))
                    .foreign_key(
                        ForeignKey::create().from(D::Table, D::RunId).to(R::Table, R::Id).on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ResearchDecisions::Table.into_iden(),
            ResearchResults::Table.into_iden(),
            ResearchEvents::Table.into_iden(),
            ResearchRuns::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
