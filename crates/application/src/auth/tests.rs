use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::ports::{ApiKeyStore, AuditLog, FixedClock, Page, StoreError};
use crate::{AppError, KeyId};

#[derive(Default)]
struct MemKeys {
    rows: Mutex<Vec<(ApiKey, String)>>,
    lookups: AtomicUsize,
    touches: Mutex<Vec<(KeyId, DateTime<Utc>)>>,
}

#[async_trait]
impl ApiKeyStore for MemKeys {
    async fn insert(&self, draft: &KeyDraft, token_hash: &str) -> Result<ApiKey, StoreError> {
        let mut rows = self.rows.lock().unwrap();
        let key = ApiKey {
            id: KeyId::from(uuid::Uuid::from_u128(rows.len() as u128 + 1)),
            name: draft.name.clone(),
            role: draft.role,
            prefix: draft.prefix.clone(),
            created_at: draft.created_at,
            created_by: draft.created_by.clone(),
            last_used_at: None,
            revoked_at: None,
        };
        rows.push((key.clone(), token_hash.to_owned()));
        Ok(key)
    }
    async fn find_by_hash(&self, hash: &str) -> Result<Option<(ApiKey, String)>, StoreError> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        Ok(self
            .rows
            .lock()
            .unwrap()
            .iter()
            .find(|(_, h)| h == hash)
            .cloned())
    }
    async fn get(&self, id: KeyId) -> Result<Option<ApiKey>, StoreError> {
        Ok(self
            .rows
            .lock()
            .unwrap()
            .iter()
            .find(|(k, _)| k.id == id)
            .map(|(k, _)| k.clone()))
    }
    async fn list(&self) -> Result<Vec<ApiKey>, StoreError> {
        Ok(self
            .rows
            .lock()
            .unwrap()
            .iter()
            .map(|(k, _)| k.clone())
            .collect())
    }
    async fn revoke(&self, id: KeyId, at: DateTime<Utc>) -> Result<Option<ApiKey>, StoreError> {
        let mut rows = self.rows.lock().unwrap();
        Ok(rows.iter_mut().find(|(k, _)| k.id == id).map(|(k, _)| {
            k.revoked_at.get_or_insert(at);
            k.clone()
        }))
    }
    async fn touch(&self, used: &[(KeyId, DateTime<Utc>)]) -> Result<(), StoreError> {
        self.touches.lock().unwrap().extend(used.iter().cloned());
        Ok(())
    }
    async fn count_revoked(&self) -> Result<u64, StoreError> {
        Ok(self
            .rows
            .lock()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.revoked_at.is_some())
            .count() as u64)
    }
    async fn count_active(&self) -> Result<u64, StoreError> {
        Ok(self
            .rows
            .lock()
            .unwrap()
            .iter()
            .filter(|(k, _)| !k.is_revoked())
            .count() as u64)
    }
}

#[derive(Default)]
struct MemAudit(Mutex<Vec<AuditEntry>>);

#[async_trait]
impl AuditLog for MemAudit {
    async fn append(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.0.lock().unwrap().push(entry.clone());
        Ok(())
    }
    async fn query(&self, _: &AuditFilter, _: u64, _: u64) -> Result<Page<AuditEntry>, StoreError> {
        let items = self.0.lock().unwrap().clone();
        Ok(Page {
            total: items.len() as u64,
            items,
        })
    }
}

fn service(keys: Arc<MemKeys>) -> AuthService {
    let clock = FixedClock::at(Utc.with_ymd_and_hms(2026, 11, 22, 8, 0, 0).unwrap());
    AuthService::new(
        keys,
        Arc::new(MemAudit::default()),
        Arc::new(clock),
        Duration::from_secs(60),
    )
}

#[tokio::test]
async fn a_created_token_authenticates_and_only_its_hash_is_stored() {
    let keys = Arc::new(MemKeys::default());
    let auth = service(keys.clone());
    let created = auth.create("desk-1", Role::Analyst, "cli").await.unwrap();
    assert!(created.token.starts_with("sp_live_"));
    assert_eq!(created.token.len(), "sp_live_".len() + 64);
    assert_eq!(created.key.prefix, created.token[..16]);
    let stored = keys.rows.lock().unwrap()[0].1.clone();
    assert_ne!(stored, created.token);
    assert_eq!(stored, token_hash(&created.token));
    assert_eq!(stored.len(), 64);

    let who = auth.authenticate(&created.token).await.unwrap();
    assert_eq!(who.role, Role::Analyst);
    assert_eq!(who.name, "desk-1");
    assert_eq!(who.key_id, Some(created.key.id));

    // Two tokens are never the same.
    let other = auth.create("desk-2", Role::Reader, "cli").await.unwrap();
    assert_ne!(other.token, created.token);
}

