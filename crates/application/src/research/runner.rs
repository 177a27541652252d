//! Executing a run: load each symbol's data, compute the risk limits across the symbols, run
//! every analyst of a symbol in parallel (bounded per run and per process), then decide.
//! Every step is stored as it happens, so a run interrupted anywhere resumes without
//! repeating finished analysts.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use futures_util::StreamExt;
use futures_util::future::join_all;
use serde::Deserialize;
use serde_json::json;
use stockpilot_domain::analysis::{
    AnalystSignal, Decision, DecisionWeights, PositionLimit, RiskParams, decide, price_levels,
    risk_limits,
};
use tokio::sync::Semaphore;

use super::analysts::{Analyst, AnalystError, AnalystKind, Budget, LlmAccess, ask};
use super::data::SymbolData;
use super::model::{AnalystResult, DecisionRecord, ResultStatus, Run, RunStatus, Usage, events};
use super::service::ResearchService;
use crate::ports::{ChatMessage, EventDraft, OutputSchema};
use crate::{AppError, RunId};

/// Analysts whose horizon is months rather than weeks.
const SLOW_ANALYSTS: [&str; 4] = [
    "fundamentals",
    "valuation",
    "value_investor",
    "growth_investor",
];

fn draft(kind: &'static str, data: serde_json::Value) -> EventDraft {
    EventDraft { kind, data }
}

/// The decision step of research runs and backtests: the weighted vote (default weights and
/// threshold) of every signal but the risk analyst's, sized within the symbol's risk limit when
/// the risk analyst is among the chosen analysts (else not sized, with a warning).
pub fn vote(data: &SymbolData, risk_chosen: bool, signals: &[AnalystSignal]) -> Decision {
    let voting: Vec<AnalystSignal> = signals
        .iter()
        .filter(|s| s.analyst != "risk")
        .cloned()
        .collect();
    let limit = risk_chosen.then_some(data.risk_limit.as_ref()).flatten();
    decide(&data.symbol, &voting, limit, &DecisionWeights::default())
}

#[derive(Debug, Deserialize)]
struct Rationale {
    rationale: String,
    #[serde(default)]
    risk_warnings: Vec<String>,
}

