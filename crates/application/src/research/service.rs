//! Submitting, inspecting and cancelling research runs.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use serde::Serialize;
use stockpilot_domain::market::Symbol;
use tokio::sync::{Notify, Semaphore};

use super::analysts::{Analyst, AnalystKind, catalogue, default_analysts};
use super::model::{
    AnalystResult, DecisionRecord, NewRun, ResultStatus, Run, RunEvent, RunFilter, RunRequest,
    RunStatus, Usage,
};
use crate::ports::{
    Clock, LlmGateway, LlmUsageStore, MarketDataStore, Page, ResearchStore, WebSearch,
};
use crate::{AppError, FieldProblem, RunId};

/// Most symbols one run may analyse.
pub const MAX_SYMBOLS: usize = 20;
/// Most bull/bear rounds a debate may have.
pub const MAX_DEBATE_ROUNDS: u8 = 5;
/// Largest token budget a run may ask for.
pub const MAX_RUN_TOKENS: u64 = 10_000_000;

/// Runner settings from configuration.
#[derive(Debug, Clone)]
pub struct ResearchSettings {
    /// Analyst tasks running at once across all runs of this process.
    pub max_concurrent_analysts: usize,
    /// Analyst tasks running at once within one run.
    pub run_concurrency: usize,
    /// Token budget of a run that names none.
    pub default_max_tokens: u64,
    /// Most tokens one completion may produce.
    pub max_tokens_per_call: u32,
    /// A running run whose worker has not beaten for this long is recovered.
    pub stale_after: Duration,
    /// How often an idle worker looks for queued runs.
    pub poll_interval: Duration,
    /// Recovered runs resume (keeping finished analysts) when true, else are marked
    /// `interrupted`.
    pub resume_interrupted: bool,
    /// Portfolio value the risk analyst's limits are quoted against.
    pub portfolio_value: rust_decimal::Decimal,
}

crate::settings! {
    /// `research`: research workers and their budgets.
    pub struct ResearchConfig {
        /// Background research workers in this instance (0 = this instance only serves the
        /// API).
        workers: u32 = 2; range = (0.0, 64.0),
        /// Analyst tasks (and decision rationales) running at once across all runs of this
        /// instance.
        max_concurrent_analysts: u32 = 16; range = (1.0, 1024.0),
        /// Analyst tasks running at once within one run (LLM calls are also bounded by each
        /// provider's `max_concurrent`).
        run_concurrency: u32 = 8; range = (1.0, 256.0),
        /// Token budget of a run that names no `max_tokens`; when it is used up, remaining LLM
        /// analysts are `skipped` with that reason.
        max_tokens: u64 = 200_000; range = (1.0, MAX_RUN_TOKENS as f64),
        /// Most tokens one completion of a run may produce.
        max_tokens_per_call: u32 = 2_048; range = (16.0, 1_000_000.0),
        /// A running run whose worker has not beaten for this long (seconds) is recovered.
        stale_after_secs: u64 = 60; range = (1.0, 86_400.0),
        /// How often an idle worker looks for queued runs (ms; runs submitted to the same
        /// instance start at once).
        poll_interval_ms: u64 = 1000; range = (10.0, 600_000.0),
        /// What recovery does with a run whose process died: `resume` (finished analysts kept,
        /// the rest re-run) or `mark` (status `interrupted`).
        on_interrupted: String = "resume".to_owned(),
        /// Portfolio value the risk analyst's limits are quoted against (currency units).
        portfolio_value: u64 = 1_000_000; range = (1.0, f64::INFINITY),
    }
}

impl ResearchSettings {
    /// The settings `config` declares.
    pub fn configured(config: &ResearchConfig) -> Self {
        Self {
            max_concurrent_analysts: config.max_concurrent_analysts as usize,
            run_concurrency: config.run_concurrency as usize,
            default_max_tokens: config.max_tokens,
            max_tokens_per_call: config.max_tokens_per_call,
            stale_after: Duration::from_secs(config.stale_after_secs),
            poll_interval: Duration::from_millis(config.poll_interval_ms),
            resume_interrupted: config.on_interrupted == "resume",
            portfolio_value: rust_decimal::Decimal::from(config.portfolio_value),
        }
    }
}

