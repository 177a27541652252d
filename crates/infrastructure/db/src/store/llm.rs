//! The LLM provider registry and usage ledger.

use std::time::Duration;

use chrono::NaiveDate;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, EntityTrait, IdenStatic, Iterable, QueryOrder, Statement,
};
use stockpilot_application::ports::{
    LlmProviderStore, LlmUsageStore, ProviderConfig, StoreError, StoredProvider, UsageGroup,
    UsageRecord, UsageSummary,
};

use super::{SeaStore, db_err};
use crate::entities::{llm_provider, llm_usage};

fn clamp_i32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

fn row(p: &StoredProvider) -> llm_provider::ActiveModel {
    let c = &p.config;
    llm_provider::Model {
        name: c.name.clone(),
        preset: c.preset.clone(),
        base_url: c.base_url.clone(),
        model: c.model.clone(),
        sealed_key: p.sealed_key.clone(),
        organization: c.organization.clone(),
        supports_json_schema: c.supports_json_schema,
        max_context_tokens: clamp_i32(c.max_context_tokens),
        max_output_tokens: clamp_i32(c.max_output_tokens),
        timeout_ms: i64::try_from(c.timeout.as_millis()).unwrap_or(i64::MAX),
        max_concurrent: clamp_i32(c.max_concurrent),
        priority: c.priority,
        enabled: c.enabled,
        price_input_per1k: c.price_input_per_1k,
        price_output_per1k: c.price_output_per_1k,
        created_at: p.created_at,
        updated_at: p.updated_at,
    }
    .into()
}

