//! The research backtest: the analysts of research runs replayed as of each rebalance date,
//! their decisions turned into target weights for the simulator, and the information
//! coefficient of each analyst's score against the return that followed.
//!
//! Point in time: each symbol's [`History`] is loaded once and cut with [`History::as_of`] at
//! every rebalance date, the same cut a research run as of that date reads; the risk limits,
//! the analysts and the decision step ([`vote`]) are those of research runs.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate};
use futures_util::StreamExt;
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use stockpilot_domain::analysis::{Action, AnalystSignal, Decision, RiskParams, risk_limits};
use stockpilot_domain::backtest::{
    FillAt, InformationCoefficient, Outcome, Panel, Rebalance, Simulation, Targets,
    information_coefficient,
};
use stockpilot_domain::market::{DateRange, Exchange, Symbol};

use super::{load_panel, open_days};
use crate::AppError;
use crate::ports::{LlmGateway, MarketDataStore, ResearchStore};
use crate::research::analysts::{Analyst, AnalystError, Budget, LlmAccess, catalogue};
use crate::research::data::{History, SymbolData};
use crate::research::model::Usage;
use crate::research::vote;

/// Symbols one backtest may replay.
pub const MAX_SYMBOLS: usize = 500;
/// Analyst views computed at once (they wait on LLM calls, if any).
const CONCURRENCY: usize = 8;
/// Rebalance dates whose data is cut in one go (spread over the cores).
const BATCH_DATES: usize = 32;
/// Symbols' histories loaded at once.
const LOAD_CONCURRENCY: usize = 4;

/// What the LLM analysts of a backtest may use.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LlmPlan {
    /// A provider by name, or the gateway's priority order.
    pub provider: Option<String>,
    /// Calls the backtest may make; one that needs more refuses to start.
    pub max_calls: u64,
    /// Tokens its calls may use together.
    pub max_tokens: u64,
    pub debate_rounds: u8,
    /// Tokens one completion may produce at most.
    pub max_tokens_per_call: u32,
}

/// A backtest to run.
#[derive(Debug, Clone)]
pub struct BacktestRequest {
    pub symbols: Vec<Symbol>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Analyst names; `risk` must be one of them (it sizes the positions).
    pub analysts: Vec<String>,
    pub rebalance: Rebalance,
    pub simulation: Simulation,
    pub llm: LlmPlan,
}

/// One line of `decisions.csv`: an analyst's view of a symbol at a rebalance date, or the
/// decision (`analyst` = `decision`, `signal` = buy/sell/hold, `weight` = the target weight).
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionRow {
    pub date: NaiveDate,
    /// Index into the panel's symbols.
    pub symbol: usize,
    pub analyst: String,
    /// bullish, bearish, neutral, insufficient_data, failed or skipped; buy, sell or hold.
    pub signal: String,
    /// The score the IC uses: ± confidence as a fraction (0 neutral), `None` without a view.
    pub score: Option<f64>,
    pub confidence: u8,
    /// For the decision: the target weight handed to the simulator.
    pub weight: Option<f64>,
    /// Adjusted return from the fill after this date to the fill after the next rebalance
    /// date (or the last close of the range); `None` without a fill after this date.
    pub forward_return: Option<f64>,
    /// Why a view is missing (failed or skipped).
    pub reason: Option<String>,
}

/// The IC of one analyst over the run (`period` = `all`) or one calendar year.
#[derive(Debug, Clone, PartialEq)]
pub struct IcRow {
    pub analyst: String,
    pub period: String,
    pub ic: InformationCoefficient,
}

/// Where a backtest's time went.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    /// Reading the store: bars for the simulator and every symbol's history.
    pub load: Duration,
    /// Cutting the histories as of each date and computing the risk limits.
    pub point_in_time: Duration,
    /// The analysts' views and the decisions.
    pub analysts: Duration,
    /// The simulator and the ICs.
    pub simulate: Duration,
}

