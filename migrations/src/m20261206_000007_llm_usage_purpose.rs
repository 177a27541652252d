//! An index on the usage ledger's `purpose`, so a research run's usage is summed from the
//! ledger (every call it made, failed ones included) by a prefix search instead of a scan.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

pub const DESCRIPTION: &str = "index on llm_usage.purpose for per-run usage";

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // PostgreSQL uses an index for `LIKE 'prefix%'` only with the pattern operator class
        // (the database's collation may not be C); SQLite uses a plain index for `GLOB`.
        let sql = match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                "CREATE INDEX ix_llm_usage_purpose ON llm_usage (purpose text_pattern_ops)"
            }
            _ => "CREATE INDEX ix_llm_usage_purpose ON llm_usage (purpose)",
        };
        manager.get_connection().execute_unprepared(sql).await.map(|_| ())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX ix_llm_usage_purpose")
            .await
            .map(|_| ())
    }
}
