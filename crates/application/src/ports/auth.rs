//! Credentials and the audit trail.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Page, StoreError};
use crate::KeyId;
use crate::auth::{ApiKey, AuditEntry, AuditFilter, KeyDraft};

/// API keys, stored by the SHA-256 of the token (the token itself is never stored).
#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    /// Stores a new key under a fresh id and returns it.
    async fn insert(&self, draft: &KeyDraft, token_hash: &str) -> Result<ApiKey, StoreError>;
    /// The key whose token hashes to `token_hash`, with the stored hash, revoked or not.
    async fn find_by_hash(&self, token_hash: &str) -> Result<Option<(ApiKey, String)>, StoreError>;
    async fn get(&self, id: KeyId) -> Result<Option<ApiKey>, StoreError>;
    /// Every key, newest first.
    async fn list(&self) -> Result<Vec<ApiKey>, StoreError>;
    /// Marks the key revoked at `at` unless it already is; `None` when no such key.
    async fn revoke(&self, id: KeyId, at: DateTime<Utc>) -> Result<Option<ApiKey>, StoreError>;
    /// Records when keys were last used (one write per key, never moving backwards).
    async fn touch(&self, used: &[(KeyId, DateTime<Utc>)]) -> Result<(), StoreError>;
    /// How many keys are not revoked.
    async fn count_active(&self) -> Result<u64, StoreError>;
    /// How many keys are revoked: it only ever grows (keys are never un-revoked or deleted),
    /// so a change tells a process that some key it may have cached was revoked elsewhere.
    async fn count_revoked(&self) -> Result<u64, StoreError>;
}

/// The append-only record of state-changing requests. There is no update or delete.
#[async_trait]
pub trait AuditLog: Send + Sync {
    async fn append(&self, entry: &AuditEntry) -> Result<(), StoreError>;
    /// Matching entries, newest first.
    async fn query(
        &self,
        filter: &AuditFilter,
        offset: u64,
        limit: u64,
    ) -> Result<Page<AuditEntry>, StoreError>;
}
