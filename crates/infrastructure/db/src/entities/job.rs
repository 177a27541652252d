//! `jobs`: every piece of queued background work, whatever its kind: the kind, its typed
//! payload (JSON) and its lifecycle on the queue. A kind keeps its results in its own table,
//! keyed by the same id (`sync_jobs`, `research_runs`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The kind of work (`sync`, `research`): which worker runs it.
    pub kind: String,
    /// What to do, as the kind's payload type serializes it.
    pub payload: Json,
    pub status: String,
    /// Why it is where it is (an error, a pause, a recovery).
    pub message: Option<String>,
    pub cancel_requested: bool,
    pub claimed_by: Option<String>,
    pub heartbeat_at: Option<DateTimeUtc>,
    /// Not claimed before this time (a pause, or a recovery backing off).
    pub run_after: Option<DateTimeUtc>,
    /// Times a worker claimed it.
    pub attempts: i32,
    /// Times its worker was found dead and it was recovered.
    pub recoveries: i32,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
