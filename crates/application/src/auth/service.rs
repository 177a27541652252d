//! API keys: creation (the token is shown once), authentication with a short-lived cache,
//! revocation, `last_used_at` written in batches; and the audit log.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::model::{ApiKey, AuditEntry, AuditFilter, KeyDraft, Principal, Role};
use crate::ports::{ApiKeyStore, AuditLog, Clock, Page};
use crate::{AppError, KeyId};

/// Every token starts with this, so leaked keys are easy to find by secret scanners.
pub const TOKEN_PREFIX: &str = "sp_live_";
/// Characters of the token kept in the clear to recognise a key (`sp_live_` + 8 hex).
const VISIBLE_CHARS: usize = TOKEN_PREFIX.len() + 8;
const MAX_NAME_CHARS: usize = 64;

/// A key just created, with its token: the only time the token exists outside the caller.
#[derive(Debug, Clone)]
pub struct CreatedKey {
    pub key: ApiKey,
    pub token: String,
}

/// The SHA-256 of a token, hex. Right for random 256-bit tokens: there is nothing to
/// brute-force, so a slow password hash would only cost latency.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token() -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("no system randomness: {e}")))?;
    Ok(format!("{TOKEN_PREFIX}{}", hex::encode(bytes)))
}

fn check_name(name: &str) -> Result<String, AppError> {
    let name = name.trim();
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ' ' | '@'));
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || !ok_chars {
        return Err(AppError::invalid(
            "name",
            format!(
                "must be 1 to {MAX_NAME_CHARS} characters of letters, digits, space and - _ . @"
            ),
        ));
    }
    Ok(name.to_owned())
}

struct Cached {
    key: ApiKey,
    hash: String,
    fetched: Instant,
}

pub struct AuthService {
    keys: Arc<dyn ApiKeyStore>,
    audit: Arc<dyn AuditLog>,
    clock: Arc<dyn Clock>,
    cache_ttl: Duration,
    cache: Mutex<HashMap<String, Cached>>,
    /// Key id → last use not yet written.
    pending_use: Mutex<HashMap<KeyId, chrono::DateTime<chrono::Utc>>>,
}

impl std::fmt::Debug for AuthService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthService")
            .field("cache_ttl", &self.cache_ttl)
            .finish_non_exhaustive()
    }
}

impl AuthService {
    /// `cache_ttl`: how long a looked-up key is trusted without asking the store again; a key
    /// revoked on another replica stops working within it (at once on this one).
    pub fn new(
        keys: Arc<dyn ApiKeyStore>,
        audit: Arc<dyn AuditLog>,
        clock: Arc<dyn Clock>,
        cache_ttl: Duration,
    ) -> Self {
        Self {
            keys,
            audit,
            clock,
            cache_ttl,
            cache: Mutex::default(),
            pending_use: Mutex::default(),
        }
    }

