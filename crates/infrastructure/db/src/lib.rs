//! sea-orm adapters for stockpilot's stores, on PostgreSQL and SQLite alike.
//!
//! This crate owns the connection pool, the readiness probe of the database and the entities
//! that mirror the tables created by the `migrations` crate.

mod connection;
pub mod entities;
mod store;

pub use connection::{Backend, DatabaseConfig, DatabaseProbe, DbSettings, connect, pool_stats};
pub use sea_orm::{DatabaseBackend, DatabaseConnection};
pub use store::{SeaStore, upsert_batch};

#[cfg(feature = "testing")]
pub mod testing;
