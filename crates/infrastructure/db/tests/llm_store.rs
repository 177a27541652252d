//! The LLM provider registry and usage ledger on SQLite and (with `TEST_DATABASE_URL`)
//! PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use migration::{Migrator, MigratorTrait};
use stockpilot_application::ports::{
    LlmProviderStore, LlmUsageStore, ProviderConfig, StoredProvider, UsageGroup, UsageRecord,
};
use stockpilot_db::SeaStore;
use stockpilot_db::testing::TestDatabase;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn usage(
    at: &str,
    provider: &str,
    purpose: &str,
    prompt: u64,
    completion: u64,
    outcome: &str,
    cost: f64,
) -> UsageRecord {
    UsageRecord {
        at: t(at),
        provider: provider.into(),
        model: format!("{provider}-model"),
        purpose: purpose.into(),
        prompt_tokens: prompt,
        completion_tokens: completion,
        latency_ms: 120,
        outcome: outcome.parse().unwrap(),
        cost_usd: cost,
    }
}

#[tokio::test]
async fn usage_is_summed_per_provider_model_day_and_purpose() {
    for tdb in TestDatabase::all().await.unwrap() {
        let db = tdb.connect().await.unwrap();
        Migrator::up(&db, None).await.unwrap();
        let store = SeaStore::new(db.clone());
        for u in [
            usage(
                "2026-11-20T10:00:00Z",
                "openai",
                "chat",
                100,
                20,
                "ok",
                0.0025,
            ),
            usage(
                "2026-11-20T11:00:00Z",
                "openai",
                "analyst:value",
                300,
                40,
                "ok",
                0.0065,
            ),
            usage(
                "2026-11-21T09:00:00Z",
                "deepseek",
                "chat",
                50,
                0,
                "error",
                0.0,
            ),
            usage(
                "2026-11-25T09:00:00Z",
                "deepseek",
                "chat",
                999,
                999,
                "ok",
                1.0,
            ),
        ] {
            store.record(&u).await.unwrap();
        }
        let from = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let to = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        let by_provider = store.summary(from, to, UsageGroup::Provider).await.unwrap();
        assert_eq!(by_provider.len(), 2, "{:?}", tdb.backend);
        let (ds, oa) = (&by_provider[0], &by_provider[1]);
        assert_eq!(
            (ds.key.as_str(), ds.calls, ds.errors, ds.prompt_tokens),
            ("deepseek", 1, 1, 50)
        );
        assert_eq!(
            (
                oa.key.as_str(),
                oa.calls,
                oa.errors,
                oa.prompt_tokens,
                oa.completion_tokens
            ),
            ("openai", 2, 0, 400, 60)
        );
        assert!((oa.cost_usd - 0.009).abs() < 1e-12);

        let by_day = store.summary(from, to, UsageGroup::Day).await.unwrap();
        let days: Vec<(&str, u64)> = by_day.iter().map(|s| (s.key.as_str(), s.calls)).collect();
        assert_eq!(days, [("2026-11-20", 2), ("2026-11-21", 1)]);
        let by_purpose = store.summary(from, to, UsageGroup::Purpose).await.unwrap();
        assert_eq!(
            by_purpose
                .iter()
                .map(|s| s.key.as_str())
                .collect::<Vec<_>>(),
            ["analyst:value", "chat"]
        );
        let by_model = store.summary(from, to, UsageGroup::Model).await.unwrap();
        assert_eq!(by_model[1].key, "openai-model");
        db.close().await.unwrap();
    }
}

#[tokio::test]
async fn providers_round_trip_with_only_the_sealed_key_stored() {
    for tdb in TestDatabase::all().await.unwrap() {
        let db = tdb.connect().await.unwrap();
        Migrator::up(&db, None).await.unwrap();
        let store = SeaStore::new(db.clone());
        let mut p = StoredProvider {
            config: ProviderConfig {
                name: "deepseek".into(),
                preset: "deepseek".into(),
                base_url: "https://api.deepseek.com/v1".into(),
                model: "deepseek-chat".into(),
                api_key: Some("must-not-be-stored".into()),
                organization: None,
                supports_json_schema: false,
                max_context_tokens: 64_000,
                max_output_tokens: 8192,
                timeout: Duration::from_secs(45),
                max_concurrent: 4,
                priority: 10,
                enabled: true,
                price_input_per_1k: 0.00027,
                price_output_per_1k: 0.0011,
                source: "database".into(),
            },
            sealed_key: Some(vec![1, 2, 3, 250]),
            created_at: t("2026-11-20T10:00:00Z"),
            updated_at: t("2026-11-20T10:00:00Z"),
        };
        store.save(&p).await.unwrap();
        let got = store.get("deepseek").await.unwrap().unwrap();
        assert_eq!(got.config.api_key, None, "the clear key is never written");
        assert_eq!(got.sealed_key.as_deref(), Some(&[1u8, 2, 3, 250][..]));
        assert_eq!(
            (
                got.config.timeout,
                got.config.priority,
                got.config.price_output_per_1k
            ),
            (Duration::from_secs(45), 10, 0.0011)
        );

        p.config.enabled = false;
        p.updated_at = t("2026-11-21T10:00:00Z");
        store.save(&p).await.unwrap();
        let list = store.list().await.unwrap();
        assert_eq!(list.len(), 1);
        assert!(!list[0].config.enabled);
        assert_eq!(
            list[0].created_at,
            t("2026-11-20T10:00:00Z"),
            "creation time survives updates"
        );
        assert!(store.delete("deepseek").await.unwrap());
        assert!(!store.delete("deepseek").await.unwrap());
        db.close().await.unwrap();
    }
}
