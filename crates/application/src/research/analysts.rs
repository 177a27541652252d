//! The analysts: one [`Analyst`] trait, quantitative implementations over the domain's pure
//! functions and LLM-driven ones through the gateway's structured output.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Deserialize;
use stockpilot_domain::analysis::{
    AnalystSignal, Confidence, Input, Signal, ValuationParams, fundamentals, technical,
    technical_description, valuation,
};

use super::data::SymbolData;
use super::model::Usage;
use crate::llm::structured;
use crate::ports::{
    ChatMessage, Completion, CompletionRequest, Freshness, LlmError, LlmGateway, OutputSchema,
    SearchQuery, WebSearch,
};

stockpilot_domain::code_enum! {
    /// Whether an analyst needs an LLM.
    pub enum AnalystKind as "analyst kind" {
        /// Computes its view from stored data alone.
        Quantitative = "quantitative",
        /// Asks an LLM; skipped when none is configured.
        Llm = "llm",
    }
}

/// Why an analyst produced no view.
#[derive(Debug, Clone, PartialEq)]
pub enum AnalystError {
    /// Not run, for a reason that is not a fault (no LLM configured, budget reached).
    Skipped(String),
    /// Ran and failed.
    Failed(String),
}

/// An analyst's view and what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub signal: AnalystSignal,
    pub usage: Usage,
}

impl Outcome {
    fn free(signal: AnalystSignal) -> Outcome {
        Outcome {
            signal,
            usage: Usage::default(),
        }
    }
}

/// The token budget of one run, shared by its LLM calls.
#[derive(Debug)]
pub struct Budget {
    limit: u64,
    used: AtomicU64,
}

impl Budget {
    pub fn new(limit: u64, used: u64) -> Budget {
        Budget {
            limit,
            used: AtomicU64::new(used),
        }
    }
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::SeqCst)
    }
    pub fn remaining(&self) -> u64 {
        self.limit.saturating_sub(self.used())
    }
    pub fn limit(&self) -> u64 {
        self.limit
    }
    pub(crate) fn spend(&self, tokens: u64) {
        self.used.fetch_add(tokens, Ordering::SeqCst);
    }
}

/// What LLM analysts may use during one run.
#[derive(Clone)]
pub struct LlmAccess {
    pub gateway: Option<Arc<dyn LlmGateway>>,
    pub search: Option<Arc<dyn WebSearch>>,
    /// A provider by name, or the gateway's priority order.
    pub provider: Option<String>,
    pub budget: Arc<Budget>,
    /// The start of the usage ledger's `purpose` of every call (`run:<id> ` for a research
    /// run: [`super::ResearchService::ledger_purpose`]).
    pub purpose_prefix: String,
    pub debate_rounds: u8,
    /// Tokens one completion may produce at most (never above what the budget has left).
    pub max_tokens_per_call: u32,
    /// Sampling temperature of every call: [`RESEARCH_TEMPERATURE`] for research runs, 0 for
    /// backtests (repeatable, so the gateway's answer cache serves a replay again for free).
    pub temperature: f32,
}

/// The temperature of research runs' LLM calls.
pub const RESEARCH_TEMPERATURE: f32 = 0.2;

impl LlmAccess {
    /// The usage ledger's `purpose` of a call: the prefix, then `what`.
    pub fn purpose(&self, what: impl std::fmt::Display) -> String {
        format!("{}{what}", self.purpose_prefix)
    }

    /// Why LLM analysts cannot run at all, if they cannot.
    pub fn unavailable(&self) -> Option<String> {
        match &self.gateway {
            None => Some(LlmError::NoProvider.to_string()),
            Some(g) if g.status().is_empty() => Some(LlmError::NoProvider.to_string()),
            Some(_) => None,
        }
    }
}

