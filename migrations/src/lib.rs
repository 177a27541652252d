//! Database migrations of stockpilot: one dated file per revision, listed in order below.
//!
//! The alembic-style operations built on top of the sea-orm migrator (`upgrade`, `downgrade`,
//! `current`, `history`, `heads`, `stamp`, `revision`) live in [`ops`]; the `stockpilot migrate`
//! subcommand is a thin CLI over them.

pub use sea_orm_migration::prelude::*;

pub mod ops;

/// One revision as the history shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revision {
    /// The revision id, e.g. `m20261121_000001_market_data`.
    pub id: &'static str,
    /// What the revision changes, in a sentence.
    pub description: &'static str,
}

macro_rules! revisions {
    ($($module:ident),* $(,)?) => {
        $(mod $module;)*

        /// Every revision, oldest first.
        pub const REVISIONS: &[Revision] = &[
            $(Revision { id: stringify!($module), description: $module::DESCRIPTION },)*
        ];

        /// The sea-orm migrator over [`REVISIONS`].
        #[derive(Debug)]
        pub struct Migrator;

        #[async_trait::async_trait]
        impl MigratorTrait for Migrator {
            fn migrations() -> Vec<Box<dyn MigrationTrait>> {
                vec![$(Box::new($module::Migration),)*]
            }
        }
    };
}

// `stockpilot migrate revision` appends new revisions before the closing marker line.
revisions! {
    m20261121_000001_market_data,
    m20261121_000002_fundamentals_and_sync,
    m20261121_000003_llm_platform,
    m20261121_000004_calendar_provider,
    m20261122_000005_research,
    m20261122_000006_api_keys_and_audit,
    m20261206_000007_llm_usage_purpose,
    m20261207_000008_queue_lifecycle,
    m20261207_000009_one_jobs_table,
    // end of revisions
}
