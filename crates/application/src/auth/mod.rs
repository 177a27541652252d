//! Who may call what: API keys with roles, and the audit log of state-changing requests.

mod model;
mod service;

pub use model::{ApiKey, AuditEntry, AuditFilter, AuditOutcome, KeyDraft, Principal, Role};
pub use service::{AuthService, CreatedKey, TOKEN_PREFIX, token_hash};

#[cfg(test)]
mod tests;
