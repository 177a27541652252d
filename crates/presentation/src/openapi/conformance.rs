//! Real values, serialised as the handlers serialise them, checked against the document's
//! schemas — strictly: a property the schema does not declare is an error too, so a field added
//! to an application type without its mirror in `schemas.rs` fails here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use stockpilot_application::health::{CheckResult, CheckStatus, ReadinessReport};
use stockpilot_application::llm::{ProviderTest, ProviderView};
use stockpilot_application::ports::{
    CircuitState, Dataset, InstrumentRecord, Role, SearchResult, UsageGroup, UsageSummary,
};
use stockpilot_application::research::analysts::AnalystKind;
use stockpilot_application::research::model::{
    AnalystResult, DecisionRecord, ResultStatus, Run, RunRequest, RunStatus, Usage,
};
use stockpilot_application::research::{AnalystInfo, Progress, RunView};
use stockpilot_application::sync::{
    FailureStatus, JobKind, JobParams, JobStatus, RetryTarget, SyncFailure, SyncJob,
};
use stockpilot_application::{AppError, FieldProblem};
use stockpilot_domain::analysis::{
    Action, AnalystSignal, Confidence, Decision, Input, PriceLevels, Signal,
};
use stockpilot_domain::market::{
    DailyValuation, FinancialIndicators, FinancialLineItems, FinancialStatement, Instrument,
    Market, ReportPeriod, StatementKind, Symbol,
};

use super::document;
use crate::error::ApiError;
use crate::params::{Paged, Paging};
use crate::routes;

fn doc() -> Value {
    serde_json::to_value(document()).unwrap()
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> Result<&'a Value, String> {
    match schema.get("$ref").and_then(Value::as_str) {
        None => Ok(schema),
        Some(reference) => {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .ok_or_else(|| format!("unexpected $ref {reference}"))?;
            let target = doc["components"]["schemas"]
                .get(name)
                .ok_or_else(|| format!("$ref to a missing schema {name}"))?;
            resolve(doc, target)
        }
    }
}

/// Property names an object schema declares, through `allOf`.
fn declared(doc: &Value, schema: &Value) -> Vec<String> {
    let Ok(schema) = resolve(doc, schema) else {
        return Vec::new();
    };
    let mut names: Vec<String> = schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    for part in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        names.extend(declared(doc, part));
    }
    names
}

fn type_matches(name: &str, value: &Value) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        _ => false,
    }
}

/// Checks `value` against `schema` (the subset of JSON Schema the document uses). `strict`:
/// properties the schema does not declare are errors.
pub(crate) fn check(
    doc: &Value,
    schema: &Value,
    value: &Value,
    at: &str,
    strict: bool,
) -> Result<(), String> {
    let schema = resolve(doc, schema)?;
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        for part in parts {
            check(doc, part, value, at, false)?;
        }
    }
    if let Some(branches) = schema.get("oneOf").and_then(Value::as_array) {
        let errors: Vec<String> = branches
            .iter()
            .filter_map(|b| check(doc, b, value, at, strict).err())
            .collect();
        if branches.len() - errors.len() != 1 {
            return Err(format!(
                "{at}: matches {} of {} oneOf branches ({errors:?})",
                branches.len() - errors.len(),
                branches.len()
            ));
        }
    }
    if let Some(types) = schema.get("type") {
        let names: Vec<&str> = match types {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !names.iter().any(|n| type_matches(n, value)) {
            return Err(format!("{at}: {value} is not of type {types}"));
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let (Some(format), Some(text)) =
        (schema.get("format").and_then(Value::as_str), value.as_str())
    {
        let ok = match format {
            "date" => NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok(),
            "date-time" => DateTime::parse_from_rfc3339(text).is_ok(),
            _ => true,
        };
        if !ok {
            return Err(format!("{at}: '{text}' is not a {format}"));
        }
    }
    if let Some(n) = value.as_f64() {
        if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
            && n < min
        {
            return Err(format!("{at}: {n} is below {min}"));
        }
        if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
            && n > max
        {
            return Err(format!("{at}: {n} is above {max}"));
        }
    }
    if let Some(object) = value.as_object() {
        let properties = schema.get("properties").and_then(Value::as_object);
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !object.contains_key(name) {
                return Err(format!("{at}: required property '{name}' is missing"));
            }
        }
        if let Some(properties) = properties {
            for (name, v) in object {
                if let Some(property) = properties.get(name) {
                    check(doc, property, v, &format!("{at}.{name}"), true)?;
                }
            }
        }
        let is_object_schema = properties.is_some() || schema.get("allOf").is_some();
        if is_object_schema
            && (strict || schema.get("additionalProperties") == Some(&Value::Bool(false)))
        {
            let names = declared(doc, schema);
            if let Some(extra) = object.keys().find(|k| !names.contains(k)) {
                return Err(format!("{at}: property '{extra}' is not declared"));
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, v) in array.iter().enumerate() {
            check(doc, items, v, &format!("{at}[{i}]"), true)?;
        }
    }
    Ok(())
}

/// `value` conforms to the component schema `name`, strictly.
#[track_caller]
fn conforms(name: &str, value: &Value) {
    let doc = doc();
    let schema = json!({ "$ref": format!("#/components/schemas/{name}") });
    if let Err(e) = check(&doc, &schema, value, name, true) {
        panic!("{e}\nvalue: {value:#}");
    }
}

#[track_caller]
fn rejects(name: &str, value: &Value) {
    let doc = doc();
    let schema = json!({ "$ref": format!("#/components/schemas/{name}") });
    assert!(
        check(&doc, &schema, value, name, true).is_err(),
        "{name} accepts {value}"
    );
}

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap()
}

fn symbol(s: &str) -> Symbol {
    Symbol::parse(s).unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 14, 9, 30, 0).unwrap()
}