/// A finished backtest.
#[derive(Debug, Clone)]
pub struct Backtest {
    pub panel: Panel,
    /// Indexes into the panel's dates of the rebalance dates.
    pub rebalance_days: Vec<usize>,
    pub outcome: Outcome,
    pub rows: Vec<DecisionRow>,
    pub ic: Vec<IcRow>,
    pub usage: Usage,
    pub timings: Timings,
    /// The exchange whose stored calendar the dates follow; `None`: the days the symbols
    /// traded (no calendar of the exchange is stored).
    pub calendar: Option<Exchange>,
}

impl Backtest {
    /// Symbols × rebalance dates analysed.
    pub fn symbol_days(&self) -> usize {
        self.panel.symbols().len() * self.rebalance_days.len()
    }
}

/// Runs backtests over the research ports.
pub struct BacktestService {
    market: Arc<dyn MarketDataStore>,
    research: Arc<dyn ResearchStore>,
    gateway: Option<Arc<dyn LlmGateway>>,
    analysts: Vec<Arc<dyn Analyst>>,
}

impl BacktestService {
    /// A service over the stores and, for LLM analysts, the gateway; the analysts are
    /// research's catalogue. There is no web search: a search engine cannot be held to what
    /// was published as of a past date, so the news analyst reads stored news only.
    pub fn new(
        market: Arc<dyn MarketDataStore>,
        research: Arc<dyn ResearchStore>,
        gateway: Option<Arc<dyn LlmGateway>>,
    ) -> BacktestService {
        BacktestService {
            market,
            research,
            gateway,
            analysts: catalogue(),
        }
    }

    /// The chosen analysts, after checking the request.
    fn check(&self, req: &BacktestRequest) -> Result<Vec<Arc<dyn Analyst>>, AppError> {
        if req.symbols.is_empty() || req.symbols.len() > MAX_SYMBOLS {
            return Err(AppError::invalid(
                "symbols",
                format!(
                    "{} symbols given; a backtest replays 1 to {MAX_SYMBOLS}",
                    req.symbols.len()
                ),
            ));
        }
        for (i, s) in req.symbols.iter().enumerate() {
            if req.symbols[..i].contains(s) {
                return Err(AppError::invalid("symbols", format!("{s} is given twice")));
            }
            if s.market() != req.symbols[0].market() {
                return Err(AppError::invalid(
                    "symbols",
                    format!(
                        "{s} and {} trade on different markets; a backtest replays one market's calendar and rules",
                        req.symbols[0]
                    ),
                ));
            }
        }
        if !(req.simulation.cash.is_finite() && req.simulation.cash > 0.0) {
            return Err(AppError::invalid(
                "cash",
                format!("{} is not an amount > 0", req.simulation.cash),
            ));
        }
        if let Err(e) = req.simulation.rules.check() {
            return Err(AppError::invalid(e.option, e.message));
        }
        if req.from > req.to {
            return Err(AppError::invalid(
                "from",
                format!("{} is after to {}", req.from, req.to),
            ));
        }
        let known: Vec<&str> = self.analysts.iter().map(|a| a.name()).collect();
        if req.analysts.is_empty() {
            return Err(AppError::invalid(
                "analysts",
                format!("name at least one of: {}", known.join(", ")),
            ));
        }
        for (i, name) in req.analysts.iter().enumerate() {
            if req.analysts[..i].contains(name) {
                return Err(AppError::invalid(
                    "analysts",
                    format!("'{name}' is given twice"),
                ));
            }
            if !known.contains(&name.as_str()) {
                return Err(AppError::invalid(
                    "analysts",
                    format!("'{name}' is not one of: {}", known.join(", ")),
                ));
            }
        }
        if !req.analysts.iter().any(|n| n == "risk") {
            return Err(AppError::invalid(
                "analysts",
                "add risk: a backtest sizes every position within the risk analyst's limit",
            ));
        }
        if req.analysts.iter().all(|n| n == "risk") {
            return Err(AppError::invalid(
                "analysts",
                "risk sizes positions but does not vote; add an analyst that does (e.g. technical)",
            ));
        }
        Ok(self
            .analysts
            .iter()
            .filter(|a| req.analysts.iter().any(|n| n == a.name()))
            .cloned()
            .collect())
    }

