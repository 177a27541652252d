//! Roles, API keys and audit entries.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::KeyId;

stockpilot_domain::code_enum! {
    /// What a caller may do: `reader` < `analyst` < `operator` < `admin`; each role includes
    /// everything the ones before it may do.
    pub enum Role as "role" {
        /// Read market data, sync jobs, research results, usage.
        Reader = "reader",
        /// Also start and cancel research runs, chat and web search.
        Analyst = "analyst",
        /// Also start, cancel and retry sync jobs; test LLM providers.
        Operator = "operator",
        /// Also manage API keys and LLM providers; read the audit log.
        Admin = "admin",
    }
}

impl Role {
    /// Whether a caller with this role may use a route that needs `needed`.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}

stockpilot_domain::code_enum! {
    /// How an audited action ended.
    pub enum AuditOutcome as "outcome" {
        /// Done: a 2xx or 3xx answer, or a CLI action that completed.
        Succeeded = "succeeded",
        /// Refused before it was tried: 401, 403 or 429.
        Denied = "denied",
        /// Tried and not done: any other status.
        Failed = "failed",
    }
}

impl AuditOutcome {
    /// The outcome of an API request answered with `status`.
    pub fn of_status(status: u16) -> Self {
        match status {
            200..=399 => Self::Succeeded,
            401 | 403 | 429 => Self::Denied,
            _ => Self::Failed,
        }
    }
}

/// A stored API key as anyone may see it: no token, no hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKey {
    pub id: KeyId,
    pub name: String,
    pub role: Role,
    /// The first characters of the token (`sp_live_1a2b3c4d`), to recognise a key by.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    /// Who created it: a key name, `cli` or `bootstrap`.
    pub created_by: String,
    /// Updated at most once per flush interval, not on every request.
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }
}

/// What the store needs to create a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDraft {
    pub name: String,
    pub role: Role,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

/// Who is calling: a key, or everyone when authentication is switched off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// `None` when authentication is disabled.
    pub key_id: Option<KeyId>,
    pub name: String,
    pub role: Role,
}

impl Principal {
    /// The caller when `auth.enabled = false`: an unnamed admin.
    pub fn unauthenticated_admin() -> Self {
        Self {
            key_id: None,
            name: "auth-disabled".to_owned(),
            role: Role::Admin,
        }
    }
}

/// One state-changing request, as the audit log keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// Assigned by the store; 0 before the entry is appended.
    pub id: i64,
    pub at: DateTime<Utc>,
    #[cfg_attr(feature = "openapi", schema(required, value_type = Option<String>))]
    pub key_id: Option<KeyId>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub key_name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub role: Option<Role>,
    /// What was attempted, e.g. `research.run.create`, `api_key.revoke`.
    pub action: String,
    /// What it was done to: the request path, or the key id for CLI actions.
    pub target: String,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub client_ip: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub request_id: Option<String>,
    pub outcome: AuditOutcome,
    /// The HTTP status, when the action came through the API.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub status: Option<u16>,
}

/// Which audit entries to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub key_id: Option<KeyId>,
    pub action: Option<String>,
    pub outcome: Option<AuditOutcome>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::AuditOutcome;

    #[test]
    fn statuses_map_to_outcomes() {
        let of = |status| AuditOutcome::of_status(status).as_str();
        assert_eq!(of(201), "succeeded");
        assert_eq!(of(202), "succeeded");
        assert_eq!(of(403), "denied");
        assert_eq!(of(429), "denied");
        assert_eq!(of(422), "failed");
        assert_eq!(of(503), "failed");
    }
}