#[test]
fn the_checker_catches_what_it_should() {
    // Guards the guard: an undeclared field, a missing field, a wrong type and a value outside
    // an enum are all caught.
    let good = json!({"field": "start", "message": "m"});
    conforms("FieldProblem", &good);
    rejects(
        "FieldProblem",
        &json!({"field": "start", "message": "m", "extra": 1}),
    );
    rejects("FieldProblem", &json!({"field": "start"}));
    rejects("FieldProblem", &json!({"field": 1, "message": "m"}));
    rejects("MarketCode", &json!("HK"));
    rejects("Instrument", &json!({}));
}

#[test]
fn error_bodies_conform() {
    let mut api = ApiError::from(AppError::Validation {
        message: "invalid".into(),
        problems: vec![FieldProblem::new("start", "not a date")],
    });
    for request_id in [Some("0192f0c5e8a27f3e9d1c6b2a4f8e7d10".to_owned()), None] {
        let body: Value = serde_json::from_str(&api.body_json(request_id)).unwrap();
        conforms("ErrorBody", &body);
    }
    api.details.clear();
    conforms(
        "ErrorBody",
        &serde_json::from_str(&api.body_json(Some("id".into()))).unwrap(),
    );
    // The fallback body the error module writes when serialisation fails has no request id.
    conforms(
        "ErrorBody",
        &json!({"error": {"code": "internal_error", "message": "", "details": []}}),
    );
    rejects(
        "ErrorBody",
        &json!({"error": {"code": "teapot", "message": "", "details": []}}),
    );
}

#[test]
fn probe_bodies_conform() {
    conforms(
        "Liveness",
        &json!({"status": "ok", "version": "1.2.3", "uptime_seconds": 12}),
    );
    let report = ReadinessReport {
        ready: false,
        checks: vec![
            CheckResult {
                name: "database",
                status: CheckStatus::Up,
                required: true,
                latency_ms: 1.5,
                error: None,
            },
            CheckResult {
                name: "cache",
                status: CheckStatus::Down,
                required: true,
                latency_ms: 1000.0,
                error: Some("timed out".into()),
            },
        ],
    };
    // As the handler writes it: the report flattened next to `status`.
    let mut body = to_value(&report);
    body["status"] = json!("unready");
    conforms("Readiness", &body);
    conforms("ReadinessFailure", &body);
    conforms(
        "ReadinessFailure",
        &serde_json::from_str(
            &ApiError::new(crate::ErrorCode::RequestTimeout, "late").body_json(Some("id".into())),
        )
        .unwrap(),
    );
}

fn instrument_record() -> InstrumentRecord {
    let mut instrument = Instrument::new(symbol("600519.SH"), "贵州茅台");
    instrument.industry = Some("白酒".into());
    instrument.list_date = Some(day(2001, 8, 27));
    InstrumentRecord {
        instrument,
        provider: "tushare".into(),
        updated_at: at(),
    }
}

