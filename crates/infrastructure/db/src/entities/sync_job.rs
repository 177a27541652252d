//! `sync_jobs`: one sync job, its cursor and counts.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sync_jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: String,
    pub provider: String,
    pub status: String,
    pub params: Json,
    pub cursor: i32,
    pub total: i32,
    pub rows_written: i64,
    pub symbols_failed: i32,
    pub message: Option<String>,
    pub schedule_name: Option<String>,
    pub cancel_requested: bool,
    pub claimed_by: Option<String>,
    pub heartbeat_at: Option<DateTimeUtc>,
    pub resume_after: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
    /// Times a worker claimed it.
    pub attempts: i32,
    /// Times its worker was found dead and it was recovered.
    pub recoveries: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