#[tokio::test]
async fn unknown_malformed_and_revoked_tokens_are_refused() {
    let keys = Arc::new(MemKeys::default());
    let auth = service(keys.clone());
    let created = auth.create("ops", Role::Operator, "cli").await.unwrap();
    let mut wrong = created.token.clone();
    wrong.pop();
    wrong.push('x');
    for token in [wrong.as_str(), "", "Bearer x", "sp_test_abc"] {
        assert!(matches!(
            auth.authenticate(token).await,
            Err(AppError::Unauthorized(_))
        ));
    }
    auth.authenticate(&created.token).await.unwrap();
    let revoked = auth.revoke(created.key.id).await.unwrap();
    assert!(revoked.revoked_at.is_some());
    // Revocation takes effect at once, even though the key was cached.
    assert!(matches!(
        auth.authenticate(&created.token).await,
        Err(AppError::Unauthorized(_))
    ));
    assert!(matches!(
        auth.revoke(KeyId::from(uuid::Uuid::from_u128(999))).await,
        Err(AppError::NotFound(_))
    ));
}

#[tokio::test]
async fn lookups_are_cached_and_uses_are_written_once_per_flush() {
    let keys = Arc::new(MemKeys::default());
    let auth = service(keys.clone());
    let created = auth.create("bot", Role::Reader, "cli").await.unwrap();
    for _ in 0..50 {
        auth.authenticate(&created.token).await.unwrap();
    }
    assert_eq!(keys.lookups.load(Ordering::SeqCst), 1);
    assert!(keys.touches.lock().unwrap().is_empty());
    auth.flush_usage().await.unwrap();
    let touches = keys.touches.lock().unwrap().clone();
    assert_eq!(touches.len(), 1);
    assert_eq!(touches[0].0, created.key.id);
    assert_eq!(
        touches[0].1,
        Utc.with_ymd_and_hms(2026, 11, 22, 8, 0, 0).unwrap()
    );
    // Nothing new: nothing written.
    auth.flush_usage().await.unwrap();
    assert_eq!(keys.touches.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn bootstrap_creates_one_admin_key_only_when_none_is_usable() {
    let keys = Arc::new(MemKeys::default());
    let auth = service(keys.clone());
    let first = auth.bootstrap().await.unwrap().unwrap();
    assert_eq!(first.key.role, Role::Admin);
    assert_eq!(first.key.created_by, "bootstrap");
    assert!(auth.bootstrap().await.unwrap().is_none());
    auth.revoke(first.key.id).await.unwrap();
    let second = auth.bootstrap().await.unwrap().unwrap();
    assert_ne!(second.token, first.token);
}

#[tokio::test]
async fn key_names_are_checked() {
    let auth = service(Arc::new(MemKeys::default()));
    for bad in ["", "   ", "a\nb", &"x".repeat(65), "<script>"] {
        match auth.create(bad, Role::Reader, "cli").await {
            Err(AppError::Validation { problems, .. }) => assert_eq!(problems[0].field, "name"),
            other => panic!("{bad:?} gave {other:?}"),
        }
    }
}

#[test]
fn roles_are_ordered_and_parsed() {
    assert!(Role::Admin.allows(Role::Operator));
    assert!(Role::Operator.allows(Role::Analyst));
    assert!(!Role::Reader.allows(Role::Analyst));
    assert!(!Role::Analyst.allows(Role::Operator));
    assert_eq!("operator".parse::<Role>(), Ok(Role::Operator));
    assert!(
        "root"
            .parse::<Role>()
            .unwrap_err()
            .to_string()
            .contains("reader, analyst, operator, admin")
    );
}

#[tokio::test]
async fn a_key_revoked_by_another_process_stops_working_at_the_next_check() {
    let keys = Arc::new(MemKeys::default());
    let server = service(keys.clone());
    let cli = service(keys.clone());
    let created = server.create("desk-1", Role::Analyst, "cli").await.unwrap();
    let seen = server.forget_if_revoked_elsewhere(None).await.unwrap();
    assert_eq!(seen, 0);
    server.authenticate(&created.token).await.unwrap();

    cli.revoke(created.key.id).await.unwrap();
    // Still cached here (60 s cache) until the check runs.
    assert!(server.authenticate(&created.token).await.is_ok());
    let seen = server
        .forget_if_revoked_elsewhere(Some(seen))
        .await
        .unwrap();
    assert_eq!(seen, 1);
    assert!(matches!(
        server.authenticate(&created.token).await,
        Err(AppError::Unauthorized(_))
    ));
}
