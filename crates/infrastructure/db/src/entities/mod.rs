//! Entities mirroring the tables created by the `migrations` crate. The schema test in
//! `tests/schema.rs` fails when a migration and an entity disagree.

pub mod adjustment_factor;
pub mod api_key;
pub mod audit_entry;
pub mod daily_bar;
pub mod daily_valuation;
pub mod financial_indicator;
pub mod financial_statement;
pub mod insider_trade;
pub mod instrument;
pub mod job;
pub mod llm_provider;
pub mod llm_usage;
pub mod news_article;
pub mod research_decision;
pub mod research_event;
pub mod research_result;
pub mod research_run;
pub mod schedule_claim;
pub mod sync_failure;
pub mod sync_job;
pub mod trading_day;
