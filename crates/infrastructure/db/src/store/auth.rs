//! API keys and the audit log.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    Set,
};
use stockpilot_application::KeyId;
use stockpilot_application::auth::{ApiKey, AuditEntry, AuditFilter, KeyDraft, Role};
use stockpilot_application::ports::{ApiKeyStore, AuditLog, Page, StoreError};
use uuid::Uuid;

use super::{SeaStore, data_err, db_err, page};
use crate::entities::{api_key, audit_entry};

fn key(m: api_key::Model) -> Result<ApiKey, StoreError> {
    Ok(ApiKey {
        id: m.id.into(),
        role: m.role.parse::<Role>().map_err(data_err)?,
        name: m.name,
        prefix: m.prefix,
        created_at: m.created_at,
        created_by: m.created_by,
        last_used_at: m.last_used_at,
        revoked_at: m.revoked_at,
    })
}

fn entry(m: audit_entry::Model) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        id: m.id,
        at: m.at,
        key_id: m.key_id.map(Into::into),
        key_name: m.key_name,
        role: m
            .role
            .map(|r| r.parse::<Role>())
            .transpose()
            .map_err(data_err)?,
        action: m.action,
        target: m.target,
        client_ip: m.client_ip,
        request_id: m.request_id,
        outcome: m.outcome.parse().map_err(data_err)?,
        status: m.status.and_then(|s| u16::try_from(s).ok()),
    })
}

/// Text from a request, cut to what its column holds (on a character boundary).
fn fit(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

#[async_trait::async_trait]
impl ApiKeyStore for SeaStore {
    async fn insert(&self, draft: &KeyDraft, token_hash: &str) -> Result<ApiKey, StoreError> {
        let row = api_key::ActiveModel {
            id: Set(Uuid::now_v7()),
            name: Set(draft.name.clone()),
            role: Set(draft.role.as_str().to_owned()),
            prefix: Set(draft.prefix.clone()),
            token_hash: Set(token_hash.to_owned()),
            created_at: Set(draft.created_at),
            created_by: Set(fit(&draft.created_by, 64)),
            last_used_at: Set(None),
            revoked_at: Set(None),
        };
        key(row.insert(&self.db).await.map_err(db_err)?)
    }

    async fn find_by_hash(&self, token_hash: &str) -> Result<Option<(ApiKey, String)>, StoreError> {
        let found = api_key::Entity::find()
            .filter(api_key::Column::TokenHash.eq(token_hash))
            .one(&self.db)
            .await
            .map_err(db_err)?;
        found
            .map(|m| {
                let hash = m.token_hash.clone();
                key(m).map(|k| (k, hash))
            })
            .transpose()
    }

    async fn get(&self, id: KeyId) -> Result<Option<ApiKey>, StoreError> {
        api_key::Entity::find_by_id(id.uuid())
            .one(&self.db)
            .await
            .map_err(db_err)?
            .map(key)
            .transpose()
    }

    async fn list(&self) -> Result<Vec<ApiKey>, StoreError> {
        api_key::Entity::find()
            .order_by_desc(api_key::Column::CreatedAt)
            .order_by_desc(api_key::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(key)
            .collect()
    }

    async fn revoke(&self, id: KeyId, at: DateTime<Utc>) -> Result<Option<ApiKey>, StoreError> {
        let uuid = id.uuid();
        // Only the first revocation sets the time.
        api_key::Entity::update_many()
            .col_expr(api_key::Column::RevokedAt, Expr::value(at))
            .filter(api_key::Column::Id.eq(uuid))
            .filter(api_key::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        self.get(id).await
    }

    async fn touch(&self, used: &[(KeyId, DateTime<Utc>)]) -> Result<(), StoreError> {
        for (id, at) in used {
            let uuid = id.uuid();
            api_key::Entity::update_many()
                .col_expr(api_key::Column::LastUsedAt, Expr::value(*at))
                .filter(api_key::Column::Id.eq(uuid))
                .filter(
                    Condition::any()
                        .add(api_key::Column::LastUsedAt.is_null())
                        .add(api_key::Column::LastUsedAt.lt(*at)),
                )
                .exec(&self.db)
                .await
                .map_err(db_err)?;
        }
        Ok(())
    }

    async fn count_active(&self) -> Result<u64, StoreError> {
        api_key::Entity::find()
            .filter(api_key::Column::RevokedAt.is_null())
            .count(&self.db)
            .await
            .map_err(db_err)
    }

    async fn count_revoked(&self) -> Result<u64, StoreError> {
        api_key::Entity::find()
            .filter(api_key::Column::RevokedAt.is_not_null())
            .count(&self.db)
            .await
            .map_err(db_err)
    }
}

#[async_trait::async_trait]
impl AuditLog for SeaStore {
    async fn append(&self, e: &AuditEntry) -> Result<(), StoreError> {
        let row = audit_entry::ActiveModel {
            at: Set(e.at),
            key_id: Set(e.key_id.map(KeyId::uuid)),
            key_name: Set(e.key_name.as_deref().map(|n| fit(n, 64))),
            role: Set(e.role.map(|r| r.as_str().to_owned())),
            action: Set(fit(&e.action, 64)),
            target: Set(fit(&e.target, 512)),
            client_ip: Set(e.client_ip.as_deref().map(|ip| fit(ip, 64))),
            request_id: Set(e.request_id.as_deref().map(|id| fit(id, 128))),
            outcome: Set(e.outcome.as_str().to_owned()),
            status: Set(e.status.map(i32::from)),
            ..Default::default()
        };
        audit_entry::Entity::insert(row)
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn query(
        &self,
        f: &AuditFilter,
        offset: u64,
        limit: u64,
    ) -> Result<Page<AuditEntry>, StoreError> {
        use audit_entry::Column as C;
        let mut select = audit_entry::Entity::find();
        if let Some(id) = f.key_id {
            select = select.filter(C::KeyId.eq(id.uuid()));
        }
        if let Some(action) = &f.action {
            select = select.filter(C::Action.eq(action.as_str()));
        }
        if let Some(outcome) = &f.outcome {
            select = select.filter(C::Outcome.eq(outcome.as_str()));
        }
        if let Some(since) = f.since {
            select = select.filter(C::At.gte(since));
        }
        if let Some(until) = f.until {
            select = select.filter(C::At.lt(until));
        }
        let select = select.order_by_desc(C::At).order_by_desc(C::Id);
        page(&self.db, select, offset, limit, entry).await
    }
}