#[async_trait::async_trait]
pub trait Analyst: Send + Sync {
    /// The name results, weights and the API use.
    fn name(&self) -> &'static str;
    /// One sentence for the catalogue.
    fn description(&self) -> &'static str;
    fn kind(&self) -> AnalystKind;
    /// LLM calls one view takes at most (0 for quantitative analysts), for budgets planned
    /// before a run starts.
    fn calls_per_view(&self, _debate_rounds: u8) -> u64 {
        match self.kind() {
            AnalystKind::Quantitative => 0,
            AnalystKind::Llm => 1,
        }
    }
    /// A view of `data.symbol` as of `data.as_of`.
    ///
    /// # Errors
    /// [`AnalystError`]; never a made-up view.
    async fn analyze(&self, data: &SymbolData, llm: &LlmAccess) -> Result<Outcome, AnalystError>;
}

/// A deterministic analyst: a pure function of the symbol's stored data (no LLM, no cost).
pub struct Quantitative {
    pub name: &'static str,
    /// The catalogue sentence (a function, so it can be built from the analyst's constants).
    pub description: fn() -> &'static str,
    pub view: fn(&SymbolData) -> Result<AnalystSignal, AnalystError>,
}

#[async_trait::async_trait]
impl Analyst for Quantitative {
    fn name(&self) -> &'static str {
        self.name
    }
    fn description(&self) -> &'static str {
        (self.description)()
    }
    fn kind(&self) -> AnalystKind {
        AnalystKind::Quantitative
    }
    async fn analyze(&self, data: &SymbolData, _: &LlmAccess) -> Result<Outcome, AnalystError> {
        (self.view)(data).map(Outcome::free)
    }
}

/// The quantitative analysts, in catalogue order.
pub const QUANTITATIVE: [Quantitative; 4] = [
    Quantitative {
        name: "technical",
        description: technical_description,
        view: technical_view,
    },
    Quantitative {
        name: "fundamentals",
        description: || "Profitability (ROE, net and operating margin), growth (revenue, earnings) and financial health (current ratio, debt/equity) of the latest report, each against one threshold table",
        view: fundamentals_view,
    },
    Quantitative {
        name: "valuation",
        description: || "Owner-earnings DCF (10 % discount, 5 years, 2.5 % terminal growth) and P/E, P/B, EV/EBITDA against their own 3-year median, with a 25 % margin of safety; refuses without a market cap",
        view: valuation_view,
    },
    Quantitative {
        name: "risk",
        description: || "Position limit per symbol: 20 % base, scaled down by 60-day volatility above 2 % a day and by average correlation with the run's other symbols; sizes the decision, does not vote",
        view: risk_view,
    },
];

/// Trend, momentum, mean reversion and volatility regime over the adjusted bars.
fn technical_view(data: &SymbolData) -> Result<AnalystSignal, AnalystError> {
    Ok(technical(&data.symbol, &data.bars, data.as_of))
}

/// Profitability, growth and financial health against one threshold table.
fn fundamentals_view(data: &SymbolData) -> Result<AnalystSignal, AnalystError> {
    Ok(fundamentals(&data.symbol, &data.indicators, data.as_of))
}

/// Owner-earnings DCF and multiples against the security's own history.
fn valuation_view(data: &SymbolData) -> Result<AnalystSignal, AnalystError> {
    Ok(valuation(
        &data.symbol,
        &data.valuations,
        &data.statements,
        &data.indicators,
        data.as_of,
        &ValuationParams::default(),
    ))
}