    /// Checks the request, then replays it: loads the bars and histories, runs the analysts as
    /// of each rebalance date, simulates the decisions' weights and computes the ICs.
    /// `progress(done, total)` is called after each rebalance date.
    ///
    /// # Errors
    /// `Validation` naming the field for a bad request, or a backtest whose LLM analysts need
    /// more calls than `llm.max_calls` (the message says how many) or have no provider;
    /// `NotFound` for an unknown symbol; storage errors.
    pub async fn run(
        &self,
        req: &BacktestRequest,
        progress: &(dyn Fn(usize, usize) + Send + Sync),
    ) -> Result<Backtest, AppError> {
        let chosen = self.check(req)?;
        let mut timings = Timings::default();
        let started = Instant::now();
        let range = DateRange::new(req.from, req.to, None)
            .map_err(|e| AppError::invalid("from", e.to_string()))?;
        // The exchange's open days when the store has its calendar (days on which none of the
        // symbols traded still count), else the days the symbols traded.
        let exchange = req.symbols[0].exchange();
        let open = open_days(self.market.as_ref(), exchange, range).await?;
        let calendar = (!open.is_empty()).then_some(exchange);
        let panel = load_panel(self.market.as_ref(), &req.symbols, range, &open).await?;
        if panel.dates().len() < 2 {
            return Err(AppError::invalid(
                "to",
                format!(
                    "{} to {} holds {} trading day(s) of the symbols; a backtest needs at least 2",
                    req.from,
                    req.to,
                    panel.dates().len()
                ),
            ));
        }
        let days = req.rebalance.days(panel.dates());
        let llm = self.plan(req, &chosen, days.len())?;

        let (first, last) = (panel.dates()[days[0]], panel.dates()[days[days.len() - 1]]);
        let histories: Vec<History> = futures_util::stream::iter(req.symbols.iter())
            .map(|symbol| {
                History::load(
                    self.market.as_ref(),
                    self.research.as_ref(),
                    symbol,
                    first,
                    last,
                )
            })
            .buffered(LOAD_CONCURRENCY)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_, _>>()?;
        timings.load = started.elapsed();

        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let portfolio = Decimal::from_f64(req.simulation.cash).unwrap_or(Decimal::ONE);
        let mut rows = Vec::new();
        let mut targets: Vec<Targets> = Vec::new();
        let mut weights = vec![0.0; req.symbols.len()];
        let mut usage = Usage::default();
        let mut done = 0;
        for batch in days.chunks(BATCH_DATES) {
            let cutting = Instant::now();
            let dates: Vec<NaiveDate> = batch.iter().map(|&d| panel.dates()[d]).collect();
            let cuts = cut(&histories, &dates, threads);
            timings.point_in_time += cutting.elapsed();
            for ((mut data, &day), t) in cuts.into_iter().zip(batch).zip(dates) {
                let cutting = Instant::now();
                let series: Vec<_> = data
                    .iter()
                    .map(|d| (d.symbol.clone(), d.closes()))
                    .collect();
                for (d, limit) in
                    data.iter_mut()
                        .zip(risk_limits(portfolio, &series, t, &RiskParams::default()))
                {
                    d.risk_limit = Some(limit);
                }
                timings.point_in_time += cutting.elapsed();

                let views = Instant::now();
                let (mut step, signals) = views_at(t, &data, &chosen, &llm, &mut usage).await;
                // Research's decision step: `risk` is always chosen (checked), so it sizes.
                let decisions: Vec<Decision> = data
                    .iter()
                    .zip(&signals)
                    .map(|(d, signals)| vote(d, true, signals))
                    .collect();
                let next = target_weights(&data, &decisions, &weights);
                for (s, decision) in decisions.iter().enumerate() {
                    let sign = match decision.action {
                        Action::Buy => 1.0,
                        Action::Sell => -1.0,
                        Action::Hold => 0.0,
                    };
                    step.push(DecisionRow {
                        date: t,
                        symbol: s,
                        analyst: "decision".into(),
                        signal: decision.action.as_str().to_owned(),
                        // No analyst had a usable view: no score (left out of the IC).
                        score: (!decision.contributing.is_empty())
                            .then(|| sign * decision.confidence.fraction()),
                        confidence: decision.confidence.value(),
                        weight: Some(next[s]),
                        forward_return: None,
                        reason: None,
                    });
                }
                rows.append(&mut step);
                if next != weights || targets.is_empty() {
                    targets.push(Targets {
                        day,
                        weights: next
                            .iter()
                            .enumerate()
                            .filter(|(_, w)| **w > 0.0)
                            .map(|(s, w)| (s, *w))
                            .collect(),
                    });
                    weights = next;
                }
                timings.analysts += views.elapsed();
                done += 1;
                progress(done, days.len());
            }
        }

        let sim = Instant::now();
        let outcome = req
            .simulation
            .run(&panel, &targets)
            .map_err(|e| AppError::invalid("rules", e.0))?;
        let forward = forward_returns(&panel, &days, req.simulation.rules.fill);
        for row in &mut rows {
            // The row's rebalance date, as an index into `days`.
            let k = days.partition_point(|&d| panel.dates()[d] < row.date);
            row.forward_return = forward[k][row.symbol];
        }
        let mut names: Vec<String> = req
            .analysts
            .iter()
            .filter(|n| *n != "risk")
            .cloned()
            .collect();
        names.push("decision".into());
        let ic = ics(&rows, &names);
        timings.simulate = sim.elapsed();
        Ok(Backtest {
            panel,
            rebalance_days: days,
            outcome,
            rows,
            ic,
            usage,
            timings,
            calendar,
        })
    }

