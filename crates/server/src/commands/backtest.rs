//! `stockpilot backtest SYMBOL… --from --to [--analysts] [--rebalance] --out DIR`: the research
//! backtest of the application layer over the configured database, its files and tables.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};
use stockpilot_application::AppError;
use stockpilot_application::backtest::{
    Backtest, BacktestRequest, BacktestService, IcRow, LlmPlan,
};
use stockpilot_application::ports::SystemClock;
use stockpilot_application::research::analysts::{AnalystKind, catalogue};
use stockpilot_domain::backtest::{Benchmark, MetricSettings, Rebalance, Simulation, metrics};
use stockpilot_domain::market::{Market, Symbol};

use super::simulate::{output, rules_json, trading_rules};
use crate::cli::BacktestArgs;
use crate::config::Config;
use crate::wiring;

/// A progress bar on stderr when it is a terminal.
struct ProgressBar {
    on: bool,
}

impl ProgressBar {
    fn show(&self, done: usize, total: usize) {
        if !self.on || total == 0 {
            return;
        }
        let width = 30;
        let filled = done * width / total;
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r[{}{}] {done}/{total} rebalance dates",
            "#".repeat(filled),
            ".".repeat(width - filled)
        );
        if done == total {
            let _ = writeln!(err);
        }
        let _ = err.flush();
    }
}

/// The request from the arguments, each problem naming its option.
fn request(args: &BacktestArgs) -> anyhow::Result<BacktestRequest> {
    let mut symbols = Vec::with_capacity(args.symbols.len());
    for text in &args.symbols {
        symbols.push(Symbol::parse(text).map_err(|e| anyhow::anyhow!("SYMBOLS: {text}: {e}"))?);
    }
    let market = symbols.first().map_or(Market::Us, Symbol::market);
    let preset = match market {
        Market::Cn => "CN",
        Market::Us => "US",
    };
    // Checked with the rest of the request by the service, before anything runs.
    let rules = trading_rules(preset, &args.trading)?;
    let rebalance = Rebalance::parse(&args.rebalance)
        .map_err(|e| anyhow::anyhow!("--rebalance: {}", e.message))?;
    Ok(BacktestRequest {
        symbols,
        from: args.from,
        to: args.to,
        analysts: args.analysts.iter().map(|a| a.trim().to_owned()).collect(),
        rebalance,
        simulation: Simulation {
            rules,
            cash: args.trading.cash,
            benchmark: Benchmark::EqualWeight,
        },
        llm: LlmPlan {
            provider: args.llm_provider.clone(),
            max_calls: args.max_llm_calls,
            max_tokens: args.max_tokens,
            debate_rounds: args.debate_rounds,
            max_tokens_per_call: 0,
        },
    })
}

/// Runs the backtest, writes its files and prints its tables.
///
/// # Errors
/// Bad options (each naming the option), unknown symbols or missing bars, an LLM budget that
/// is too small (saying how many calls are needed), files that cannot be written.
pub async fn run(config: &Config, args: &BacktestArgs) -> anyhow::Result<()> {
    let mut req = request(args)?;
    req.llm.max_tokens_per_call = config.research.max_tokens_per_call;
    let (db, store, _sync) = wiring::open_sync(config).await?;
    let needs_llm = catalogue()
        .iter()
        .any(|a| a.kind() == AnalystKind::Llm && req.analysts.iter().any(|n| n == a.name()));
    let gateway = if needs_llm {
        let (cache, _) = wiring::cache(wiring::redis(config).await?.as_ref());
        let llm = wiring::llm_registry(config, store.clone(), cache, Arc::new(SystemClock)).await?;
        Some(llm.gateway().clone())
    } else {
        None
    };
    let service = BacktestService::new(store.clone(), store, gateway);
    let bar = ProgressBar {
        on: !args.quiet && !args.json && std::io::stderr().is_terminal(),
    };
    let backtest = match service
        .run(&req, &|done, total| bar.show(done, total))
        .await
    {
        Ok(b) => b,
        Err(AppError::Validation { problems, .. }) => {
            let lines: Vec<String> = problems
                .iter()
                .map(|p| match p.field.as_str() {
                    "symbols" => format!("  SYMBOLS: {}", p.message),
                    field => format!("  --{}: {}", field.replace('_', "-"), p.message),
                })
                .collect();
            anyhow::bail!("the backtest is invalid:\n{}", lines.join("\n"));
        }
        Err(e) => return Err(e.into_anyhow()),
    };
    db.close().await.ok();

    let settings = MetricSettings {
        periods: 252.0,
        risk_free: args.trading.risk_free,
    };
    let m = metrics(&backtest.outcome.days, settings)?;
    let mut report = output::metrics_json(
        &m,
        &backtest.outcome,
        (settings.periods, settings.risk_free),
        &rules_json(&req.simulation.rules),
    );
    report["backtest"] = summary(&req, &backtest);
    output::write(&args.out, &backtest.panel, &backtest.outcome, &report)?;
    write_decisions(&args.out, &backtest)?;
    write_ic(&args.out, &backtest.ic)?;
    if args.json {
        let out =
            json!({"metrics": report, "ic": backtest.ic.iter().map(ic_json).collect::<Vec<_>>()});
        crate::say!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        crate::say!("{}", output::table(&report));
        crate::say!("\n{}", ic_table(&backtest.ic));
        crate::say!(
            "\n{} symbol-dates in {:.2} s; wrote equity.csv, orders.csv, positions.csv, metrics.json, decisions.csv and ic.csv to {}",
            backtest.symbol_days(),
            report["backtest"]["seconds"]["total"]
                .as_f64()
                .unwrap_or_default(),
            args.out.display()
        );
    }
    Ok(())
}