#[test]
fn market_data_conforms() {
    let dto = routes::instruments::InstrumentDto::from(instrument_record());
    conforms("Instrument", &to_value(&dto));
    let paging = Paging {
        page: 1,
        page_size: 50,
    };
    conforms(
        "InstrumentPage",
        &to_value(&Paged::new(vec![dto], paging, 1)),
    );

    let mut valuation = DailyValuation::empty(symbol("AAPL"), day(2025, 3, 14));
    valuation.pe_ttm = Some(Decimal::new(2831, 2));
    valuation.total_market_cap = Some(Decimal::new(3_400_000_000_000, 0));
    conforms("DailyValuation", &to_value(&valuation));

    let statement = FinancialStatement {
        symbol: symbol("AAPL"),
        kind: StatementKind::CashFlow,
        period: ReportPeriod::Annual,
        report_date: day(2024, 9, 28),
        announced_date: None,
        currency: "USD".into(),
        items: FinancialLineItems {
            revenue: Some(Decimal::new(391_035_000_000, 0)),
            eps_basic: Some(Decimal::new(611, 2)),
            ..FinancialLineItems::default()
        },
        raw: "{}".into(),
    };
    conforms("FinancialStatement", &to_value(&statement));
    conforms("FinancialItem", &to_value(&statement));
    let indicators = FinancialIndicators {
        roe: Some(Decimal::new(3412, 4)),
        gross_margin: Some(Decimal::new(9193, 4)),
        ..FinancialIndicators::empty(symbol("600519.SH"), day(2024, 12, 31), ReportPeriod::Ttm)
    };
    conforms("FinancialIndicators", &to_value(&indicators));
    conforms("FinancialItem", &to_value(&indicators));

    let view = stockpilot_application::market::IndicatorsView {
        symbol: symbol("AAPL"),
        start: day(2025, 1, 2),
        end: day(2025, 1, 3),
        as_of: Some(day(2025, 1, 3)),
        provider: None,
        dates: vec![day(2025, 1, 2), day(2025, 1, 3)],
        close: vec![243.85, 243.36],
        columns: vec![stockpilot_application::market::IndicatorColumn {
            name: "sma:2".into(),
            values: vec![None, Some(243.605)],
        }],
    };
    conforms("IndicatorsView", &to_value(&view));
}

fn sync_job() -> SyncJob {
    SyncJob {
        id: "0192f0c5-e8a2-7f3e-9d1c-6b2a4f8e7d10".into(),
        kind: JobKind::RetryFailures,
        provider: "tushare".into(),
        status: JobStatus::Paused,
        params: JobParams {
            market: Market::Cn,
            symbols: vec![symbol("600519.SH")],
            start: Some(day(2020, 1, 1)),
            end: None,
            batch_size: 50,
            limit_days: 5,
            retry: vec![RetryTarget {
                dataset: Dataset::DailyBars,
                symbol: symbol("600519.SH"),
                kind: JobKind::DailyHistory,
                start: None,
                end: Some(day(2024, 1, 1)),
            }],
        },
        cursor: 1,
        total: 2,
        rows_written: 250,
        symbols_failed: 0,
        message: Some("daily quota reached".into()),
        schedule_name: None,
        cancel_requested: false,
        resume_after: Some(at()),
        created_at: at(),
        started_at: Some(at()),
        finished_at: None,
        updated_at: at(),
    }
}

#[test]
fn sync_bodies_conform() {
    let job = sync_job();
    conforms("SyncJob", &to_value(&job));
    let paging = Paging {
        page: 2,
        page_size: 1,
    };
    conforms(
        "SyncJobPage",
        &to_value(&Paged::new(vec![job.clone()], paging, 3)),
    );
    let failure = SyncFailure {
        provider: "tushare".into(),
        dataset: Dataset::Financials,
        symbol: symbol("000001.SZ"),
        error_kind: "provider".into(),
        error: "HTTP 500".into(),
        attempts: 3,
        status: FailureStatus::Permanent,
        next_retry_at: None,
        last_job_id: Some(job.id.clone()),
        first_failed_at: at(),
        last_failed_at: at(),
    };
    conforms("SyncFailure", &to_value(&failure));
    conforms(
        "SyncFailurePage",
        &to_value(&Paged::new(vec![failure], paging, 1)),
    );
    conforms("RetryJobs", &json!({ "jobs": [to_value(&job)] }));
}