impl Default for ResearchSettings {
    fn default() -> Self {
        Self::configured(&ResearchConfig::default())
    }
}

/// A run as a caller asks for it, before validation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Submission {
    pub symbols: Vec<String>,
    pub analysts: Option<Vec<String>>,
    pub as_of: Option<NaiveDate>,
    pub llm_provider: Option<String>,
    pub debate_rounds: Option<u8>,
    pub max_tokens: Option<u64>,
}

/// One catalogue entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnalystInfo {
    pub name: &'static str,
    pub kind: AnalystKind,
    pub description: &'static str,
    /// Part of a run that names no analysts.
    pub default: bool,
}

/// How far a run has come.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Progress {
    /// Analyst tasks of the run (symbols × analysts).
    pub total: u64,
    pub done: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub skipped: u64,
    pub decisions: u64,
}

/// A run with everything it produced so far.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunView {
    #[serde(flatten)]
    pub run: Run,
    pub progress: Progress,
    pub usage: Usage,
    pub results: Vec<AnalystResult>,
    pub decisions: Vec<DecisionRecord>,
}

pub struct ResearchService {
    pub(crate) store: Arc<dyn ResearchStore>,
    pub(crate) market: Arc<dyn MarketDataStore>,
    pub(crate) gateway: Option<Arc<dyn LlmGateway>>,
    pub(crate) search: Option<Arc<dyn WebSearch>>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) settings: ResearchSettings,
    pub(crate) analysts: Vec<Arc<dyn Analyst>>,
    pub(crate) global: Arc<Semaphore>,
    pub(crate) notify: Arc<Notify>,
    /// The LLM usage ledger: a run's usage is what the ledger recorded for it.
    pub(crate) ledger: Option<Arc<dyn LlmUsageStore>>,
}

impl ResearchService {
    pub fn new(
        store: Arc<dyn ResearchStore>,
        market: Arc<dyn MarketDataStore>,
        gateway: Option<Arc<dyn LlmGateway>>,
        search: Option<Arc<dyn WebSearch>>,
        clock: Arc<dyn Clock>,
        settings: ResearchSettings,
    ) -> Self {
        let global = Arc::new(Semaphore::new(settings.max_concurrent_analysts.max(1)));
        Self {
            store,
            market,
            gateway,
            search,
            clock,
            settings,
            analysts: catalogue(),
            global,
            notify: Arc::new(Notify::new()),
            ledger: None,
        }
    }

    /// Reports a run's usage from the LLM usage ledger: every call it made, retries, invalid
    /// answers and failed calls included (the results and decisions carry only the usage of
    /// the calls whose answer they kept). Without a ledger, the sum of those is reported.
    #[must_use]
    pub fn with_usage_ledger(mut self, ledger: Arc<dyn LlmUsageStore>) -> Self {
        self.ledger = Some(ledger);
        self
    }

    /// The prefix of the ledger's `purpose` of every LLM call of run `id`.
    pub fn ledger_purpose(id: RunId) -> String {
        format!("run:{id} ")
    }

    pub fn settings(&self) -> &ResearchSettings {
        &self.settings
    }

    /// The analysts a run may name.
    pub fn catalogue(&self) -> Vec<AnalystInfo> {
        let defaults = default_analysts(0);
        self.analysts
            .iter()
            .map(|a| AnalystInfo {
                name: a.name(),
                kind: a.kind(),
                description: a.description(),
                default: defaults.iter().any(|d| d == a.name()),
            })
            .collect()
    }