/// Volatility- and correlation-adjusted position limits (direction-blind), computed by the
/// run across its symbols and reported here.
fn risk_view(data: &SymbolData) -> Result<AnalystSignal, AnalystError> {
    let Some(limit) = &data.risk_limit else {
        return Err(AnalystError::Failed(
            "the run computed no risk limit for this symbol".into(),
        ));
    };
    let as_of = data
        .bars
        .iter()
        .map(|b| b.trade_date)
        .max()
        .unwrap_or(data.as_of);
    let mut inputs = vec![Input::new(
        "max_position_pct",
        limit.max_position_pct,
        as_of,
    )];
    if let Some(v) = limit.daily_vol {
        inputs.push(Input::new("daily_vol", v, as_of));
    }
    if let Some(c) = limit.avg_correlation {
        inputs.push(Input::new("avg_correlation", c, as_of));
    }
    Ok(if limit.daily_vol.is_none() {
        AnalystSignal::insufficient("risk", data.symbol.clone(), limit.reasoning.clone(), inputs)
    } else {
        AnalystSignal {
            analyst: "risk".into(),
            symbol: data.symbol.clone(),
            signal: Signal::Neutral,
            confidence: Confidence::from_fraction(1.0),
            reasoning: limit.reasoning.clone(),
            inputs,
        }
    })
}

/// The JSON an LLM analyst answers with.
#[derive(Debug, Clone, Deserialize)]
pub struct LlmView {
    pub signal: Signal,
    pub confidence: u8,
    pub reasoning: String,
}

fn view_schema() -> OutputSchema {
    OutputSchema {
        name: "analyst_signal".into(),
        schema: serde_json::json!({
            "type": "object",
            "properties": {
                "signal": {"type": "string", "enum": ["bullish", "bearish", "neutral", "insufficient_data"]},
                "confidence": {"type": "integer", "minimum": 0, "maximum": 100},
                "reasoning": {"type": "string", "minLength": 1}
            },
            "required": ["signal", "confidence", "reasoning"],
            "additionalProperties": false
        }),
        example: serde_json::json!({"signal": "neutral", "confidence": 40, "reasoning": "RSI 14 at 52 and price between SMA 50 and SMA 200: no edge."}),
    }
}

fn check_view(v: &LlmView) -> Result<(), String> {
    if v.confidence > 100 {
        return Err(format!("confidence {} is above 100", v.confidence));
    }
    if v.reasoning.trim().is_empty() {
        return Err("reasoning is empty".into());
    }
    Ok(())
}

const GROUNDING: &str = "Use only the figures and texts given in this conversation; never recall prices, financials or news from memory. If they are not enough to form a view, answer signal \"insufficient_data\" with confidence 0 and say what is missing. Answer with one JSON object: {\"signal\": \"bullish\"|\"bearish\"|\"neutral\"|\"insufficient_data\", \"confidence\": 0-100, \"reasoning\": \"…\"}; the reasoning cites the figures it rests on.";

/// Calls, tokens and cost of `completions`.
fn usage_of(completions: &[Completion]) -> Usage {
    let mut u = Usage::default();
    for c in completions {
        u.llm_calls += 1;
        u.prompt_tokens += c.usage.prompt_tokens;
        u.completion_tokens += c.usage.completion_tokens;
        u.cost_usd += c.cost_usd;
    }
    u
}

/// One structured call within the run's budget. Spent tokens are counted even when the
/// answer is unusable.
pub(crate) async fn ask<T: serde::de::DeserializeOwned>(
    llm: &LlmAccess,
    purpose: String,
    messages: Vec<ChatMessage>,
    schema: OutputSchema,
    check: impl Fn(&T) -> Result<(), String>,
    usage: &mut Usage,
) -> Result<T, AnalystError> {
    if let Some(reason) = llm.unavailable() {
        return Err(AnalystError::Skipped(reason));
    }
    let Some(gateway) = &llm.gateway else {
        return Err(AnalystError::Skipped(LlmError::NoProvider.to_string()));
    };
    let remaining = llm.budget.remaining();
    if remaining == 0 {
        return Err(AnalystError::Skipped(format!(
            "the run's token budget of {} tokens is used up ({} used)",
            llm.budget.limit(),
            llm.budget.used()
        )));
    }
    let request = CompletionRequest {
        messages,
        provider: llm.provider.clone(),
        model: None,
        temperature: Some(llm.temperature),
        max_tokens: Some(
            u32::try_from(remaining)
                .unwrap_or(u32::MAX)
                .min(llm.max_tokens_per_call),
        ),
        schema: Some(schema),
        purpose,
    };
    match structured::<T>(gateway.as_ref(), request, check).await {
        Ok((value, completions)) => {
            let u = usage_of(&completions);
            llm.budget.spend(u.tokens());
            usage.add(&u);
            Ok(value)
        }
        Err(LlmError::NoProvider) => Err(AnalystError::Skipped(LlmError::NoProvider.to_string())),
        Err(e) => Err(AnalystError::Failed(e.to_string())),
    }
}

