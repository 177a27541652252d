//! LLM use cases that do not depend on a provider: the provider registry, presets, and
//! turning an answer into validated typed data (`structured`).

pub mod presets;
mod registry;
mod structured;

pub use registry::{
    LlmRegistry, ProviderChanges, ProviderTest, ProviderView, from_preset, mask, validate,
};
pub use structured::{clean_output, structured};
