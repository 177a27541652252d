//! Entities mirroring the tables created by the `migrations` crate. The schema test in
//! `tests/schema.rs` fails when a migration and an entity disagree.

pub mod adjustment_factor;
pub mod daily_bar;
pub mod instrument;
pub mod trading_day;