    /// The LLM access of a backtest, after checking that its calls fit the plan.
    fn plan(
        &self,
        req: &BacktestRequest,
        chosen: &[Arc<dyn Analyst>],
        dates: usize,
    ) -> Result<LlmAccess, AppError> {
        let per_view: u64 = chosen
            .iter()
            .map(|a| a.calls_per_view(req.llm.debate_rounds))
            .sum();
        let needed = per_view * req.symbols.len() as u64 * dates as u64;
        let access = LlmAccess {
            gateway: self.gateway.clone(),
            search: None,
            provider: req.llm.provider.clone(),
            budget: Arc::new(Budget::new(req.llm.max_tokens, 0)),
            purpose_prefix: format!("run:backtest-{}-{} ", req.from, req.to),
            debate_rounds: req.llm.debate_rounds,
            max_tokens_per_call: req.llm.max_tokens_per_call,
            temperature: 0.0,
        };
        if needed == 0 {
            return Ok(access);
        }
        if let Some(reason) = access.unavailable() {
            return Err(AppError::invalid(
                "analysts",
                format!("the LLM analysts need a provider: {reason}"),
            ));
        }
        if needed > req.llm.max_calls {
            return Err(AppError::invalid(
                "max_llm_calls",
                format!(
                    "this backtest needs up to {needed} LLM calls ({per_view} per symbol and date × {} symbols × {dates} rebalance dates); the budget allows {}",
                    req.symbols.len(),
                    req.llm.max_calls
                ),
            ));
        }
        Ok(access)
    }
}