fn provider_view(circuit: Option<CircuitState>) -> ProviderView {
    ProviderView {
        name: "local".into(),
        preset: "ollama".into(),
        base_url: "http://localhost:11434/v1".into(),
        model: "llama3.1".into(),
        api_key: circuit.map(|_| "sk-…abcd".into()),
        organization: None,
        supports_json_schema: false,
        max_context_tokens: 8192,
        max_output_tokens: 4096,
        timeout_secs: 60,
        max_concurrent: 4,
        priority: -1,
        enabled: true,
        price_input_per_1k: 0.0,
        price_output_per_1k: 0.0,
        source: "database".into(),
        circuit,
    }
}

#[test]
fn llm_bodies_conform() {
    for circuit in [None, Some(CircuitState::HalfOpen)] {
        conforms("ProviderView", &to_value(&provider_view(circuit)));
    }
    conforms(
        "LlmProviderList",
        &to_value(&routes::llm::providers::ProviderList {
            items: vec![provider_view(Some(CircuitState::Closed))],
        }),
    );
    let test = ProviderTest {
        provider: "local".into(),
        ok: false,
        latency_ms: 12,
        model: None,
        answer: None,
        error: Some("connection refused".into()),
    };
    conforms("ProviderTest", &to_value(&test));
    conforms(
        "WebSearchResults",
        &to_value(&routes::llm::search::Found {
            query: "茅台".into(),
            count: 1,
            results: vec![SearchResult {
                title: "贵州茅台年报".into(),
                url: "https://example.com/a".into(),
                snippet: "…".into(),
                summary: None,
                site_name: Some("example".into()),
                published_at: Some("2024-07-22T00:00:00Z".into()),
            }],
        }),
    );
    conforms(
        "LlmUsage",
        &to_value(&routes::llm::usage::Report {
            from: day(2025, 1, 1),
            to: day(2025, 1, 31),
            group_by: UsageGroup::Day,
            total: routes::llm::usage::Totals {
                calls: 2,
                prompt_tokens: 30,
                completion_tokens: 12,
                cost_usd: 0.0042,
            },
            groups: vec![UsageSummary {
                key: "2025-01-02".into(),
                calls: 2,
                errors: 1,
                prompt_tokens: 30,
                completion_tokens: 12,
                cost_usd: 0.0042,
            }],
        }),
    );
    conforms(
        "ChatAnswer",
        &json!({
            "content": "{\"a\":1}", "provider": "local", "model": "m",
            "usage": {"prompt_tokens": 1, "completion_tokens": 2}, "latency_ms": 3,
            "cost_usd": 0.0, "cached": false, "finish_reason": null, "json": {"a": 1}
        }),
    );
}

fn run(status: RunStatus) -> Run {
    Run {
        id: "0192f0c5-e8a2-7f3e-9d1c-6b2a4f8e7d10".into(),
        status,
        request: RunRequest {
            symbols: vec![symbol("AAPL")],
            analysts: vec!["technical".into()],
            as_of: day(2025, 3, 14),
            as_of_given: false,
            llm_provider: None,
            debate_rounds: 0,
            max_tokens: 200_000,
        },
        error: None,
        cancel_requested: true,
        claimed_by: Some("worker-1".into()),
        attempts: 1,
        prompt_tokens: 0,
        completion_tokens: 0,
        cost_usd: 0.0,
        created_at: at(),
        started_at: None,
        finished_at: None,
        heartbeat_at: None,
    }
}