impl ResearchService {
    /// Runs `run` to its end (or until cancelled), storing results, decisions and events.
    /// Returns the final status.
    ///
    /// # Errors
    /// Storage errors; the run is then left `running` and is recovered later.
    pub async fn execute(&self, run: &Run) -> Result<RunStatus, AppError> {
        let id = run.id;
        let req = &run.request;
        let done: Vec<AnalystResult> = self.store.results(id).await?;
        let decided: HashSet<String> = self
            .store
            .decisions(id)
            .await?
            .into_iter()
            .map(|d| d.decision.symbol.to_string())
            .collect();
        self.event(
            id,
            draft(
                events::RUN_STARTED,
                json!({
                    "symbols": req.symbols.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "analysts": req.analysts,
                    "as_of": req.as_of,
                    "attempt": run.attempts,
                    "resumed_results": done.len(),
                }),
            ),
        )
        .await?;

        // Data of every symbol (the risk analyst correlates them with each other).
        let mut loaded = Vec::with_capacity(req.symbols.len());
        let mut stream = futures_util::stream::iter(req.symbols.iter().cloned())
            .map(|symbol| async move {
                SymbolData::load(
                    self.market.as_ref(),
                    self.store.as_ref(),
                    &symbol,
                    req.as_of,
                )
                .await
            })
            .buffered(self.settings.run_concurrency.max(1));
        while let Some(data) = stream.next().await {
            loaded.push(data?);
        }
        drop(stream);
        let series: Vec<_> = loaded
            .iter()
            .map(|d| (d.symbol.clone(), d.closes()))
            .collect();
        let limits: Vec<PositionLimit> = risk_limits(
            self.settings.portfolio_value,
            &series,
            req.as_of,
            &RiskParams::default(),
        );
        for (data, limit) in loaded.iter_mut().zip(limits) {
            data.risk_limit = Some(limit);
        }

        let budget = Arc::new(Budget::new(req.max_tokens, run.tokens()));
        let llm = LlmAccess {
            gateway: self.gateway.clone(),
            search: self.search.clone(),
            provider: req.llm_provider.clone(),
            budget,
            purpose_prefix: super::ResearchService::ledger_purpose(id),
            debate_rounds: req.debate_rounds,
            max_tokens_per_call: self.settings.max_tokens_per_call,
            temperature: super::analysts::RESEARCH_TEMPERATURE,
        };
        let per_run = Arc::new(Semaphore::new(self.settings.run_concurrency.max(1)));
        let chosen: Vec<Arc<dyn Analyst>> = self
            .analysts
            .iter()
            .filter(|a| req.analysts.iter().any(|n| n == a.name()))
            .cloned()
            .collect();
        let symbol_runs = loaded.iter().map(|data| {
            let previous: Vec<AnalystResult> = done
                .iter()
                .filter(|r| r.symbol == data.symbol)
                .cloned()
                .collect();
            self.symbol(
                id,
                data,
                &chosen,
                previous,
                !decided.contains(&data.symbol.to_string()),
                &llm,
                &per_run,
            )
        });
        for outcome in join_all(symbol_runs).await {
            outcome?;
        }

        let view = self.view(id).await?;
        let finished = self
            .store
            .finish(
                id,
                RunStatus::Succeeded,
                None,
                &draft(
                    events::RUN_FINISHED,
                    json!({
                        "status": "succeeded",
                        "decisions": view.progress.decisions,
                        "succeeded": view.progress.succeeded,
                        "failed": view.progress.failed,
                        "skipped": view.progress.skipped,
                        "tokens": view.usage.tokens(),
                        "cost_usd": view.usage.cost_usd,
                    }),
                ),
                self.clock.now(),
            )
            .await?;
        self.notify.notify_waiters();
        if finished {
            metrics::counter!("stockpilot_research_runs_total", "status" => "succeeded")
                .increment(1);
            Ok(RunStatus::Succeeded)
        } else {
            Ok(self.run(id).await?.status)
        }
    }

    async fn event(&self, id: RunId, event: EventDraft) -> Result<i64, AppError> {
        let seq = self
            .store
            .append_event(id, &event, self.clock.now())
            .await?;
        self.notify.notify_waiters();
        Ok(seq)
    }

    /// Every analyst of one symbol not finished yet, in parallel, then its decision.
    #[allow(clippy::too_many_arguments)]
    async fn symbol(
        &self,
        id: RunId,
        data: &SymbolData,
        analysts: &[Arc<dyn Analyst>],
        previous: Vec<AnalystResult>,
        needs_decision: bool,
        llm: &LlmAccess,
        per_run: &Semaphore,
    ) -> Result<(), AppError> {
        let pending: Vec<_> = analysts
            .iter()
            .filter(|a| !previous.iter().any(|r| r.analyst == a.name()))
            .map(|a| self.one(id, data, a.as_ref(), llm, per_run))
            .collect();
        let mut results = previous;
        for r in join_all(pending).await {
            results.push(r?);
        }
        if needs_decision {
            self.decide(id, data, analysts, &results, llm, per_run)
                .await?;
        }
        Ok(())
    }

