//! API keys (stored as the SHA-256 of the token, never the token) and the append-only audit
//! log of state-changing requests.

use sea_orm_migration::prelude::*;

pub const DESCRIPTION: &str = "API keys and the audit log";

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    Name,
    Role,
    Prefix,
    TokenHash,
    CreatedAt,
    CreatedBy,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    KeyId,
    KeyName,
    Role,
    Action,
    Target,
    ClientIp,
    RequestId,
    Outcome,
    Status,
}

fn ts(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().not_null().to_owned()
}

fn ts_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// Atomic on SQLite too (it has transactional DDL).
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ApiKeys as K;
        manager
            .create_table(
                Table::create()
                    .table(K::Table)
                    .col(ColumnDef::new(K::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(K::Name).string_len(64).not_null())
                    .col(ColumnDef::new(K::Role).string_len(16).not_null())
                    .col(ColumnDef::new(K::Prefix).string_len(32).not_null())
                    .col(ColumnDef::new(K::TokenHash).string_len(64).not_null())
                    .col(ts(K::CreatedAt))
                    .col(ColumnDef::new(K::CreatedBy).string_len(64).not_null())
                    .col(ts_null(K::LastUsedAt))
                    .col(ts_null(K::RevokedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("ux_api_keys_token_hash").table(K::Table).col(K::TokenHash).unique().to_owned(),
            )
            .await?;

        use AuditLog as A;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .col(ColumnDef::new(A::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ts(A::At))
                    .col(ColumnDef::new(A::KeyId).uuid().null())
                    .col(ColumnDef::new(A::KeyName).string_len(64).null())
                    .col(ColumnDef::new(A::Role).string_len(16).null())
                    .col(ColumnDef::new(A::Action).string_len(64).not_null())
                    .col(ColumnDef::new(A::Target).string_len(512).not_null())
                    .col(ColumnDef::new(A::ClientIp).string_len(64).null())
                    .col(ColumnDef::new(A::RequestId).string_len(128).null())
                    .col(ColumnDef::new(A::Outcome).string_len(16).not_null())
                    .col(ColumnDef::new(A::Status).integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("ix_audit_log_at").table(A::Table).col(A::At).to_owned())
            .await?;
        manager
            .create_index(Index::create().name("ix_audit_log_key_at").table(A::Table).col(A::KeyId).col(A::At).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(AuditLog::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(ApiKeys::Table).to_owned()).await
    }
}