    /// Validates and queues a run. Every problem is reported at once; symbols the database
    /// does not know are listed.
    ///
    /// # Errors
    /// `Validation` for bad input or unknown symbols; storage errors.
    pub async fn submit(&self, s: Submission) -> Result<Run, AppError> {
        let mut problems = Vec::new();
        if s.symbols.is_empty() || s.symbols.len() > MAX_SYMBOLS {
            problems.push(FieldProblem::new(
                "symbols",
                format!("give 1 to {MAX_SYMBOLS} symbols; got {}", s.symbols.len()),
            ));
        }
        let mut symbols: Vec<Symbol> = Vec::new();
        for (i, text) in s.symbols.iter().enumerate() {
            match Symbol::parse(text) {
                Ok(sym) if symbols.contains(&sym) => problems.push(FieldProblem::new(
                    format!("symbols[{i}]"),
                    format!("{sym} is listed twice"),
                )),
                Ok(sym) => symbols.push(sym),
                Err(e) => problems.push(FieldProblem::new(format!("symbols[{i}]"), e.to_string())),
            }
        }
        let debate_rounds = s.debate_rounds.unwrap_or(0);
        if debate_rounds > MAX_DEBATE_ROUNDS {
            problems.push(FieldProblem::new(
                "debate_rounds",
                format!("must be 0 to {MAX_DEBATE_ROUNDS}; got {debate_rounds}"),
            ));
        }
        let known: Vec<&'static str> = self.analysts.iter().map(|a| a.name()).collect();
        let analysts = match &s.analysts {
            None => default_analysts(debate_rounds),
            Some(list) if list.is_empty() => {
                problems.push(FieldProblem::new(
                    "analysts",
                    format!(
                        "name at least one analyst, or leave it out for the default set; known: {}",
                        known.join(", ")
                    ),
                ));
                Vec::new()
            }
            Some(list) => {
                for (i, name) in list.iter().enumerate() {
                    if !known.contains(&name.as_str()) {
                        problems.push(FieldProblem::new(
                            format!("analysts[{i}]"),
                            format!("unknown analyst '{name}'; known: {}", known.join(", ")),
                        ));
                    } else if list[..i].contains(name) {
                        problems.push(FieldProblem::new(
                            format!("analysts[{i}]"),
                            format!("'{name}' is listed twice"),
                        ));
                    }
                }
                if list.iter().any(|n| n == "debate") && debate_rounds == 0 {
                    problems.push(FieldProblem::new(
                        "debate_rounds",
                        "the debate analyst needs debate_rounds of 1 or more",
                    ));
                }
                // Catalogue order, so results and tables read the same way in every run.
                known
                    .iter()
                    .filter(|k| list.iter().any(|n| n == *k))
                    .map(|k| (*k).to_owned())
                    .collect()
            }
        };
        let max_tokens = s.max_tokens.unwrap_or(self.settings.default_max_tokens);
        if max_tokens == 0 || max_tokens > MAX_RUN_TOKENS {
            problems.push(FieldProblem::new(
                "max_tokens",
                format!("must be 1 to {MAX_RUN_TOKENS}; got {max_tokens}"),
            ));
        }
        if let Some(provider) = &s.llm_provider {
            let names: Vec<String> = self
                .gateway
                .as_ref()
                .map(|g| g.status().into_iter().map(|p| p.name).collect())
                .unwrap_or_default();
            if !names.contains(provider) {
                problems.push(FieldProblem::new(
                    "llm_provider",
                    if names.is_empty() {
                        format!("unknown provider '{provider}': no LLM provider is configured")
                    } else {
                        format!(
                            "unknown provider '{provider}'; configured: {}",
                            names.join(", ")
                        )
                    },
                ));
            }
        }
        let today = self.clock.today();
        if let Some(as_of) = s.as_of
            && as_of > today
        {
            problems.push(FieldProblem::new(
                "as_of",
                format!("{as_of} is in the future; the latest allowed is {today}"),
            ));
        }
        if !problems.is_empty() {
            return Err(validation(problems));
        }
        // Symbols the database knows neither as an instrument nor by its bars.
        let mut last_dates = Vec::new();
        let mut unknown = Vec::new();
        for (i, sym) in symbols.iter().enumerate() {
            let last = self.market.last_bar_date(sym).await?;
            if last.is_none() && self.market.instrument(sym).await?.is_none() {
                problems.push(FieldProblem::new(
                    format!("symbols[{i}]"),
                    format!("unknown symbol {sym}: no instrument or bars stored; sync instruments and daily bars first"),
                ));
                unknown.push(sym.to_string());
            }
            last_dates.extend(last);
        }
        if !unknown.is_empty() {
            return Err(AppError::Validation {
                message: format!("unknown symbols: {}", unknown.join(", ")),
                problems,
            });
        }
        let as_of_given = s.as_of.is_some();
        let as_of = s
            .as_of
            .unwrap_or_else(|| last_dates.iter().max().copied().unwrap_or(today));
        let run = NewRun {
            request: RunRequest {
                symbols,
                analysts,
                as_of,
                as_of_given,
                llm_provider: s.llm_provider,
                debate_rounds,
                max_tokens,
            },
        };
        let created = self.store.create_run(&run, self.clock.now()).await?;
        metrics::counter!("stockpilot_research_runs_total", "status" => "queued").increment(1);
        self.notify.notify_waiters();
        tracing::info!(run_id = %created.id, symbols = created.request.symbols.len(), "research run queued");
        Ok(created)
    }