    async fn one(
        &self,
        id: RunId,
        data: &SymbolData,
        analyst: &dyn Analyst,
        llm: &LlmAccess,
        per_run: &Semaphore,
    ) -> Result<AnalystResult, AppError> {
        let (Ok(_run_permit), Ok(_permit)) = (per_run.acquire().await, self.global.acquire().await)
        else {
            return Err(AppError::Unavailable(
                "the research runner is shutting down".into(),
            ));
        };
        let name = analyst.name();
        self.event(
            id,
            draft(
                events::ANALYST_STARTED,
                json!({"symbol": data.symbol, "analyst": name}),
            ),
        )
        .await?;
        let started = Instant::now();
        metrics::gauge!("stockpilot_active_analysts").increment(1.0);
        let outcome = analyst.analyze(data, llm).await;
        metrics::gauge!("stockpilot_active_analysts").decrement(1.0);
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        metrics::histogram!("stockpilot_analyst_duration_seconds", "analyst" => name)
            .record(started.elapsed().as_secs_f64());
        let (result, event) = match outcome {
            Ok(o) => {
                let event = draft(
                    events::ANALYST_FINISHED,
                    json!({
                        "symbol": data.symbol,
                        "analyst": name,
                        "status": "succeeded",
                        "signal": o.signal.signal,
                        "confidence": o.signal.confidence,
                        "tokens": o.usage.tokens(),
                    }),
                );
                let result = AnalystResult {
                    symbol: data.symbol.clone(),
                    analyst: name.to_owned(),
                    status: ResultStatus::Succeeded,
                    signal: Some(o.signal),
                    reason: None,
                    usage: o.usage,
                    duration_ms,
                    finished_at: self.clock.now(),
                };
                (result, event)
            }
            Err(AnalystError::Skipped(reason)) => {
                let event = draft(
                    events::ANALYST_FINISHED,
                    json!({"symbol": data.symbol, "analyst": name, "status": "skipped", "reason": reason}),
                );
                (
                    self.unfinished(data, name, ResultStatus::Skipped, reason, duration_ms),
                    event,
                )
            }
            Err(AnalystError::Failed(reason)) => {
                tracing::warn!(run_id = %id, symbol = %data.symbol, analyst = name, %reason, "analyst failed");
                let event = draft(
                    events::ANALYST_FAILED,
                    json!({"symbol": data.symbol, "analyst": name, "status": "failed", "reason": reason}),
                );
                (
                    self.unfinished(data, name, ResultStatus::Failed, reason, duration_ms),
                    event,
                )
            }
        };
        metrics::counter!("stockpilot_analyst_results_total", "analyst" => name, "status" => result.status.as_str()).increment(1);
        self.store
            .record_result(id, &result, &event, self.clock.now())
            .await?;
        self.notify.notify_waiters();
        Ok(result)
    }

    fn unfinished(
        &self,
        data: &SymbolData,
        name: &str,
        status: ResultStatus,
        reason: String,
        duration_ms: u64,
    ) -> AnalystResult {
        AnalystResult {
            symbol: data.symbol.clone(),
            analyst: name.to_owned(),
            status,
            signal: None,
            reason: Some(reason),
            usage: Usage::default(),
            duration_ms,
            finished_at: self.clock.now(),
        }
    }

    /// The portfolio manager: a deterministic weighted vote sized by the risk limit, with an
    /// LLM-written rationale when an LLM is available and the budget allows.
    async fn decide(
        &self,
        id: RunId,
        data: &SymbolData,
        analysts: &[Arc<dyn Analyst>],
        results: &[AnalystResult],
        llm: &LlmAccess,
        per_run: &Semaphore,
    ) -> Result<(), AppError> {
        let signals: Vec<AnalystSignal> = results
            .iter()
            .filter(|r| r.analyst != "risk")
            .filter_map(|r| r.signal.clone())
            .collect();
        let risk_chosen = analysts.iter().any(|a| a.name() == "risk");
        let limit = risk_chosen.then_some(data.risk_limit.as_ref()).flatten();
        let mut decision = vote(data, risk_chosen, &signals);
        for r in results
            .iter()
            .filter(|r| r.status != ResultStatus::Succeeded)
        {
            decision.risk_warnings.push(format!(
                "{}: {} ({})",
                r.analyst,
                r.status.as_str(),
                r.reason.as_deref().unwrap_or("no reason given")
            ));
        }
        let levels = price_levels(decision.action, &data.bars, data.as_of);
        let slow = results
            .iter()
            .filter(|r| r.signal.as_ref().and_then(AnalystSignal::score).is_some())
            .any(|r| SLOW_ANALYSTS.contains(&r.analyst.as_str()));
        let time_horizon = if slow { "6-12 months" } else { "2-8 weeks" }.to_owned();
        let vote_reasoning = decision.reasoning.clone();
        let mut usage = Usage::default();
        let mut rationale_by = "deterministic".to_owned();
        let llm_used = analysts.iter().any(|a| a.kind() == AnalystKind::Llm);
        if llm_used && llm.unavailable().is_none() && !decision.contributing.is_empty() {
            match self
                .rationale(data, &decision, &signals, llm, per_run, &mut usage)
                .await
            {
                Ok(r) => {
                    decision.reasoning = r.rationale;
                    decision.risk_warnings.extend(r.risk_warnings);
                    rationale_by = "llm".into();
                }
                Err(reason) => decision.risk_warnings.push(format!(
                    "LLM rationale not written: {reason}; the vote's reasoning is shown"
                )),
            }
        }
        let record = DecisionRecord {
            max_position_pct: limit.map(|l| l.max_position_pct),
            decision,
            levels,
            time_horizon,
            vote_reasoning,
            rationale_by,
            usage,
            decided_at: self.clock.now(),
        };
        let event = draft(
            events::DECISION,
            json!({
                "symbol": data.symbol,
                "action": record.decision.action,
                "confidence": record.decision.confidence,
                "position_pct": record.decision.position_pct,
                "rationale_by": record.rationale_by,
            }),
        );
        self.store
            .record_decision(id, &record, &event, self.clock.now())
            .await?;
        self.notify.notify_waiters();
        Ok(())
    }

