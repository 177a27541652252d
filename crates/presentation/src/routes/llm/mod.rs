//! `/api/v1/llm/…`: the provider registry, chat, web search and usage.

pub mod chat;
pub mod providers;
pub mod search;
pub mod usage;
