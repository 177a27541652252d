//! `audit_log`: one state-changing request. Only ever inserted.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    pub key_id: Option<Uuid>,
    pub key_name: Option<String>,
    pub role: Option<String>,
    pub action: String,
    pub target: String,
    pub client_ip: Option<String>,
    pub request_id: Option<String>,
    pub outcome: String,
    pub status: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
