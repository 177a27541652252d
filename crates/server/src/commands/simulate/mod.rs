//! `stockpilot simulate`: target weights from a CSV, bars from the database or a CSV, the
//! domain simulator and its metrics, and the files a researcher keeps.

mod input;
pub(crate) mod output;

use anyhow::bail;
use serde_json::json;
use stockpilot_application::backtest::load_panel;
use stockpilot_domain::backtest::{
    Benchmark, FillAt, MetricSettings, Rules, ShortRules, Simulation, metrics,
};
use stockpilot_domain::market::{DateRange, Market, Symbol};

use crate::cli::{SimulateArgs, TradingArgs};
use crate::config::Config;
use crate::wiring;

fn option(e: stockpilot_domain::backtest::RuleError) -> anyhow::Error {
    anyhow::anyhow!("--{}: {}", e.option, e.message)
}

/// The `preset` market's rules (CN or US) with the trading options' overrides (not checked
/// yet), after checking the cash and risk-free rate.
pub(crate) fn trading_rules(preset: &str, args: &TradingArgs) -> anyhow::Result<Rules> {
    if !(args.cash.is_finite() && args.cash > 0.0) {
        bail!("--cash: {} is not an amount > 0", args.cash);
    }
    if !(0.0..1.0).contains(&args.risk_free) {
        bail!(
            "--risk-free: {} is not a yearly rate in [0, 1)",
            args.risk_free
        );
    }
    let mut rules = Rules::preset(preset).map_err(option)?;
    rules.fill = FillAt::parse(&args.fill).map_err(option)?;
    let costs = &mut rules.costs;
    if let Some(v) = args.commission {
        costs.commission_rate = v;
    }
    if let Some(v) = args.min_commission {
        costs.commission_min = v;
    }
    if let Some(v) = args.stamp_duty {
        costs.stamp_duty_rate = v;
    }
    if let Some(v) = args.transfer_fee {
        costs.transfer_fee_rate = v;
    }
    if let Some(bp) = args.slippage_bp {
        if !(0.0..1000.0).contains(&bp) {
            bail!("--slippage-bp: {bp} is not in [0, 1000) basis points");
        }
        costs.slippage = bp / 10_000.0;
    }
    if let Some(lot) = args.lot {
        rules.lot = lot;
    }
    Ok(rules)
}

/// The market preset with the options' overrides and shorts, checked.
fn rules(args: &SimulateArgs) -> anyhow::Result<(Rules, Market)> {
    let mut rules = trading_rules(&args.market, &args.trading)?;
    let market = if args.market.eq_ignore_ascii_case("CN") {
        Market::Cn
    } else {
        Market::Us
    };
    if args.shorts {
        if market == Market::Cn {
            bail!("--shorts: A-shares (--market CN) cannot be sold short in this simulator");
        }
        let defaults = ShortRules::default();
        rules.shorts = Some(ShortRules {
            margin_rate: args.short_margin.unwrap_or(defaults.margin_rate),
            borrow_fee_rate: args.borrow_fee.unwrap_or(defaults.borrow_fee_rate),
        });
    } else if args.short_margin.is_some() || args.borrow_fee.is_some() {
        bail!("--short-margin and --borrow-fee apply to shorts: add --shorts");
    }
    rules.check().map_err(option)?;
    Ok((rules, market))
}

pub(crate) fn rules_json(rules: &Rules) -> serde_json::Value {
    let c = &rules.costs;
    json!({
        "commission_rate": c.commission_rate,
        "commission_min": c.commission_min,
        "stamp_duty_rate": c.stamp_duty_rate,
        "transfer_fee_rate": c.transfer_fee_rate,
        "slippage": c.slippage,
        "lot": rules.lot,
        "t_plus_one": rules.t_plus_one,
        "price_limits": rules.price_limits,
        "shorts": rules.shorts.map(|s| json!({"margin_rate": s.margin_rate, "borrow_fee_rate": s.borrow_fee_rate})),
        "fill": rules.fill.as_str(),
    })
}

/// Runs the simulation and writes its files; prints the metrics.
///
/// # Errors
/// Bad options or files (each naming the option, file or line), missing data, or files that
/// cannot be written.
pub async fn run(config: &Config, args: &SimulateArgs) -> anyhow::Result<()> {
    let (rules, market) = rules(args)?;
    let range = DateRange::new(args.from, args.to, None)
        .map_err(|_| anyhow::anyhow!("--from {} is after --to {}", args.from, args.to))?;
    let rows = input::weights(&args.weights)?;
    let mut symbols: Vec<Symbol> = Vec::new();
    for row in &rows {
        if row.symbol.market() != market {
            bail!(
                "{} line {}: {} is not a {} symbol (--market {})",
                args.weights.display(),
                row.line,
                row.symbol,
                args.market.to_ascii_uppercase(),
                args.market
            );
        }
        if !symbols.contains(&row.symbol) {
            symbols.push(row.symbol.clone());
        }
    }
    let benchmark = match &args.benchmark {
        Some(text) => {
            let symbol =
                Symbol::parse_for(market, text).map_err(|e| anyhow::anyhow!("--benchmark: {e}"))?;
            let index = symbols
                .iter()
                .position(|s| *s == symbol)
                .unwrap_or_else(|| {
                    symbols.push(symbol);
                    symbols.len() - 1
                });
            Benchmark::Symbol(index)
        }
        None => Benchmark::EqualWeight,
    };
    let panel = match &args.bars {
        Some(path) => input::bars(path, &symbols, args.from, args.to)?,
        None => {
            let (_db, store, _sync) = wiring::open_sync(config).await?;
            load_panel(store.as_ref(), &symbols, range, &[])
                .await
                .map_err(stockpilot_application::AppError::into_anyhow)?
        }
    };
    let (targets, outside) =
        input::targets(&rows, &panel, &symbols, &args.weights, (args.from, args.to))?;
    if targets.is_empty() {
        bail!(
            "{}: no weights dated between --from {} and --to {}",
            args.weights.display(),
            args.from,
            args.to
        );
    }
    if outside > 0 {
        eprintln!(
            "note: {outside} weight rows dated outside {} – {} were left out",
            args.from, args.to
        );
    }
    let simulation = Simulation {
        rules,
        cash: args.trading.cash,
        benchmark,
    };
    let outcome = simulation.run(&panel, &targets)?;
    let settings = MetricSettings {
        periods: 252.0,
        risk_free: args.trading.risk_free,
    };
    let metrics = metrics(&outcome.days, settings)?;
    let report = output::metrics_json(
        &metrics,
        &outcome,
        (settings.periods, settings.risk_free),
        &rules_json(&simulation.rules),
    );
    output::write(&args.out, &panel, &outcome, &report)?;
    if args.json {
        crate::say!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        crate::say!("{}", output::table(&report));
        crate::say!(
            "\nwrote equity.csv, orders.csv, positions.csv and metrics.json to {}",
            args.out.display()
        );
    }
    Ok(())
}