fn stored(m: llm_provider::Model) -> StoredProvider {
    StoredProvider {
        config: ProviderConfig {
            name: m.name,
            preset: m.preset,
            base_url: m.base_url,
            model: m.model,
            api_key: None,
            organization: m.organization,
            supports_json_schema: m.supports_json_schema,
            max_context_tokens: u32::try_from(m.max_context_tokens).unwrap_or(0),
            max_output_tokens: u32::try_from(m.max_output_tokens).unwrap_or(0),
            timeout: Duration::from_millis(u64::try_from(m.timeout_ms).unwrap_or(0)),
            max_concurrent: u32::try_from(m.max_concurrent).unwrap_or(1),
            priority: m.priority,
            enabled: m.enabled,
            price_input_per_1k: m.price_input_per1k,
            price_output_per_1k: m.price_output_per1k,
            source: "database".into(),
        },
        sealed_key: m.sealed_key,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

#[async_trait::async_trait]
impl LlmProviderStore for SeaStore {
    async fn list(&self) -> Result<Vec<StoredProvider>, StoreError> {
        let rows = llm_provider::Entity::find()
            .order_by_asc(llm_provider::Column::Priority)
            .order_by_asc(llm_provider::Column::Name)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        Ok(rows.into_iter().map(stored).collect())
    }

    async fn get(&self, name: &str) -> Result<Option<StoredProvider>, StoreError> {
        Ok(llm_provider::Entity::find_by_id(name.to_owned())
            .one(&self.db)
            .await
            .map_err(db_err)?
            .map(stored))
    }

    async fn save(&self, provider: &StoredProvider) -> Result<(), StoreError> {
        let updates: Vec<llm_provider::Column> = llm_provider::Column::iter()
            .filter(|c| !matches!(c.as_str(), "name" | "created_at"))
            .collect();
        llm_provider::Entity::insert(row(provider))
            .on_conflict(
                OnConflict::column(llm_provider::Column::Name)
                    .update_columns(updates)
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn delete(&self, name: &str) -> Result<bool, StoreError> {
        let res = llm_provider::Entity::delete_by_id(name.to_owned())
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        Ok(res.rows_affected > 0)
    }
}

#[async_trait::async_trait]
impl LlmUsageStore for SeaStore {
    async fn record(&self, u: &UsageRecord) -> Result<(), StoreError> {
        let big = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let model = llm_usage::ActiveModel {
            at: sea_orm::Set(u.at),
            day: sea_orm::Set(u.at.date_naive()),
            provider: sea_orm::Set(u.provider.chars().take(64).collect()),
            model: sea_orm::Set(u.model.chars().take(128).collect()),
            purpose: sea_orm::Set(u.purpose.chars().take(128).collect()),
            prompt_tokens: sea_orm::Set(big(u.prompt_tokens)),
            completion_tokens: sea_orm::Set(big(u.completion_tokens)),
            latency_ms: sea_orm::Set(big(u.latency_ms)),
            outcome: sea_orm::Set(u.outcome.as_str().to_owned()),
            cost_usd: sea_orm::Set(u.cost_usd),
            ..Default::default()
        };
        model.insert(&self.db).await.map_err(db_err)?;
        Ok(())
    }

    async fn summary(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        group: UsageGroup,
    ) -> Result<Vec<UsageSummary>, StoreError> {
        // The grouping column comes from a closed enum, never from input.
        let key = match group {
            UsageGroup::Provider => "provider",
            UsageGroup::Model => "model",
            UsageGroup::Purpose => "purpose",
            UsageGroup::Day => "day",
        };
        let backend = self.db.get_database_backend();
        let key_expr = if key == "day" && backend == sea_orm::DatabaseBackend::Postgres {
            "day::text"
        } else {
            key
        };
        let (p1, p2) = if backend == sea_orm::DatabaseBackend::Postgres {
            ("$1", "$2")
        } else {
            ("?", "?")
        };
        let sql = format!(
            "SELECT {key_expr} AS k, COUNT(*) AS calls, \
             CAST(SUM(CASE WHEN outcome = 'error' THEN 1 ELSE 0 END) AS BIGINT) AS errors, \
             CAST(SUM(prompt_tokens) AS BIGINT) AS prompt, CAST(SUM(completion_tokens) AS BIGINT) AS completion, \
             SUM(cost_usd) AS cost \
             FROM llm_usage WHERE day >= {p1} AND day <= {p2} GROUP BY {key_expr} ORDER BY k"
        );
        let rows = self
            .db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [from.into(), to.into()],
            ))
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let n = |col: &str| {
                    r.try_get::<i64>("", col)
                        .map(|v| u64::try_from(v).unwrap_or(0))
                };
                Ok(UsageSummary {
                    key: r.try_get::<String>("", "k").map_err(db_err)?,
                    calls: n("calls").map_err(db_err)?,
                    errors: n("errors").map_err(db_err)?,
                    prompt_tokens: n("prompt").map_err(db_err)?,
                    completion_tokens: n("completion").map_err(db_err)?,
                    cost_usd: r.try_get::<f64>("", "cost").map_err(db_err)?,
                })
            })
            .collect()
    }

    async fn purpose_totals(&self, prefix: &str) -> Result<UsageSummary, StoreError> {
        let backend = self.db.get_database_backend();
        // Prefix searches that use ix_llm_usage_purpose: LIKE (text_pattern_ops) on
        // PostgreSQL, GLOB (case-sensitive, like the prefix) on SQLite.
        let mut pattern = String::with_capacity(prefix.len() + 4);
        let condition = if backend == sea_orm::DatabaseBackend::Postgres {
            for c in prefix.chars() {
                if matches!(c, '%' | '_' | '\\') {
                    pattern.push('\\');
                }
                pattern.push(c);
            }
            pattern.push('%');
            "purpose LIKE $1 ESCAPE '\\'"
        } else {
            for c in prefix.chars() {
                if matches!(c, '*' | '?' | '[') {
                    pattern.extend(['[', c, ']']);
                } else {
                    pattern.push(c);
                }
            }
            pattern.push('*');
            "purpose GLOB ?"
        };
        let sql = format!(
            "SELECT COUNT(*) AS calls, \
             CAST(COALESCE(SUM(CASE WHEN outcome = 'error' THEN 1 ELSE 0 END), 0) AS BIGINT) AS errors, \
             CAST(COALESCE(SUM(prompt_tokens), 0) AS BIGINT) AS prompt, \
             CAST(COALESCE(SUM(completion_tokens), 0) AS BIGINT) AS completion, \
             CAST(COALESCE(SUM(cost_usd), 0) AS DOUBLE PRECISION) AS cost \
             FROM llm_usage WHERE {condition}"
        );
        let row = self
            .db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [pattern.into()],
            ))
            .await
            .map_err(db_err)?;
        let Some(r) = row else {
            return Ok(UsageSummary::empty(prefix));
        };
        let n = |col: &str| {
            r.try_get::<i64>("", col)
                .map(|v| u64::try_from(v).unwrap_or(0))
                .map_err(db_err)
        };
        Ok(UsageSummary {
            key: prefix.to_owned(),
            calls: n("calls")?,
            errors: n("errors")?,
            prompt_tokens: n("prompt")?,
            completion_tokens: n("completion")?,
            cost_usd: r.try_get::<f64>("", "cost").map_err(db_err)?,
        })
    }
}