    /// # Errors
    /// `NotFound`; storage errors.
    pub async fn run(&self, id: RunId) -> Result<Run, AppError> {
        self.store
            .run(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("research run '{id}' does not exist")))
    }

    /// The run with its results, decisions, progress and usage.
    ///
    /// # Errors
    /// `NotFound`; storage errors.
    pub async fn view(&self, id: RunId) -> Result<RunView, AppError> {
        let run = self.run(id).await?;
        let results = self.store.results(id).await?;
        let decisions = self.store.decisions(id).await?;
        let mut progress = Progress {
            total: (run.request.symbols.len() * run.request.analysts.len()) as u64,
            decisions: decisions.len() as u64,
            ..Progress::default()
        };
        for r in &results {
            progress.done += 1;
            match r.status {
                ResultStatus::Succeeded => progress.succeeded += 1,
                ResultStatus::Failed => progress.failed += 1,
                ResultStatus::Skipped => progress.skipped += 1,
            }
        }
        let usage = match &self.ledger {
            Some(ledger) => {
                let t = ledger.purpose_totals(&Self::ledger_purpose(id)).await?;
                Usage {
                    llm_calls: u32::try_from(t.calls).unwrap_or(u32::MAX),
                    prompt_tokens: t.prompt_tokens,
                    completion_tokens: t.completion_tokens,
                    cost_usd: t.cost_usd,
                }
            }
            None => {
                let mut usage = Usage::default();
                for u in results
                    .iter()
                    .map(|r| &r.usage)
                    .chain(decisions.iter().map(|d| &d.usage))
                {
                    usage.add(u);
                }
                usage
            }
        };
        Ok(RunView {
            run,
            progress,
            usage,
            results,
            decisions,
        })
    }

    /// # Errors
    /// Storage errors.
    pub async fn list(
        &self,
        filter: &RunFilter,
        offset: u64,
        limit: u64,
    ) -> Result<Page<Run>, AppError> {
        Ok(self.store.list_runs(filter, offset, limit).await?)
    }

    /// Cancels a queued run at once, or asks a running one's worker to stop.
    ///
    /// # Errors
    /// `NotFound`; `Conflict` when the run has already ended.
    pub async fn cancel(&self, id: RunId) -> Result<Run, AppError> {
        let run = self.run(id).await?;
        if run.status.is_final() {
            return Err(AppError::Conflict(format!(
                "research run '{id}' has already ended ({}); a finished run is immutable",
                run.status.as_str()
            )));
        }
        let run = self
            .store
            .request_cancel(id, self.clock.now())
            .await?
            .ok_or_else(|| AppError::NotFound(format!("research run '{id}' does not exist")))?;
        if run.status == RunStatus::Cancelled {
            metrics::counter!("stockpilot_research_runs_total", "status" => "cancelled")
                .increment(1);
        }
        self.notify.notify_waiters();
        Ok(run)
    }

    /// Stored events after `after`.
    ///
    /// # Errors
    /// `NotFound`; storage errors.
    pub async fn events(
        &self,
        id: RunId,
        after: i64,
        limit: u64,
    ) -> Result<Vec<RunEvent>, AppError> {
        Ok(self.store.events(id, after, limit).await?)
    }

    /// Resolves when this process appends an event to any run, or after `timeout` (events
    /// appended by other replicas are seen at the next poll).
    pub async fn wait_for_events(&self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, self.notify.notified()).await;
    }
}

fn validation(problems: Vec<FieldProblem>) -> AppError {
    AppError::Validation {
        message: problems
            .iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect::<Vec<_>>()
            .join("; "),
        problems,
    }
}
