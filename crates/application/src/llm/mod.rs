//! LLM use cases that do not depend on a provider: turning an answer into validated typed
//! data (`structured`).

mod structured;

pub use structured::{clean_output, structured};