#[test]
fn research_bodies_conform() {
    conforms("Run", &to_value(&run(RunStatus::Queued)));
    conforms(
        "RunPage",
        &to_value(&Paged::new(
            vec![run(RunStatus::Interrupted)],
            Paging {
                page: 1,
                page_size: 50,
            },
            1,
        )),
    );
    let usage = Usage {
        llm_calls: 1,
        prompt_tokens: 100,
        completion_tokens: 20,
        cost_usd: 0.001,
    };
    let signal = AnalystSignal {
        analyst: "technical".into(),
        symbol: symbol("AAPL"),
        signal: Signal::Bullish,
        confidence: Confidence::new(70).unwrap(),
        reasoning: "above its 50-day average".into(),
        inputs: vec![Input::new("ema_50", 231.5, day(2025, 3, 14))],
    };
    let results = vec![
        AnalystResult {
            symbol: symbol("AAPL"),
            analyst: "technical".into(),
            status: ResultStatus::Succeeded,
            signal: Some(signal),
            reason: None,
            usage: Usage::default(),
            duration_ms: 12,
            finished_at: at(),
        },
        AnalystResult {
            symbol: symbol("AAPL"),
            analyst: "value_investor".into(),
            status: ResultStatus::Skipped,
            signal: None,
            reason: Some("no LLM provider is configured".into()),
            usage: Usage::default(),
            duration_ms: 0,
            finished_at: at(),
        },
    ];
    let decision = |action, levels| DecisionRecord {
        decision: Decision {
            symbol: symbol("AAPL"),
            action,
            confidence: Confidence::new(40).unwrap(),
            position_pct: 0.02,
            reasoning: "weighted vote +0.40".into(),
            risk_warnings: vec!["value_investor: skipped".into()],
            contributing: vec!["technical: bullish (70, 1)".into()],
        },
        levels,
        time_horizon: "1-3 months".into(),
        vote_reasoning: "weighted vote +0.40".into(),
        rationale_by: "deterministic".into(),
        max_position_pct: Some(0.05),
        usage,
        decided_at: at(),
    };
    let view = RunView {
        run: run(RunStatus::Succeeded),
        progress: Progress {
            total: 2,
            done: 2,
            succeeded: 1,
            failed: 0,
            skipped: 1,
            decisions: 2,
        },
        usage,
        results,
        decisions: vec![
            decision(
                Action::Buy,
                Some(PriceLevels {
                    reference_price: 213.49,
                    target_price: 228.1,
                    stop_price: 203.7,
                    atr_14: 4.87,
                    as_of: day(2025, 3, 14),
                }),
            ),
            decision(Action::Hold, None),
        ],
    };
    conforms("RunView", &to_value(&view));
    conforms(
        "AnalystCatalogue",
        &to_value(&routes::research::analysts::Catalogue {
            analysts: vec![AnalystInfo {
                name: "technical",
                kind: AnalystKind::Quantitative,
                description: "trend, momentum and volatility",
                default: true,
            }],
        }),
    );
    let created = run(RunStatus::Queued);
    conforms(
        "ResearchRunCreated",
        &to_value(&routes::research::create::Created {
            url: format!("/api/v1/research/runs/{}", created.id),
            events_url: format!("/api/v1/research/runs/{}/events", created.id),
            id: created.id,
            status: created.status,
            as_of: created.request.as_of,
            symbols: created.request.symbols,
            analysts: created.request.analysts,
        }),
    );
}