/// The chosen analysts' views of every symbol as of `t`, as rows, and each symbol's signals.
async fn views_at(
    t: NaiveDate,
    data: &[SymbolData],
    chosen: &[Arc<dyn Analyst>],
    llm: &LlmAccess,
    usage: &mut Usage,
) -> (Vec<DecisionRow>, Vec<Vec<AnalystSignal>>) {
    let pairs = data
        .iter()
        .enumerate()
        .flat_map(|(s, d)| chosen.iter().map(move |a| (s, d, a)));
    let outcomes: Vec<_> = futures_util::stream::iter(pairs)
        .map(|(s, d, a)| async move { (s, a.name(), a.analyze(d, llm).await) })
        .buffered(CONCURRENCY)
        .collect()
        .await;
    let mut rows = Vec::with_capacity(outcomes.len() + data.len());
    let mut signals = vec![Vec::new(); data.len()];
    for (s, name, outcome) in outcomes {
        let mut row = DecisionRow {
            date: t,
            symbol: s,
            analyst: name.to_owned(),
            signal: String::new(),
            score: None,
            confidence: 0,
            weight: None,
            forward_return: None,
            reason: None,
        };
        match outcome {
            Ok(o) => {
                usage.add(&o.usage);
                row.signal = o.signal.signal.as_str().to_owned();
                row.score = o.signal.score();
                row.confidence = o.signal.confidence.value();
                signals[s].push(o.signal);
            }
            Err(AnalystError::Failed(reason)) => {
                row.signal = "failed".into();
                row.reason = Some(reason);
            }
            Err(AnalystError::Skipped(reason)) => {
                row.signal = "skipped".into();
                row.reason = Some(reason);
            }
        }
        rows.push(row);
    }
    (rows, signals)
}

/// The weights rule: buy → the decision's position (risk limit × confidence); sell → 0; hold
/// → the previous weight capped at the new risk limit; scaled down together when they sum
/// above 1.
fn target_weights(data: &[SymbolData], decisions: &[Decision], previous: &[f64]) -> Vec<f64> {
    let mut next: Vec<f64> = data
        .iter()
        .zip(decisions)
        .zip(previous)
        .map(|((d, decision), previous)| {
            let limit = d.risk_limit.as_ref().map_or(0.0, |l| l.max_position_pct);
            match decision.action {
                Action::Buy => decision.position_pct,
                Action::Sell => 0.0,
                Action::Hold => previous.min(limit),
            }
        })
        .collect();
    let gross: f64 = next.iter().sum();
    if gross > 1.0 {
        for w in &mut next {
            *w /= gross;
        }
    }
    next
}