fn signal_from(
    analyst: &str,
    data: &SymbolData,
    view: LlmView,
    inputs: Vec<Input>,
) -> AnalystSignal {
    let confidence = if view.signal == Signal::InsufficientData {
        Confidence::ZERO
    } else {
        Confidence::new(view.confidence).unwrap_or(Confidence::ZERO)
    };
    AnalystSignal {
        analyst: analyst.to_owned(),
        symbol: data.symbol.clone(),
        signal: view.signal,
        confidence,
        reasoning: view.reasoning,
        inputs,
    }
}

/// An investor persona: a prompt over the numeric digest.
pub struct Persona {
    pub name: &'static str,
    pub description: &'static str,
    pub stance: &'static str,
}

pub const PERSONAS: [Persona; 3] = [
    Persona {
        name: "value_investor",
        description: "LLM persona in the tradition of Graham and Buffett: margin of safety, durable profitability, low multiples for the quality, over the numeric digest",
        stance: "You are a disciplined value investor in the tradition of Benjamin Graham and Warren Buffett. You favour durable profitability (high ROE, stable margins), conservative balance sheets and prices well below what the business is worth (low P/E and P/B for its quality). You distrust momentum and stories.",
    },
    Persona {
        name: "growth_investor",
        description: "LLM persona focused on revenue and earnings growth and its price trend, over the numeric digest",
        stance: "You are a growth investor in the tradition of Philip Fisher and Peter Lynch. You look for fast, sustained revenue and earnings growth, expanding margins and a price trend that confirms it (price above rising averages), and you accept higher multiples when growth justifies them.",
    },
    Persona {
        name: "contrarian",
        description: "LLM persona that looks for crowded trades and extremes (overbought/oversold, stretched returns, sentiment) to fade, over the numeric digest",
        stance: "You are a contrarian investor. You look for extremes to fade: prices stretched far above or below their averages, RSI beyond 70 or below 30, returns far outside the usual range, and valuations at the edges of their history. You are bullish on what is hated and cheap, bearish on what is loved and stretched, and neutral when nothing is extreme.",
    },
];

#[async_trait::async_trait]
impl Analyst for Persona {
    fn name(&self) -> &'static str {
        self.name
    }
    fn description(&self) -> &'static str {
        self.description
    }
    fn kind(&self) -> AnalystKind {
        AnalystKind::Llm
    }
    async fn analyze(&self, data: &SymbolData, llm: &LlmAccess) -> Result<Outcome, AnalystError> {
        if let Some(reason) = llm.unavailable() {
            return Err(AnalystError::Skipped(reason));
        }
        if !data.digest.has_prices() {
            return Ok(Outcome::free(AnalystSignal::insufficient(
                self.name,
                data.symbol.clone(),
                format!(
                    "no stored daily bars of {} up to {}; nothing to show the model",
                    data.symbol, data.as_of
                ),
                Vec::new(),
            )));
        }
        let mut usage = Usage::default();
        let messages = vec![
            ChatMessage::system(format!("{} {GROUNDING}", self.stance)),
            ChatMessage::user(format!(
                "Give your view of this security from these figures only.\n{}",
                data.digest.to_prompt()
            )),
        ];
        let view: LlmView = ask(
            llm,
            llm.purpose(format!("analyst:{}", self.name)),
            messages,
            view_schema(),
            check_view,
            &mut usage,
        )
        .await?;
        Ok(Outcome {
            signal: signal_from(self.name, data, view, data.digest.figures.clone()),
            usage,
        })
    }
}

