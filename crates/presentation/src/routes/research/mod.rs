//! `/api/v1/research/…`: research runs, their event streams and the analyst catalogue.

pub mod analysts;
pub mod cancel;
pub mod create;
pub mod events;
pub mod get;
pub mod list;