/// Every history as of each of `dates` (`[date][symbol]`), cut on up to `threads` threads:
/// the cut is CPU work (adjusting some hundred bars per symbol), spread evenly by taking the
/// (date, symbol) pairs in turn.
fn cut(histories: &[History], dates: &[NaiveDate], threads: usize) -> Vec<Vec<SymbolData>> {
    let n = histories.len();
    let items = dates.len() * n;
    let one = |i: usize| histories[i % n].as_of(dates[i / n]);
    let mut all: Vec<Option<SymbolData>> = Vec::with_capacity(items);
    if threads < 2 || items < 2 {
        all.extend((0..items).map(|i| Some(one(i))));
    } else {
        all.resize_with(items, || None);
        let one = &one;
        std::thread::scope(|scope| {
            let parts: Vec<_> = (0..threads.min(items))
                .map(|j| {
                    scope.spawn(move || {
                        (j..items)
                            .step_by(threads)
                            .map(|i| (i, one(i)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for part in parts {
                for (i, data) in part.join().unwrap_or_else(|e| std::panic::resume_unwind(e)) {
                    all[i] = Some(data);
                }
            }
        });
    }
    let mut all = all.into_iter().flatten();
    (0..dates.len())
        .map(|_| all.by_ref().take(n).collect())
        .collect()
}

/// Per rebalance date and symbol, the adjusted return from the fill after that date (the next
/// trading day; none when the symbol has no bar then, as the simulator cannot fill) to the fill
/// after the next rebalance date — or, when the symbol has no bar that day or there is no next
/// rebalance date inside the range, its last close before then (the range's last close after
/// the last date).
fn forward_returns(panel: &Panel, days: &[usize], fill: FillAt) -> Vec<Vec<Option<f64>>> {
    let n = panel.symbols().len();
    let last = panel.dates().len() - 1;
    // A price point: (day, taken at the close?) and the adjusted price; points order by time.
    let at = |day: usize, symbol: usize, at: FillAt| {
        panel
            .bar(day, symbol)
            .map(|(open, close, factor)| match at {
                FillAt::NextOpen => ((day, false), open * factor),
                FillAt::NextClose => ((day, true), close * factor),
            })
    };
    let last_close_until = |day: usize, symbol: usize| {
        (0..=day)
            .rev()
            .find_map(|d| at(d, symbol, FillAt::NextClose))
    };
    days.iter()
        .enumerate()
        .map(|(k, &day)| {
            (0..n)
                .map(|s| {
                    if day >= last {
                        return None;
                    }
                    let (entered, entry) = at(day + 1, s, fill)?;
                    let (exited, exit) = match days.get(k + 1) {
                        Some(&next) if next < last => {
                            at(next + 1, s, fill).or_else(|| last_close_until(next, s))?
                        }
                        _ => last_close_until(last, s)?,
                    };
                    (exited > entered && entry > 0.0).then(|| exit / entry - 1.0)
                })
                .collect()
        })
        .collect()
}

/// The IC of each of `analysts` over every row with a score and a forward return, over the
/// whole run and per calendar year of the rebalance date.
fn ics(rows: &[DecisionRow], analysts: &[String]) -> Vec<IcRow> {
    let mut out = Vec::new();
    for name in analysts {
        let mut all = (Vec::new(), Vec::new());
        let mut years: BTreeMap<i32, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
        for r in rows.iter().filter(|r| &r.analyst == name) {
            if let (Some(score), Some(ret)) = (r.score, r.forward_return) {
                all.0.push(score);
                all.1.push(ret);
                let y = years.entry(r.date.year()).or_default();
                y.0.push(score);
                y.1.push(ret);
            }
        }
        out.push(IcRow {
            analyst: name.clone(),
            period: "all".into(),
            ic: information_coefficient(&all.0, &all.1),
        });
        for (year, (scores, returns)) in years {
            out.push(IcRow {
                analyst: name.clone(),
                period: year.to_string(),
                ic: information_coefficient(&scores, &returns),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panel() -> Panel {
        let dates: Vec<NaiveDate> = (1..=6)
            .map(|d| NaiveDate::from_ymd_opt(2024, 1, d).unwrap())
            .collect();
        let mut p = Panel::new(dates, vec!["A".into(), "B".into()]);
        // A trades every day, opening at 10 × (day + 1) and closing 1 higher; factor 1, then 2
        // from day 3 (a 2:1 split: adjusted prices stay comparable).
        for day in 0..6 {
            let factor = if day >= 3 { 2.0 } else { 1.0 };
            let open = 10.0 * (day as f64 + 1.0) / factor;
            p.set(day, 0, open, open + 1.0 / factor, factor);
        }
        // B has no bar on day 1 and none after day 3.
        for day in [0, 2, 3] {
            p.set(day, 1, 50.0, 50.0, 1.0);
        }
        p
    }

    #[test]
    fn forward_returns_run_from_the_next_fill_to_the_fill_after_the_next_date() {
        let p = panel();
        let days = [0, 2, 4, 5];
        let r = forward_returns(&p, &days, FillAt::NextOpen);
        // A, signal day 0: in at day 1's open (20), out at day 3's open (40 adjusted).
        assert_eq!(r[0][0], Some(40.0 / 20.0 - 1.0));
        // B has no bar on day 1: no fill, no return.
        assert_eq!(r[0][1], None);
        // B, signal day 2: in at day 3's open (50); no bar after the next date (4): its last
        // close before the exit day, day 3's close (50), taken after the open.
        assert_eq!(r[1][1], Some(0.0));
        // A, signal day 4 (the one before the last): in at day 5's open (60), out at the
        // range's last close the same day (61).
        assert_eq!(r[2][0], Some(61.0 / 60.0 - 1.0));
        // The last day: nothing follows it.
        assert_eq!(r[3], vec![None, None]);
    }
}
