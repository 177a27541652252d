//! The lifecycle columns the one job queue (`stockpilot_db::store::queue`) reads on every
//! queue table: sync jobs count their claims (`attempts`) as research runs already do; both
//! count how often their worker was found dead (`recoveries`, for backoff and dead-lettering);
//! research runs get `run_after`, which sync jobs have as `resume_after`. Existing rows keep
//! their data: the new counters start at 0 and `run_after` is empty.

use sea_orm_migration::prelude::*;

pub const DESCRIPTION: &str = "queue lifecycle columns: attempts, recoveries, run_after";

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SyncJobs {
    Table,
    Attempts,
    Recoveries,
}

#[derive(DeriveIden)]
enum ResearchRuns {
    Table,
    RunAfter,
    Recoveries,
}

fn counter(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).integer().not_null().default(0).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        let columns = [
            (SyncJobs::Table.into_iden(), counter(SyncJobs::Attempts)),
            (SyncJobs::Table.into_iden(), counter(SyncJobs::Recoveries)),
            (
                ResearchRuns::Table.into_iden(),
                ColumnDef::new(ResearchRuns::RunAfter)
                    .timestamp_with_time_zone()
                    .null()
                    .to_owned(),
            ),
            (ResearchRuns::Table.into_iden(), counter(ResearchRuns::Recoveries)),
        ];
        for (table, mut column) in columns {
            manager
                .alter_table(Table::alter().table(table).add_column(&mut column).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            (SyncJobs::Table.into_iden(), SyncJobs::Attempts.into_iden()),
            (SyncJobs::Table.into_iden(), SyncJobs::Recoveries.into_iden()),
            (ResearchRuns::Table.into_iden(), ResearchRuns::RunAfter.into_iden()),
            (ResearchRuns::Table.into_iden(), ResearchRuns::Recoveries.into_iden()),
        ];
        for (table, column) in columns {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
