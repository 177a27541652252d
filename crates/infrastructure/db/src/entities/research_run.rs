//! `research_runs`: one research run, its request, state and usage.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "research_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub status: String,
    pub request: Json,
    pub as_of: Date,
    pub symbols: String,
    pub error: Option<String>,
    pub cancel_requested: bool,
    pub claimed_by: Option<String>,
    pub attempts: i32,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    #[sea_orm(column_type = "Double")]
    pub cost_usd: f64,
    pub last_seq: i64,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    pub heartbeat_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
    /// Not claimed before this time (a recovered run backing off).
    pub run_after: Option<DateTimeUtc>,
    /// Times its worker was found dead and it was recovered.
    pub recoveries: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
