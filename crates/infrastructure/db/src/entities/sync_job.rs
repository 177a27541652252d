//! `sync_jobs`: the progress of one sync job (its kind, provider and parameters are the
//! payload of its row in `jobs`, which also holds its status).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sync_jobs")]
pub struct Model {
    /// The id of its row in `jobs`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub cursor: i32,
    pub total: i32,
    pub rows_written: i64,
    pub symbols_failed: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::job::Entity",
        from = "Column::Id",
        to = "super::job::Column::Id"
    )]
    Job,
}

impl Related<super::job::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Job.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