/// Recent news (stored, and web results of the same window) summarised into a view.
pub struct NewsSentiment;

#[async_trait::async_trait]
impl Analyst for NewsSentiment {
    fn name(&self) -> &'static str {
        "news_sentiment"
    }
    fn description(&self) -> &'static str {
        "LLM reading of the last 30 days of stored news headlines (plus web results dated in the same window when web search is configured) into a sentiment signal"
    }
    fn kind(&self) -> AnalystKind {
        AnalystKind::Llm
    }
    async fn analyze(&self, data: &SymbolData, llm: &LlmAccess) -> Result<Outcome, AnalystError> {
        if let Some(reason) = llm.unavailable() {
            return Err(AnalystError::Skipped(reason));
        }
        let mut lines: Vec<String> = data
            .news
            .iter()
            .map(|n| {
                format!(
                    "{} | {} | {}",
                    n.published_on,
                    n.source.as_deref().unwrap_or("unknown source"),
                    n.title
                )
            })
            .collect();
        let mut searched = 0usize;
        if let Some(search) = &llm.search {
            let query = SearchQuery {
                query: format!("{} stock news", data.symbol),
                freshness: Freshness::Range(format!(
                    "{}..{}",
                    data.as_of - chrono::Duration::days(super::data::NEWS_DAYS),
                    data.as_of
                )),
                count: 10,
                summary: false,
            };
            match search.search(&query).await {
                Ok(results) => {
                    searched = results.len();
                    lines.extend(results.iter().map(|r| {
                        format!(
                            "{} | {} | {}",
                            r.published_at.as_deref().unwrap_or("undated"),
                            r.site_name.as_deref().unwrap_or("web"),
                            r.title
                        )
                    }));
                }
                Err(e) => {
                    tracing::warn!(symbol = %data.symbol, error = %e, "web search failed; using stored news only")
                }
            }
        }
        let inputs = vec![
            Input::new("stored_articles", data.news.len() as f64, data.as_of),
            Input::new("web_results", searched as f64, data.as_of),
        ];
        if lines.is_empty() {
            return Ok(Outcome::free(AnalystSignal::insufficient(
                self.name(),
                data.symbol.clone(),
                format!(
                    "no news of {} in the 30 days up to {} (sync the news dataset{})",
                    data.symbol,
                    data.as_of,
                    if llm.search.is_none() {
                        " or configure web search"
                    } else {
                        ""
                    }
                ),
                inputs,
            )));
        }
        let mut usage = Usage::default();
        let messages = vec![
            ChatMessage::system(format!(
                "You are a news-sentiment analyst. You judge whether recent news about a company is good or bad for its share price. {GROUNDING}"
            )),
            ChatMessage::user(format!(
                "Headlines about {} up to {} (date | source | title):\n{}",
                data.symbol,
                data.as_of,
                lines.join("\n")
            )),
        ];
        let view: LlmView = ask(
            llm,
            llm.purpose("analyst:news_sentiment"),
            messages,
            view_schema(),
            check_view,
            &mut usage,
        )
        .await?;
        Ok(Outcome {
            signal: signal_from(self.name(), data, view, inputs),
            usage,
        })
    }
}

#[derive(Debug, Deserialize)]
struct Argument {
    argument: String,
}

/// A bull and a bear argue for `debate_rounds` rounds over the digest; a judge decides.
pub struct Debate;

