//! `llm_providers`: a provider configured over the API; its API key only sealed.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "llm_providers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    pub preset: String,
    pub base_url: String,
    pub model: String,
    pub sealed_key: Option<Vec<u8>>,
    pub organization: Option<String>,
    pub supports_json_schema: bool,
    pub max_context_tokens: i32,
    pub max_output_tokens: i32,
    pub timeout_ms: i64,
    pub max_concurrent: i32,
    pub priority: i32,
    pub enabled: bool,
    pub price_input_per1k: f64,
    pub price_output_per1k: f64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