/// What was replayed and where the time went, for metrics.json.
fn summary(req: &BacktestRequest, b: &Backtest) -> Value {
    let t = &b.timings;
    let total = t.load + t.point_in_time + t.analysts + t.simulate;
    json!({
        "symbols": req.symbols.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "analysts": req.analysts,
        "rebalance": req.rebalance.as_str(),
        "calendar": b.calendar.map_or_else(
            || "the days the symbols traded (no exchange calendar stored)".to_owned(),
            |e| format!("{} open days as stored, and the days the symbols traded", e.as_str()),
        ),
        "rebalance_dates": b.rebalance_days.len(),
        "first_rebalance": b.panel.dates()[b.rebalance_days[0]],
        "symbol_days": b.symbol_days(),
        "weights_rule": "buy: the risk limit × confidence; sell: 0; hold: the previous weight, capped at the risk limit; scaled down together when they sum above 1",
        "llm": {"calls": b.usage.llm_calls, "prompt_tokens": b.usage.prompt_tokens, "completion_tokens": b.usage.completion_tokens, "cost_usd": b.usage.cost_usd},
        "seconds": {
            "load": t.load.as_secs_f64(),
            "point_in_time": t.point_in_time.as_secs_f64(),
            "analysts": t.analysts.as_secs_f64(),
            "simulate": t.simulate.as_secs_f64(),
            "total": total.as_secs_f64(),
        },
    })
}

fn number(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite())
        .map_or(String::new(), |x| x.to_string())
}

/// `text` as one CSV field (RFC 4180): quoted, with its quotes doubled, when it holds a comma,
/// a quote or a line break.
fn text_field(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\"")).into()
    } else {
        text.into()
    }
}

fn write_decisions(dir: &Path, b: &Backtest) -> anyhow::Result<()> {
    let mut w = output::create(dir, "decisions.csv")?;
    writeln!(
        w,
        "date,symbol,analyst,signal,score,confidence,weight,forward_return,reason"
    )?;
    let symbols = b.panel.symbols();
    for r in &b.rows {
        writeln!(
            w,
            "{},{},{},{},{},{},{},{},{}",
            r.date,
            symbols[r.symbol],
            r.analyst,
            r.signal,
            number(r.score),
            r.confidence,
            number(r.weight),
            number(r.forward_return),
            text_field(r.reason.as_deref().unwrap_or_default())
        )?;
    }
    w.flush()?;
    Ok(())
}

fn write_ic(dir: &Path, ic: &[IcRow]) -> anyhow::Result<()> {
    let mut w = output::create(dir, "ic.csv")?;
    writeln!(
        w,
        "analyst,period,observations,pearson,spearman,t_stat,hit_rate"
    )?;
    for r in ic {
        writeln!(
            w,
            "{},{},{},{},{},{},{}",
            r.analyst,
            r.period,
            r.ic.observations,
            number(Some(r.ic.pearson)),
            number(Some(r.ic.spearman)),
            number(Some(r.ic.t_stat)),
            number(Some(r.ic.hit_rate))
        )?;
    }
    w.flush()?;
    Ok(())
}

fn ic_json(r: &IcRow) -> Value {
    let f = |x: f64| x.is_finite().then_some(x);
    json!({
        "analyst": r.analyst,
        "period": r.period,
        "observations": r.ic.observations,
        "pearson": f(r.ic.pearson),
        "spearman": f(r.ic.spearman),
        "t_stat": f(r.ic.t_stat),
        "hit_rate": f(r.ic.hit_rate),
    })
}

/// The whole-run IC of each analyst, then its yearly rank IC.
fn ic_table(ic: &[IcRow]) -> String {
    let f = |x: f64| {
        if x.is_finite() {
            format!("{x:+.3}")
        } else {
            "—".to_owned()
        }
    };
    let mut out = format!(
        "{:<16} {:>6} {:>8} {:>8} {:>7} {:>8}  {}\n",
        "ANALYST", "N", "IC", "RANK IC", "T", "HIT", "RANK IC BY YEAR"
    );
    for all in ic.iter().filter(|r| r.period == "all") {
        let years: Vec<String> = ic
            .iter()
            .filter(|r| r.analyst == all.analyst && r.period != "all")
            .map(|r| format!("{} {}", r.period, f(r.ic.spearman)))
            .collect();
        out.push_str(&format!(
            "{:<16} {:>6} {:>8} {:>8} {:>7} {:>8}  {}\n",
            all.analyst,
            all.ic.observations,
            f(all.ic.pearson),
            f(all.ic.spearman),
            if all.ic.t_stat.is_finite() {
                format!("{:.2}", all.ic.t_stat)
            } else {
                "—".into()
            },
            if all.ic.hit_rate.is_finite() {
                format!("{:.1} %", all.ic.hit_rate * 100.0)
            } else {
                "—".into()
            },
            years.join("  ")
        ));
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::text_field;

    #[test]
    fn a_text_field_is_quoted_only_when_csv_needs_it() {
        assert_eq!(text_field(""), "");
        assert_eq!(text_field("budget used up"), "budget used up");
        assert_eq!(
            text_field("provider p: 429, retried 3 times"),
            "\"provider p: 429, retried 3 times\""
        );
        assert_eq!(
            text_field("said \"maybe\"\nthen stopped"),
            "\"said \"\"maybe\"\"\nthen stopped\""
        );
    }
}