#[async_trait::async_trait]
impl Analyst for Debate {
    fn name(&self) -> &'static str {
        "debate"
    }
    fn description(&self) -> &'static str {
        "LLM bull/bear debate over the numeric digest for debate_rounds rounds (2 calls a round), then a judge's signal; runs only when debate_rounds > 0"
    }
    fn kind(&self) -> AnalystKind {
        AnalystKind::Llm
    }
    fn calls_per_view(&self, debate_rounds: u8) -> u64 {
        if debate_rounds == 0 {
            0
        } else {
            2 * u64::from(debate_rounds) + 1
        }
    }
    async fn analyze(&self, data: &SymbolData, llm: &LlmAccess) -> Result<Outcome, AnalystError> {
        if let Some(reason) = llm.unavailable() {
            return Err(AnalystError::Skipped(reason));
        }
        if llm.debate_rounds == 0 {
            return Err(AnalystError::Skipped("debate_rounds is 0".into()));
        }
        if !data.digest.has_prices() {
            return Ok(Outcome::free(AnalystSignal::insufficient(
                "debate",
                data.symbol.clone(),
                format!(
                    "no stored daily bars of {} up to {}",
                    data.symbol, data.as_of
                ),
                Vec::new(),
            )));
        }
        let schema = OutputSchema {
            name: "debate_argument".into(),
            schema: serde_json::json!({"type": "object", "properties": {"argument": {"type": "string", "minLength": 1}}, "required": ["argument"], "additionalProperties": false}),
            example: serde_json::json!({"argument": "Price is 12 % above SMA 200 with RSI 61: the trend is intact."}),
        };
        let facts = data.digest.to_prompt();
        let mut transcript = String::new();
        let mut usage = Usage::default();
        for round in 1..=llm.debate_rounds {
            for side in ["bull", "bear"] {
                let messages = vec![
                    ChatMessage::system(format!(
                        "You are the {side} in a debate about a security. Argue the {side} case in at most 120 words, answering the other side's last point. Use only the figures given; never recall figures from memory. Answer with one JSON object {{\"argument\": \"…\"}}."
                    )),
                    ChatMessage::user(format!("{facts}\nDebate so far:\n{transcript}")),
                ];
                let arg: Argument = ask(
                    llm,
                    llm.purpose(format!("analyst:debate:{side}")),
                    messages,
                    schema.clone(),
                    |a: &Argument| {
                        if a.argument.trim().is_empty() {
                            Err("argument is empty".into())
                        } else {
                            Ok(())
                        }
                    },
                    &mut usage,
                )
                .await?;
                transcript.push_str(&format!("Round {round}, {side}: {}\n", arg.argument.trim()));
            }
        }
        let messages = vec![
            ChatMessage::system(format!(
                "You are the judge of a bull/bear debate about a security. Weigh the arguments against the figures. {GROUNDING}"
            )),
            ChatMessage::user(format!("{facts}\nDebate:\n{transcript}")),
        ];
        let view: LlmView = ask(
            llm,
            llm.purpose("analyst:debate:judge"),
            messages,
            view_schema(),
            check_view,
            &mut usage,
        )
        .await?;
        Ok(Outcome {
            signal: signal_from("debate", data, view, data.digest.figures.clone()),
            usage,
        })
    }
}

/// Every analyst, in catalogue order.
pub fn catalogue() -> Vec<Arc<dyn Analyst>> {
    let mut all: Vec<Arc<dyn Analyst>> = Vec::new();
    for q in QUANTITATIVE {
        all.push(Arc::new(q));
    }
    all.push(Arc::new(NewsSentiment));
    for p in PERSONAS {
        all.push(Arc::new(p));
    }
    all.push(Arc::new(Debate));
    all
}

/// Analysts a run uses when it names none: all but `debate` (added when `debate_rounds > 0`).
pub fn default_analysts(debate_rounds: u8) -> Vec<String> {
    catalogue()
        .iter()
        .map(|a| a.name().to_owned())
        .filter(|n| n != "debate" || debate_rounds > 0)
        .collect()
}