    async fn rationale(
        &self,
        data: &SymbolData,
        decision: &stockpilot_domain::analysis::Decision,
        signals: &[AnalystSignal],
        llm: &LlmAccess,
        per_run: &Semaphore,
        usage: &mut Usage,
    ) -> Result<Rationale, String> {
        let (Ok(_run_permit), Ok(_permit)) = (per_run.acquire().await, self.global.acquire().await)
        else {
            return Err("the research runner is shutting down".into());
        };
        let views: Vec<String> = signals
            .iter()
            .map(|s| {
                format!(
                    "- {}: {} (confidence {}): {}",
                    s.analyst,
                    s.signal,
                    s.confidence.value(),
                    s.reasoning
                )
            })
            .collect();
        let messages = vec![
            ChatMessage::system(
                "You are a portfolio manager writing the rationale of a decision that has already been made by a weighted vote of analysts. Do not change the action or the size. Explain it in at most 150 words from the analysts' views and the figures given only; never recall figures from memory. Answer with one JSON object {\"rationale\": \"…\", \"risk_warnings\": [\"…\"]}.",
            ),
            ChatMessage::user(format!(
                "{}\nDecision: {:?}, confidence {}, position {:.2} % of the portfolio.\nVote: {}\nAnalysts:\n{}",
                data.digest.to_prompt(),
                decision.action,
                decision.confidence.value(),
                decision.position_pct * 100.0,
                decision.reasoning,
                views.join("\n")
            )),
        ];
        let schema = OutputSchema {
            name: "decision_rationale".into(),
            schema: json!({
                "type": "object",
                "properties": {
                    "rationale": {"type": "string", "minLength": 1},
                    "risk_warnings": {"type": "array", "items": {"type": "string"}}
                },
                "required": ["rationale", "risk_warnings"],
                "additionalProperties": false
            }),
            example: json!({"rationale": "Technical and value views agree…", "risk_warnings": []}),
        };
        let check = |r: &Rationale| {
            if r.rationale.trim().is_empty() {
                Err("rationale is empty".to_owned())
            } else {
                Ok(())
            }
        };
        // The same call path as the LLM analysts: availability, the run's budget, the
        // per-call token cap, structured output and usage.
        ask(llm, llm.purpose("decision"), messages, schema, check, usage)
            .await
            .map_err(|e| match e {
                AnalystError::Skipped(reason) | AnalystError::Failed(reason) => reason,
            })
    }

