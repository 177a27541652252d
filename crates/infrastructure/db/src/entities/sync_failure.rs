//! `sync_failures`: the failure ledger: one (provider, dataset, symbol) that failed.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sync_failures")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub provider: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub dataset: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub symbol: String,
    pub error_kind: String,
    pub error: String,
    pub attempts: i32,
    pub status: String,
    pub next_retry_at: Option<DateTimeUtc>,
    pub last_job_id: Option<Uuid>,
    pub first_failed_at: DateTimeUtc,
    pub last_failed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
