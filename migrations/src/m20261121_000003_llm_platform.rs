//! The LLM provider registry (keys sealed with AES-GCM, never in clear) and the usage ledger.

use sea_orm_migration::prelude::*;

pub const DESCRIPTION: &str = "LLM provider registry and LLM usage ledger";

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LlmProviders {
    Table,
    Name,
    Preset,
    BaseUrl,
    Model,
    SealedKey,
    Organization,
    SupportsJsonSchema,
    MaxContextTokens,
    MaxOutputTokens,
    TimeoutMs,
    MaxConcurrent,
    Priority,
    Enabled,
    PriceInputPer1k,
    PriceOutputPer1k,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum LlmUsage {
    Table,
    Id,
    At,
    Day,
    Provider,
    Model,
    Purpose,
    PromptTokens,
    CompletionTokens,
    LatencyMs,
    Outcome,
    CostUsd,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// Atomic on SQLite too (it has transactional DDL): a failed revision leaves nothing
    /// half-applied, and every statement runs on one connection.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use LlmProviders as P;
        manager
            .create_table(
                Table::create()
                    .table(P::Table)
                    .col(ColumnDef::new(P::Name).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(P::Preset).string_len(32).not_null())
                    .col(ColumnDef::new(P::BaseUrl).string_len(512).not_null())
                    .col(ColumnDef::new(P::Model).string_len(128).not_null())
                    .col(ColumnDef::new(P::SealedKey).binary().null())
                    .col(ColumnDef::new(P::Organization).string_len(128).null())
                    .col(ColumnDef::new(P::SupportsJsonSchema).boolean().not_null())
                    .col(ColumnDef::new(P::MaxContextTokens).integer().not_null())
                    .col(ColumnDef::new(P::MaxOutputTokens).integer().not_null())
                    .col(ColumnDef::new(P::TimeoutMs).big_integer().not_null())
                    .col(ColumnDef::new(P::MaxConcurrent).integer().not_null())
                    .col(ColumnDef::new(P::Priority).integer().not_null())
                    .col(ColumnDef::new(P::Enabled).boolean().not_null())
                    .col(ColumnDef::new(P::PriceInputPer1k).double().not_null())
                    .col(ColumnDef::new(P::PriceOutputPer1k).double().not_null())
                    .col(ColumnDef::new(P::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(P::UpdatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        use LlmUsage as U;
        manager
            .create_table(
                Table::create()
                    .table(U::Table)
                    .col(ColumnDef::new(U::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(U::At).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(U::Day).date().not_null())
                    .col(ColumnDef::new(U::Provider).string_len(64).not_null())
                    .col(ColumnDef::new(U::Model).string_len(128).not_null())
                    .col(ColumnDef::new(U::Purpose).string_len(128).not_null())
                    .col(ColumnDef::new(U::PromptTokens).big_integer().not_null())
                    .col(ColumnDef::new(U::CompletionTokens).big_integer().not_null())
                    .col(ColumnDef::new(U::LatencyMs).big_integer().not_null())
                    .col(ColumnDef::new(U::Outcome).string_len(16).not_null())
                    .col(ColumnDef::new(U::CostUsd).double().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("ix_llm_usage_day").table(U::Table).col(U::Day).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(LlmUsage::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(LlmProviders::Table).to_owned()).await
    }
}