/// Codes listed by hand in `schemas.rs` (their types have no `ALL`): every variant serialises to
/// a listed value. The `match`es stop compiling when a variant is added.
#[test]
fn hand_listed_codes_cover_every_variant() {
    fn listed(name: &str) -> Vec<Value> {
        let doc = doc();
        doc["components"]["schemas"][name]["enum"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
    fn covers<T: serde::Serialize>(name: &str, all: &[T]) {
        let values: Vec<Value> = all.iter().map(to_value).collect();
        assert_eq!(listed(name), values, "{name}");
    }
    let failure = |s: FailureStatus| match s {
        FailureStatus::Pending | FailureStatus::Permanent => s,
    };
    covers(
        "FailureStatus",
        &[FailureStatus::Pending, FailureStatus::Permanent].map(failure),
    );
    let result = |s: ResultStatus| match s {
        ResultStatus::Succeeded | ResultStatus::Failed | ResultStatus::Skipped => s,
    };
    covers(
        "ResultStatusCode",
        &[
            ResultStatus::Succeeded,
            ResultStatus::Failed,
            ResultStatus::Skipped,
        ]
        .map(result),
    );
    let signal = |s: Signal| match s {
        Signal::Bullish | Signal::Bearish | Signal::Neutral | Signal::InsufficientData => s,
    };
    covers(
        "SignalCode",
        &[
            Signal::Bullish,
            Signal::Bearish,
            Signal::Neutral,
            Signal::InsufficientData,
        ]
        .map(signal),
    );
    let action = |a: Action| match a {
        Action::Buy | Action::Sell | Action::Hold => a,
    };
    covers(
        "ActionCode",
        &[Action::Buy, Action::Sell, Action::Hold].map(action),
    );
    let kind = |k: AnalystKind| match k {
        AnalystKind::Quantitative | AnalystKind::Llm => k,
    };
    covers(
        "AnalystKindCode",
        &[AnalystKind::Quantitative, AnalystKind::Llm].map(kind),
    );
    let circuit = |c: CircuitState| match c {
        CircuitState::Closed | CircuitState::Open | CircuitState::HalfOpen => c,
    };
    covers(
        "CircuitStateCode",
        &[
            CircuitState::Closed,
            CircuitState::Open,
            CircuitState::HalfOpen,
        ]
        .map(circuit),
    );
    let group = |g: UsageGroup| match g {
        UsageGroup::Provider | UsageGroup::Model | UsageGroup::Day | UsageGroup::Purpose => g,
    };
    covers(
        "UsageGroupCode",
        &[
            UsageGroup::Provider,
            UsageGroup::Model,
            UsageGroup::Day,
            UsageGroup::Purpose,
        ]
        .map(group),
    );
    let role = |r: Role| match r {
        Role::System | Role::User | Role::Assistant => r,
    };
    covers(
        "RoleCode",
        &[Role::System, Role::User, Role::Assistant].map(role),
    );
    let check = |c: CheckStatus| match c {
        CheckStatus::Up | CheckStatus::Down => c,
    };
    covers(
        "CheckStatusCode",
        &[CheckStatus::Up, CheckStatus::Down].map(check),
    );
}

/// Request bodies the schemas accept are accepted by the handlers' own types, and the schemas
/// reject unknown fields exactly where serde does.
#[test]
fn request_schemas_match_the_request_types() {
    type Parses = fn(Value) -> bool;
    let cases: Vec<(&str, Value, Parses)> = vec![
        (
            "CreateSyncJob",
            json!({"kind": "daily_history", "market": "CN", "symbols": ["600519.SH"],
                   "start": "2020-01-01", "end": null, "provider": "tushare", "batch_size": 100}),
            |v| serde_json::from_value::<routes::sync::create::Body>(v).is_ok(),
        ),
        (
            "RetryFailures",
            json!({"market": "US", "provider": null}),
            |v| serde_json::from_value::<routes::sync::retry::Body>(v).is_ok(),
        ),
        (
            "LlmProviderFields",
            json!({"name": "local", "preset": "ollama", "base_url": "http://localhost:11434/v1",
                   "model": "llama3.1", "api_key": null, "organization": "org",
                   "supports_json_schema": false, "max_context_tokens": 8192,
                   "max_output_tokens": 4096, "timeout_secs": 60, "max_concurrent": 4,
                   "priority": 1, "enabled": true, "price_input_per_1k": 0.0,
                   "price_output_per_1k": 0.5}),
            |v| serde_json::from_value::<routes::llm::providers::Body>(v).is_ok(),
        ),
        (
            "ChatRequest",
            json!({"messages": [{"role": "user", "content": "hi"}], "provider": null,
                   "model": "m", "temperature": 0.2, "max_tokens": 100,
                   "json_schema": {"name": "answer", "schema": {"type": "object"},
                                   "example": {"a": 1}}}),
            |v| serde_json::from_value::<routes::llm::chat::Body>(v).is_ok(),
        ),
        (
            "WebSearchRequest",
            json!({"query": "茅台", "freshness": "2024-01-01..2024-12-31", "count": 5,
                   "summary": true}),
            |v| serde_json::from_value::<routes::llm::search::Body>(v).is_ok(),
        ),
        (
            "CreateResearchRun",
            json!({"symbols": ["AAPL"], "analysts": ["technical"], "as_of": "2025-03-14",
                   "llm_provider": "local", "debate_rounds": 1, "max_tokens": 1000}),
            |v| serde_json::from_value::<routes::research::create::Body>(v).is_ok(),
        ),
    ];
    for (name, sample, parses) in cases {
        conforms(name, &sample);
        assert!(parses(sample.clone()), "{name}: serde rejects {sample}");
        let mut extra = sample.clone();
        extra["unknown"] = json!(1);
        rejects(name, &extra);
        assert!(!parses(extra), "{name}: serde accepts an unknown field");
    }
}
