//! LLM gateway adapters (OpenAI-compatible servers, web search). Not built yet: the crate
//! exists so the workspace has its final shape; docs/architecture.md lists what is missing.
