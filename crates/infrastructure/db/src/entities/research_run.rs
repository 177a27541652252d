//! `research_runs`: what one research run has used and logged (its request is the payload of
//! its row in `jobs`, which also holds its status); `as_of` and `symbols` are copied from the
//! request for filtering.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "research_runs")]
pub struct Model {
    /// The id of its row in `jobs`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub as_of: Date,
    /// `,AAPL,MSFT,`: the symbol filter matches `,SYMBOL,`.
    pub symbols: String,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    #[sea_orm(column_type = "Double")]
    pub cost_usd: f64,
    pub last_seq: i64,
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