    /// The caller a token belongs to. Unknown and revoked tokens get the same answer.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, AppError> {
        let rejected = || AppError::Unauthorized("the API key is not valid or was revoked".into());
        if !token.starts_with(TOKEN_PREFIX) {
            return Err(rejected());
        }
        let hash = token_hash(token);
        let cached = {
            let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            cache
                .get(&hash)
                .filter(|c| c.fetched.elapsed() < self.cache_ttl)
                .map(|c| (c.key.clone(), c.hash.clone()))
        };
        let (key, stored_hash) = match cached {
            Some(found) => found,
            None => {
                let found = self
                    .keys
                    .find_by_hash(&hash)
                    .await
                    .map_err(AppError::from)?;
                let Some((key, stored)) = found else {
                    return Err(rejected());
                };
                self.cache
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(
                        hash.clone(),
                        Cached {
                            key: key.clone(),
                            hash: stored.clone(),
                            fetched: Instant::now(),
                        },
                    );
                (key, stored)
            }
        };
        // The lookup was by hash; comparing again in constant time keeps the check itself
        // independent of any index or cache behaviour.
        if !bool::from(stored_hash.as_bytes().ct_eq(hash.as_bytes())) || key.is_revoked() {
            return Err(rejected());
        }
        self.pending_use
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.id, self.clock.now());
        Ok(Principal {
            key_id: Some(key.id),
            name: key.name,
            role: key.role,
        })
    }

    /// Creates a key; the token in the answer is never stored or shown again.
    pub async fn create(
        &self,
        name: &str,
        role: Role,
        created_by: &str,
    ) -> Result<CreatedKey, AppError> {
        let name = check_name(name)?;
        let token = new_token()?;
        let draft = KeyDraft {
            name,
            role,
            prefix: token.chars().take(VISIBLE_CHARS).collect(),
            created_at: self.clock.now(),
            created_by: created_by.to_owned(),
        };
        let key = self
            .keys
            .insert(&draft, &token_hash(&token))
            .await
            .map_err(AppError::from)?;
        Ok(CreatedKey { key, token })
    }

    /// Every key, newest first, with uses up to now written first.
    pub async fn list(&self) -> Result<Vec<ApiKey>, AppError> {
        self.flush_usage().await?;
        self.keys.list().await.map_err(AppError::from)
    }

    /// Revokes a key (again is harmless). It stops working on this instance at once.
    pub async fn revoke(&self, id: KeyId) -> Result<ApiKey, AppError> {
        let key = self
            .keys
            .revoke(id, self.clock.now())
            .await
            .map_err(AppError::from)?
            .ok_or_else(|| AppError::NotFound(format!("API key '{id}' does not exist")))?;
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, c| c.key.id != key.id);
        Ok(key)
    }

    /// Forgets every cached key when the number of revoked keys differs from `seen` (a key was
    /// revoked by another process: the CLI or another replica) and returns the new number.
    /// Run every second, it makes a revocation anywhere effect here within about a second.
    ///
    /// # Errors
    /// The store cannot be read; the cache is left as it is.
    pub async fn forget_if_revoked_elsewhere(&self, seen: Option<u64>) -> Result<u64, AppError> {
        let revoked = self.keys.count_revoked().await.map_err(AppError::from)?;
        if seen.is_some_and(|n| n != revoked) {
            self.cache
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clear();
            tracing::info!(
                revoked,
                "API keys were revoked elsewhere; key cache cleared"
            );
        }
        Ok(revoked)
    }

    /// On first start: when no usable key exists, an admin key is created and returned.
    pub async fn bootstrap(&self) -> Result<Option<CreatedKey>, AppError> {
        let active = self.keys.count_active().await.map_err(AppError::from)?;
        if active > 0 {
            return Ok(None);
        }
        self.create("bootstrap-admin", Role::Admin, "bootstrap")
            .await
            .map(Some)
    }

    /// Writes the uses seen since the last flush: one write per key, however many requests.
    pub async fn flush_usage(&self) -> Result<(), AppError> {
        let used: Vec<(KeyId, chrono::DateTime<chrono::Utc>)> = self
            .pending_use
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain()
            .collect();
        if used.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.keys.touch(&used).await {
            // Put them back (unless a newer use came in meanwhile) for the next flush.
            let mut pending = self
                .pending_use
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            for (id, at) in used {
                pending.entry(id).or_insert(at);
            }
            return Err(e.into());
        }
        Ok(())
    }

    /// Appends to the audit log. A failed write is logged and counted, never raised: the
    /// action it describes has already happened.
    pub async fn record(&self, entry: AuditEntry) {
        if let Err(e) = self.audit.append(&entry).await {
            metrics::counter!("stockpilot_audit_write_failures_total").increment(1);
            tracing::error!(error = %e.0, action = %entry.action, "audit entry not written");
        }
    }

    pub async fn audit_log(
        &self,
        filter: &AuditFilter,
        offset: u64,
        limit: u64,
    ) -> Result<Page<AuditEntry>, AppError> {
        self.audit
            .query(filter, offset, limit)
            .await
            .map_err(AppError::from)
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}
