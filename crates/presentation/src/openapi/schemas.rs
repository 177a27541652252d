//! Schema-only mirrors of the application and domain types the API serialises directly. Those
//! crates do not depend on utoipa, so their JSON shape is described here, field for field; the
//! tests in `openapi.rs` serialise real values and check them against these schemas, so a field
//! added or renamed there fails a test here.
//!
//! Conventions, matching serde's output: an `Option` without `skip_serializing_if` is always
//! present and may be `null` (`required` + nullable); a field that is skipped when empty is not
//! required; `Decimal` is a string (`serde-with-str`); dates are `YYYY-MM-DD`; timestamps are
//! RFC 3339.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, Utc};
use stockpilot_application::research::model::RunStatus;
use stockpilot_domain::market::StatementKind;
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

use crate::error::ErrorCode;

/// A string schema with a closed set of values.
fn string_enum<'a>(description: &str, values: impl IntoIterator<Item = &'a str>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .description(Some(description))
        .into()
}

/// Declares a schema-only type for a closed set of codes. The values come from the code's own
/// `ALL`/`as_str` where it has them, so they cannot drift from what serde writes.
macro_rules! code_schema {
    ($(#[doc = $doc:literal])+ $name:ident => $values:expr) => {
        $(#[doc = $doc])+
        #[derive(Debug, Clone, Copy)]
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                string_enum(concat!($($doc),+).trim(), $values)
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

/// The stable `code` of an error body (schema name `ErrorCode`), with the HTTP status of each.
#[derive(Debug, Clone, Copy)]
pub struct ErrorCodeValue;

impl utoipa::PartialSchema for ErrorCodeValue {
    fn schema() -> RefOr<Schema> {
        let table: Vec<String> = ErrorCode::ALL
            .iter()
            .map(|c| format!("- `{}`: {}", c.as_str(), c.status().as_u16()))
            .collect();
        let description = format!(
            "Stable error code; clients may rely on it. Each code and its HTTP status:\n\n{}",
            table.join("\n")
        );
        string_enum(&description, ErrorCode::ALL.iter().map(|c| c.as_str()))
    }
}

impl ToSchema for ErrorCodeValue {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ErrorCode")
    }
}

code_schema! {
    /// What `statement` accepts: a statement kind (`cashflow` is another spelling of
    /// `cash_flow`) or `indicators`.
    StatementParam => StatementKind::ALL
        .iter()
        .map(|k| k.as_str())
        .chain(["cashflow", "indicators"])
}
code_schema! {
    /// Where a research run is.
    RunStatusCode => RunStatus::ALL.iter().map(|s| s.as_str())
}
code_schema! {
    /// How an analyst's task ended.
    ResultStatusCode => ["succeeded", "failed", "skipped"]
}
code_schema! {
    /// An analyst's view; `insufficient_data` when it could not form one.
    SignalCode => ["bullish", "bearish", "neutral", "insufficient_data"]
}
code_schema! {
    /// What to do with a security.
    ActionCode => ["buy", "sell", "hold"]
}
code_schema! {
    /// Whether an analyst needs an LLM.
    AnalystKindCode => ["quantitative", "llm"]
}
code_schema! {
    /// State of a provider's circuit breaker.
    CircuitStateCode => ["closed", "open", "half_open"]
}
code_schema! {
    /// A preset of known OpenAI-compatible servers (`custom` for any other).
    PresetCode => stockpilot_application::llm::presets::PRESETS.iter().map(|p| p.name)
}
code_schema! {
    /// How usage is grouped.
    UsageGroupCode => ["provider", "model", "day", "purpose"]
}
code_schema! {
    /// Who says a chat message.
    RoleCode => ["system", "user", "assistant"]
}
code_schema! {
    /// State of one checked dependency.
    CheckStatusCode => ["up", "down"]
}
code_schema! {
    /// Always `ok` while the process serves requests.
    LiveStatusCode => ["ok"]
}
code_schema! {
    /// `ready` when every required dependency is up, else `unready`.
    ReadyStatusCode => ["ready", "unready"]
}

/// The symbol rule of both markets (`Symbol::parse`): six digits and `.SH`, `.SZ` or `.BJ`
/// (A-shares), or 1–5 capital letters with an optional `.CLASS` letter (US). Path parameters
/// repeat it literally (the attribute takes a literal); a test keeps them equal.
pub const SYMBOL_PATTERN: &str = r"^([0-9]{6}\.(SH|SZ|BJ)|[A-Z]{1,5}(\.[A-Z])?)$";

/// A symbol in a request (schema name `Symbol`).
#[derive(Debug, Clone, Copy)]
pub struct SymbolText;

impl utoipa::PartialSchema for SymbolText {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(SYMBOL_PATTERN))
            .description(Some(
                "A symbol: six digits and `.SH`, `.SZ` or `.BJ` (A-shares, e.g. `600519.SH`), \
                 or 1–5 capital letters with an optional `.CLASS` letter (US, e.g. `AAPL`, \
                 `BRK.B`).",
            ))
            .into()
    }
}

impl ToSchema for SymbolText {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Symbol")
    }
}

