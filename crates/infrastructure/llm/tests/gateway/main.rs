//! `OpenAiGateway` against wiremock servers replaying the OpenAI-compatible shapes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

mod cache;
mod resilience;
mod routing;
mod secrets;
mod structured_output;
mod telemetry;
mod usage;
