//! What `simulate` writes: equity.csv, orders.csv, positions.csv, metrics.json, and the table.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use serde_json::{Value, json};
use stockpilot_domain::backtest::{Metrics, OrderStatus, Outcome, Panel};

/// A buffered new file `name` in `dir`.
///
/// # Errors
/// The file cannot be created; the message names it.
pub fn create(dir: &Path, name: &str) -> anyhow::Result<std::io::BufWriter<std::fs::File>> {
    let path = dir.join(name);
    std::fs::File::create(&path)
        .map(std::io::BufWriter::new)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Writes the four files into `dir` (created).
///
/// # Errors
/// The directory or a file cannot be written.
pub fn write(dir: &Path, panel: &Panel, outcome: &Outcome, metrics: &Value) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let create = |name: &str| create(dir, name);
    let symbols = panel.symbols();

    let mut equity = create("equity.csv")?;
    writeln!(
        equity,
        "date,cash,positions_value,nav,gross_nav,benchmark_nav"
    )?;
    for d in &outcome.days {
        writeln!(
            equity,
            "{},{},{},{},{},{}",
            d.date, d.cash, d.positions_value, d.nav, d.gross_nav, d.benchmark_nav
        )?;
    }
    equity.flush()?;

    let mut orders = create("orders.csv")?;
    writeln!(
        orders,
        "signal_date,fill_date,symbol,side,quantity,price,commission,taxes,status,reason,requested,slippage"
    )?;
    for o in &outcome.orders {
        let price = if o.price.is_finite() {
            o.price.to_string()
        } else {
            String::new()
        };
        writeln!(
            orders,
            "{},{},{},{},{},{},{},{},{},{},{},{}",
            o.signal_date,
            o.fill_date,
            symbols[o.symbol],
            o.side.as_str(),
            o.quantity,
            price,
            o.commission,
            o.taxes,
            o.status.as_str(),
            o.reason.map_or("", |r| r.as_str()),
            o.requested,
            o.slippage
        )?;
    }
    orders.flush()?;

    let mut positions = create("positions.csv")?;
    writeln!(positions, "date,symbol,quantity,value")?;
    for h in &outcome.holdings {
        writeln!(
            positions,
            "{},{},{},{}",
            panel.dates()[h.day],
            symbols[h.symbol],
            h.quantity,
            h.value
        )?;
    }
    positions.flush()?;

    let path = dir.join("metrics.json");
    std::fs::write(&path, serde_json::to_string_pretty(metrics)? + "\n")
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// metrics.json: flat keys (undefined ratios as null), then the conventions they follow.
pub fn metrics_json(
    metrics: &Metrics,
    outcome: &Outcome,
    settings: (f64, f64),
    rules: &serde_json::Value,
) -> Value {
    let (periods, risk_free) = settings;
    let count = |status: OrderStatus| outcome.orders.iter().filter(|o| o.status == status).count();
    let first = &outcome.days[0];
    let last = &outcome.days[outcome.days.len() - 1];
    let dd = &metrics.max_drawdown;
    let conventions = json!({
        "returns": "daily, r_t = NAV_t / NAV_(t-1) - 1 at each close",
        "periods_per_year": periods,
        "risk_free_annual": risk_free,
        "risk_free_per_period": (1.0 + risk_free).powf(1.0 / periods) - 1.0,
        "annual_return": "(NAV_last / NAV_first)^(periods / n) - 1 (quantstats cagr, empyrical annual_return)",
        "annual_volatility": "std(r, ddof=1) * sqrt(periods)",
        "sharpe": "mean(r - rf_p) / std(r - rf_p, ddof=1) * sqrt(periods), rf_p = (1 + rf)^(1/periods) - 1 (quantstats)",
        "sortino": "mean(r - rf_p) / sqrt(sum(min(r - rf_p, 0)^2) / n) * sqrt(periods) (quantstats)",
        "max_drawdown": "max(1 - NAV_t / running max of NAV), a positive fraction",
        "calmar": "annual_return / max_drawdown",
        "win_rate": "days with r > 0 / days with r != 0 (quantstats)",
        "turnover": "(value traded / 2) / mean(NAV) * periods / n, one-way per year",
        "exposure": "mean((longs + |shorts|) / NAV)",
        "beta_alpha": "against the benchmark's daily returns; alpha = (1 + mean(r - rf_p - beta (b - rf_p)))^periods - 1 (empyrical)",
        "rules": rules,
    });
    let mut out = json!({
        "start": first.date,
        "end": last.date,
        "days": outcome.days.len(),
        "starting_cash": first.nav,
        "final_nav": last.nav,
        "total_return": metrics.total_return,
        "gross_total_return": metrics.gross_total_return,
        "annual_return": metrics.annual_return,
        "annual_volatility": metrics.annual_volatility,
        "sharpe": metrics.sharpe,
        "sortino": metrics.sortino,
        "max_drawdown": dd.depth,
        "max_drawdown_peak": dd.peak,
        "max_drawdown_trough": dd.trough,
        "max_drawdown_recovery": dd.recovery,
        "calmar": metrics.calmar,
        "win_rate": metrics.win_rate,
        "turnover": metrics.turnover,
        "exposure": metrics.exposure,
        "benchmark_total_return": metrics.benchmark_total_return,
        "beta": metrics.beta,
        "alpha": metrics.alpha,
        "costs": last.gross_nav - last.nav,
        "orders": outcome.orders.len(),
        "orders_filled": count(OrderStatus::Filled),
        "orders_partial": count(OrderStatus::Partial),
        "orders_not_filled": count(OrderStatus::NotFilled),
    });
    out["conventions"] = conventions;
    out
}

/// The metrics as a table for a terminal.
pub fn table(m: &Value) -> String {
    let pct = |k: &str| {
        m[k].as_f64()
            .map_or("—".to_owned(), |v| format!("{:.2} %", v * 100.0))
    };
    let num = |k: &str| m[k].as_f64().map_or("—".to_owned(), |v| format!("{v:.3}"));
    let date = |k: &str| m[k].as_str().unwrap_or("—").to_owned();
    let rows = [
        (
            "period",
            format!("{} → {} ({} days)", date("start"), date("end"), m["days"]),
        ),
        ("final NAV", num("final_nav")),
        ("total return", pct("total_return")),
        ("  gross of costs", pct("gross_total_return")),
        ("annual return", pct("annual_return")),
        ("annual volatility", pct("annual_volatility")),
        ("Sharpe", num("sharpe")),
        ("Sortino", num("sortino")),
        (
            "max drawdown",
            format!(
                "{} ({} → {}, recovered {})",
                pct("max_drawdown"),
                date("max_drawdown_peak"),
                date("max_drawdown_trough"),
                date("max_drawdown_recovery")
            ),
        ),
        ("Calmar", num("calmar")),
        ("win rate", pct("win_rate")),
        ("turnover (a year)", num("turnover")),
        ("exposure", pct("exposure")),
        ("benchmark return", pct("benchmark_total_return")),
        ("beta", num("beta")),
        ("alpha (a year)", pct("alpha")),
        ("costs paid", num("costs")),
        (
            "orders",
            format!(
                "{} ({} filled, {} partial, {} not filled)",
                m["orders"], m["orders_filled"], m["orders_partial"], m["orders_not_filled"]
            ),
        ),
    ];
    rows.iter()
        .map(|(k, v)| format!("{k:<20} {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}