// ---- health ---------------------------------------------------------------------------------

/// The state of one checked dependency.
#[derive(ToSchema)]
pub struct CheckResult {
    /// The dependency (`database`, `cache`, …).
    pub name: String,
    pub status: CheckStatusCode,
    /// Whether the instance is unready while this dependency is down.
    pub required: bool,
    pub latency_ms: f64,
    /// Why the check failed; absent when it passed.
    #[schema(required = false)]
    pub error: String,
}

/// The readiness verdict and each check behind it (flattened into the readiness body).
#[derive(ToSchema)]
pub struct ReadinessReport {
    pub ready: bool,
    pub checks: Vec<CheckResult>,
}

// ---- errors ---------------------------------------------------------------------------------

/// One problem with one input field.
#[derive(ToSchema)]
pub struct FieldProblem {
    /// The field as the caller named it (`start`, `symbols[3]`, `body`, `Last-Event-ID`).
    pub field: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

// ---- market data ----------------------------------------------------------------------------

// ---- sync -----------------------------------------------------------------------------------

// ---- llm ------------------------------------------------------------------------------------

/// An LLM provider as the API shows it: the key only masked.
#[derive(ToSchema)]
pub struct ProviderView {
    pub name: String,
    pub preset: String,
    pub base_url: String,
    pub model: String,
    /// The key masked (`sk-…abcd`); `null` when no key is set.
    #[schema(required)]
    pub api_key: Option<String>,
    #[schema(required)]
    pub organization: Option<String>,
    pub supports_json_schema: bool,
    #[schema(minimum = 0)]
    pub max_context_tokens: u32,
    #[schema(minimum = 0)]
    pub max_output_tokens: u32,
    #[schema(minimum = 0)]
    pub timeout_secs: u64,
    #[schema(minimum = 0)]
    pub max_concurrent: u32,
    /// Lower is tried first.
    pub priority: i32,
    pub enabled: bool,
    pub price_input_per_1k: f64,
    pub price_output_per_1k: f64,
    /// `config` (read-only over the API) or `database`.
    pub source: String,
    /// The circuit breaker's state; `null` when the gateway does not know the provider.
    #[schema(required)]
    pub circuit: Option<CircuitStateCode>,
}

/// The outcome of a tiny live call to a provider.
#[derive(ToSchema)]
pub struct ProviderTest {
    pub provider: String,
    pub ok: bool,
    #[schema(minimum = 0)]
    pub latency_ms: u64,
    #[schema(required)]
    pub model: Option<String>,
    #[schema(required)]
    pub answer: Option<String>,
    #[schema(required)]
    pub error: Option<String>,
}

/// One chat message.
#[derive(ToSchema)]
pub struct ChatMessage {
    pub role: RoleCode,
    /// Must not be blank.
    pub content: String,
}

/// Tokens of one completion.
#[derive(ToSchema)]
pub struct TokenUsage {
    #[schema(minimum = 0)]
    pub prompt_tokens: u64,
    #[schema(minimum = 0)]
    pub completion_tokens: u64,
}

/// Totals of one group of LLM calls.
#[derive(ToSchema)]
pub struct UsageSummary {
    /// The provider, model, day (YYYY-MM-DD) or purpose.
    pub key: String,
    #[schema(minimum = 0)]
    pub calls: u64,
    #[schema(minimum = 0)]
    pub errors: u64,
    #[schema(minimum = 0)]
    pub prompt_tokens: u64,
    #[schema(minimum = 0)]
    pub completion_tokens: u64,
    pub cost_usd: f64,
}

/// One web search result.
#[derive(ToSchema)]
pub struct SearchResult {
    pub title: String,
    pub url: String,
    pub snippet: String,
    #[schema(required)]
    pub summary: Option<String>,
    #[schema(required)]
    pub site_name: Option<String>,
    /// As the search provider reports it (usually RFC 3339).
    #[schema(required)]
    pub published_at: Option<String>,
}

// ---- research -------------------------------------------------------------------------------

/// One analyst of the catalogue.
#[derive(ToSchema)]
pub struct AnalystInfo {
    pub name: String,
    pub kind: AnalystKindCode,
    pub description: String,
    /// Part of a run that names no analysts.
    pub default: bool,
}

/// What the caller asked for, after validation.
#[derive(ToSchema)]
pub struct RunRequest {
    pub symbols: Vec<String>,
    /// Analyst names, in catalogue order.
    pub analysts: Vec<String>,
    /// The date the analysis is as of.
    pub as_of: NaiveDate,
    /// Whether `as_of` was given or resolved to the newest stored bar.
    pub as_of_given: bool,
    #[schema(required)]
    pub llm_provider: Option<String>,
    #[schema(minimum = 0)]
    pub debate_rounds: u8,
    /// Token budget of the run's LLM calls.
    #[schema(minimum = 0)]
    pub max_tokens: u64,
}

/// A research run.
#[derive(ToSchema)]
pub struct Run {
    pub id: String,
    pub status: RunStatusCode,
    pub request: RunRequest,
    #[schema(required)]
    pub error: Option<String>,
    pub cancel_requested: bool,
    #[schema(required)]
    pub claimed_by: Option<String>,
    /// How many times a worker started it (above 1 after a resume).
    #[schema(minimum = 0)]
    pub attempts: u32,
    #[schema(minimum = 0)]
    pub prompt_tokens: u64,
    #[schema(minimum = 0)]
    pub completion_tokens: u64,
    pub cost_usd: f64,
    pub created_at: DateTime<Utc>,
    #[schema(required)]
    pub started_at: Option<DateTime<Utc>>,
    #[schema(required)]
    pub finished_at: Option<DateTime<Utc>>,
    #[schema(required)]
    pub heartbeat_at: Option<DateTime<Utc>>,
}

/// How far a run has come.
#[derive(ToSchema)]
pub struct Progress {
    /// Analyst tasks of the run (symbols × analysts).
    #[schema(minimum = 0)]
    pub total: u64,
    #[schema(minimum = 0)]
    pub done: u64,
    #[schema(minimum = 0)]
    pub succeeded: u64,
    #[schema(minimum = 0)]
    pub failed: u64,
    #[schema(minimum = 0)]
    pub skipped: u64,
    #[schema(minimum = 0)]
    pub decisions: u64,
}

/// LLM usage of a task, a decision or a whole run.
#[derive(ToSchema)]
pub struct Usage {
    #[schema(minimum = 0)]
    pub llm_calls: u32,
    #[schema(minimum = 0)]
    pub prompt_tokens: u64,
    #[schema(minimum = 0)]
    pub completion_tokens: u64,
    pub cost_usd: f64,
}

/// One figure an analyst used, with the date of the data it came from.
#[derive(ToSchema)]
pub struct Input {
    pub name: String,
    pub value: f64,
    pub as_of: NaiveDate,
}

/// One analyst's view of one security.
#[derive(ToSchema)]
pub struct AnalystSignal {
    pub analyst: String,
    pub symbol: String,
    pub signal: SignalCode,
    /// 0 to 100; 0 for `insufficient_data`.
    #[schema(minimum = 0, maximum = 100)]
    pub confidence: u8,
    pub reasoning: String,
    pub inputs: Vec<Input>,
}

/// One analyst's result for one symbol.
#[derive(ToSchema)]
pub struct AnalystResult {
    pub symbol: String,
    pub analyst: String,
    pub status: ResultStatusCode,
    /// The view, for `succeeded`.
    #[schema(required)]
    pub signal: Option<AnalystSignal>,
    /// Why it failed or was skipped.
    #[schema(required)]
    pub reason: Option<String>,
    pub usage: Usage,
    #[schema(minimum = 0)]
    pub duration_ms: u64,
    pub finished_at: DateTime<Utc>,
}

/// Where a trade would be taken, stopped out and taken profit on.
#[derive(ToSchema)]
pub struct PriceLevels {
    pub reference_price: f64,
    pub target_price: f64,
    pub stop_price: f64,
    pub atr_14: f64,
    pub as_of: NaiveDate,
}

/// The portfolio manager's decision on one symbol.
#[derive(ToSchema)]
pub struct DecisionRecord {
    pub symbol: String,
    pub action: ActionCode,
    /// 0 to 100.
    #[schema(minimum = 0, maximum = 100)]
    pub confidence: u8,
    /// Size of the trade as a fraction of the portfolio.
    pub position_pct: f64,
    pub reasoning: String,
    pub risk_warnings: Vec<String>,
    /// Each signal that voted, as `analyst: signal (confidence, weight)`.
    pub contributing: Vec<String>,
    /// Target and stop, for buy and sell.
    #[schema(required)]
    pub levels: Option<PriceLevels>,
    pub time_horizon: String,
    pub vote_reasoning: String,
    /// `llm` when an LLM wrote `reasoning`, else `deterministic`.
    pub rationale_by: String,
    /// The position limit the risk analyst set (fraction of the portfolio).
    #[schema(required)]
    pub max_position_pct: Option<f64>,
    pub usage: Usage,
    pub decided_at: DateTime<Utc>,
}

/// A run with everything it produced so far: the run's fields, then progress, usage, results
/// and decisions.
#[derive(ToSchema)]
pub struct RunView {
    #[serde(flatten)]
    pub run: Run,
    pub progress: Progress,
    pub usage: Usage,
    pub results: Vec<AnalystResult>,
    pub decisions: Vec<DecisionRecord>,
}

// ---- pages ----------------------------------------------------------------------------------

/// One page of research runs, newest first.
#[derive(ToSchema)]
pub struct RunPage {
    pub items: Vec<Run>,
    #[schema(minimum = 1)]
    pub page: u64,
    #[schema(minimum = 1)]
    pub page_size: u64,
    #[schema(minimum = 0)]
    pub total: u64,
}

code_schema! {
    /// An API key's role: `reader` < `analyst` < `operator` < `admin`.
    KeyRoleCode => stockpilot_application::auth::Role::ALL.iter().map(|r| r.as_str())
}

/// One audit entry.
#[derive(ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    #[schema(required)]
    pub key_id: Option<String>,
    #[schema(required)]
    pub key_name: Option<String>,
    #[schema(required)]
    pub role: Option<KeyRoleCode>,
    /// The route's action name, e.g. `research.run.create`.
    pub action: String,
    /// The created resource's URL, else the request path (a key id for CLI actions).
    pub target: String,
    #[schema(required)]
    pub client_ip: Option<String>,
    #[schema(required)]
    pub request_id: Option<String>,
    /// `succeeded`, `failed` or `denied`.
    pub outcome: String,
    #[schema(required)]
    pub status: Option<u16>,
}

/// One page of the audit log, newest first.
#[derive(ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    #[schema(minimum = 1)]
    pub page: u64,
    #[schema(minimum = 1)]
    pub page_size: u64,
    #[schema(minimum = 0)]
    pub total: u64,
}