    /// Recovers runs whose worker died, claims at most one queued run and executes it
    /// ([`crate::queue::work_once`]). Returns whether one ran.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn work_once(&self, worker: &str) -> Result<bool, AppError> {
        crate::queue::work_once(self, worker).await
    }

    async fn recover(&self) -> Result<(), AppError> {
        let now = self.clock.now();
        let stale_before = crate::queue::QueueWork::timing(self).stale_before(now);
        let ids = self
            .store
            .recover_stale(stale_before, self.settings.resume_interrupted, now)
            .await?;
        if !ids.is_empty() {
            if self.settings.resume_interrupted {
                tracing::warn!(runs = ?ids, "research runs whose worker stopped are queued again; finished analysts are kept");
            } else {
                tracing::warn!(runs = ?ids, "research runs whose worker stopped are marked interrupted");
                metrics::counter!("stockpilot_research_runs_total", "status" => "interrupted")
                    .increment(ids.len() as u64);
            }
            self.notify.notify_waiters();
        }
        Ok(())
    }

    async fn fail(&self, id: RunId, error: &AppError) {
        let reason = match error {
            AppError::Internal(e) => format!("{e:#}"),
            other => other.to_string(),
        };
        tracing::error!(run_id = %id, error = %reason, "research run failed");
        let event = draft(events::RUN_FAILED, json!({"reason": reason}));
        match self
            .store
            .finish(
                id,
                RunStatus::Failed,
                Some(reason),
                &event,
                self.clock.now(),
            )
            .await
        {
            Ok(true) => metrics::counter!("stockpilot_research_runs_total", "status" => "failed")
                .increment(1),
            Ok(false) => {}
            Err(e) => {
                tracing::error!(run_id = %id, error = %e, "cannot record the run's failure; it will be recovered")
            }
        }
        self.notify.notify_waiters();
    }

    async fn cancelled(&self, id: RunId) {
        let event = draft(
            events::RUN_CANCELLED,
            json!({"reason": "cancelled on request"}),
        );
        match self
            .store
            .finish(
                id,
                RunStatus::Cancelled,
                Some("cancelled on request".into()),
                &event,
                self.clock.now(),
            )
            .await
        {
            Ok(true) => {
                metrics::counter!("stockpilot_research_runs_total", "status" => "cancelled")
                    .increment(1)
            }
            Ok(false) => {}
            Err(e) => tracing::error!(run_id = %id, error = %e, "cannot record the cancellation"),
        }
        self.notify.notify_waiters();
    }

    /// Claims the queued run `id` for `worker`; `None` when it is not queued any more.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn claim(&self, id: RunId, worker: &str) -> Result<Option<Run>, AppError> {
        Ok(self.store.claim(Some(id), worker, self.clock.now()).await?)
    }
}

#[async_trait::async_trait]
impl crate::queue::QueueWork for ResearchService {
    type Job = Run;
    const KIND: &'static str = super::QUEUE_KIND;

    fn timing(&self) -> crate::queue::QueueTiming {
        crate::queue::QueueTiming {
            poll_interval: self.settings.poll_interval,
            stale_after: self.settings.stale_after,
        }
    }

    fn job_id(run: &Run) -> String {
        run.id.to_string()
    }

    async fn recover(&self) -> Result<(), AppError> {
        ResearchService::recover(self).await
    }

    async fn claim(&self, worker: &str) -> Result<Option<Run>, AppError> {
        Ok(self.store.claim(None, worker, self.clock.now()).await?)
    }

    async fn execute(&self, run: &Run) -> Result<(), AppError> {
        tracing::info!(run_id = %run.id, attempt = run.attempts, "research run started");
        let status = ResearchService::execute(self, run).await?;
        tracing::info!(run_id = %run.id, status = status.as_str(), "research run ended");
        Ok(())
    }

    async fn failed(&self, run: &Run, error: &AppError) {
        self.fail(run.id, error).await;
    }

    async fn beat(&self, run: &Run, worker: &str) -> Result<bool, AppError> {
        Ok(self
            .store
            .heartbeat(run.id, worker, self.clock.now())
            .await?)
    }

    async fn cancelled(&self, run: &Run) {
        ResearchService::cancelled(self, run.id).await;
    }

    /// Finished analysts are kept; the next claimer resumes the run.
    async fn hand_back(&self, run: &Run, worker: &str) {
        let _ = self.store.release(run.id, worker, self.clock.now()).await;
        self.notify.notify_waiters();
    }

    fn wake(&self) -> Option<&tokio::sync::Notify> {
        Some(&self.notify)
    }
}
