//! API tests: each starts the real server on port 0 with its own database (a temporary
//! SQLite file, or a fresh PostgreSQL database when `TEST_DATABASE_URL` is set).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod backtest;
mod binary;
mod conformance;
mod docs;
mod errors;
mod faults;
mod first_hour;
mod health;
mod helpers;
mod limits;
mod llm;
mod market;
mod migrate;
mod outage;
mod replay;
mod research;
mod secrets;
mod simulate;
mod sync;
