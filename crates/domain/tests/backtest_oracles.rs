//! The simulator's metrics against quantstats and empyrical, on a real run: weekly equal weights
//! of the demo's US stocks, 2000–2013, with the US preset. The libraries run from the virtualenv
//! `scripts/oracles/venv.sh` makes; `make test-all` sets `ORACLE_PYTHON` to it, and without it
//! the test says so and checks nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::process::Command;

use chrono::NaiveDate;
use stockpilot_domain::backtest::{
    Benchmark, MetricSettings, Panel, Rules, Simulation, Targets, metrics,
};

const DEMO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/demo/us-equities-daily-2000-2013.csv.gz"
);

/// `symbols` of the demo file from `from` on as a panel, factors from the adjusted close.
fn demo_panel(symbols: &[&str], from: &str) -> Panel {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(DEMO).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let from = NaiveDate::parse_from_str(from, "%Y-%m-%d").unwrap();
    let rows: Vec<(usize, NaiveDate, f64, f64, f64)> = text
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let s = symbols.iter().position(|s| *s == f[0])?;
            let date = NaiveDate::parse_from_str(f[1], "%Y-%m-%d").unwrap();
            if date < from {
                return None;
            }
            let (open, close, adj): (f64, f64, f64) = (
                f[2].parse().unwrap(),
                f[5].parse().unwrap(),
                f[7].parse().unwrap(),
            );
            Some((s, date, open, close, adj / close))
        })
        .collect();
    let mut dates: Vec<NaiveDate> = rows.iter().map(|r| r.1).collect();
    dates.sort_unstable();
    dates.dedup();
    let mut panel = Panel::new(dates.clone(), symbols.iter().map(|s| (*s).into()).collect());
    for (s, date, open, close, factor) in rows {
        panel.set(dates.binary_search(&date).unwrap(), s, open, close, factor);
    }
    panel
}

#[test]
fn metrics_agree_with_quantstats_and_empyrical() {
    let Ok(python) = std::env::var("ORACLE_PYTHON") else {
        eprintln!("ORACLE_PYTHON not set (make test-all sets it); the metric oracles are not run");
        return;
    };
    let panel = demo_panel(&["AAPL", "IBM", "MSFT", "GOOG"], "2000-01-01");
    let days = panel.dates().len();
    let targets: Vec<Targets> = (0..days)
        .step_by(5)
        .map(|day| Targets {
            day,
            weights: (0..4)
                .filter(|s| panel.bar(day, *s).is_some())
                .map(|s| (s, 0.24))
                .collect(),
        })
        .collect();
    let out = Simulation {
        rules: Rules::us(),
        cash: 1_000_000.0,
        benchmark: Benchmark::EqualWeight,
    }
    .run(&panel, &targets)
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("nav.csv");
    let mut file = std::fs::File::create(&csv).unwrap();
    writeln!(file, "date,nav,benchmark").unwrap();
    for d in &out.days {
        writeln!(file, "{},{:.17e},{:.17e}", d.date, d.nav, d.benchmark_nav).unwrap();
    }
    drop(file);

    for rf in [0.0, 0.03] {
        let ours = metrics(
            &out.days,
            MetricSettings {
                periods: 252.0,
                risk_free: rf,
            },
        )
        .unwrap();
        let theirs = oracle(&python, "metrics.py", &[&csv, &rf.to_string()]);
        let mine = [
            ("sharpe", ours.sharpe),
            ("sortino", ours.sortino),
            ("annual_volatility", ours.annual_volatility),
            ("max_drawdown", ours.max_drawdown.depth),
            ("annual_return", ours.annual_return),
            ("beta", ours.beta),
            ("alpha", ours.alpha),
        ];
        for library in ["quantstats", "empyrical"] {
            for (name, value) in mine {
                let Some(expected) = theirs[library][name].as_f64() else {
                    continue;
                };
                let tolerance = 1e-10 * expected.abs().max(1.0);
                assert!(
                    (value - expected).abs() <= tolerance,
                    "rf {rf}: {name} is {value}, {library} says {expected}"
                );
            }
        }
        eprintln!(
            "rf {rf}: sharpe {:.6}, sortino {:.6}, volatility {:.6}, max drawdown {:.6}, CAGR {:.6}, beta {:.6}, alpha {:.6} — equal to quantstats {} and empyrical {} within 1e-10",
            ours.sharpe,
            ours.sortino,
            ours.annual_volatility,
            ours.max_drawdown.depth,
            ours.annual_return,
            ours.beta,
            ours.alpha,
            theirs["versions"]["quantstats"],
            theirs["versions"]["empyrical"],
        );
    }
}

/// Runs `scripts/oracles/SCRIPT ARGS…` with the oracle Python and parses the JSON it prints.
fn oracle(python: &str, script: &str, args: &[&dyn AsRef<std::ffi::OsStr>]) -> serde_json::Value {
    let run = Command::new(python)
        .arg(format!(
            "{}/../../scripts/oracles/{script}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .args(args.iter().map(|a| a.as_ref()))
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    serde_json::from_slice(&run.stdout).unwrap()
}

/// Weekly targets: `weight` of every symbol that has a bar on the signal day.
fn weekly(panel: &Panel, weight: f64) -> Vec<Targets> {
    (0..panel.dates().len())
        .step_by(5)
        .map(|day| Targets {
            day,
            weights: (0..panel.symbols().len())
                .filter(|s| panel.bar(day, *s).is_some())
                .map(|s| (s, weight))
                .collect(),
        })
        .collect()
}

#[test]
fn the_same_orders_through_vectorbt_give_the_same_fills_and_daily_nav() {
    let Ok(python) = std::env::var("ORACLE_PYTHON") else {
        eprintln!("ORACLE_PYTHON not set (make test-all sets it); the vectorbt parity is not run");
        return;
    };
    // The demo's 5 symbols over its last 10 years, rebalanced weekly; vectorbt has no minimum
    // commission, so it is 0 here (the unit cases cover it).
    let symbols = ["AAPL", "IBM", "MSFT", "GOOG", "FB"];
    let panel = demo_panel(&symbols, "2003-03-01");
    let mut rules = Rules::us();
    rules.costs.commission_min = 0.0;
    let (fees, slippage) = (rules.costs.commission_rate, rules.costs.slippage);
    let out = Simulation {
        rules,
        cash: 1_000_000.0,
        benchmark: Benchmark::EqualWeight,
    }
    .run(&panel, &weekly(&panel, 0.19))
    .unwrap();
    let filled: Vec<_> = out.orders.iter().filter(|o| o.quantity > 0.0).collect();
    assert_eq!(
        filled.len(),
        out.orders.len(),
        "every order fills in this case"
    );

    let dir = tempfile::tempdir().unwrap();
    for (name, pick) in [("open.csv", 0usize), ("close.csv", 1)] {
        let mut file = std::fs::File::create(dir.path().join(name)).unwrap();
        writeln!(file, "date,{}", symbols.join(",")).unwrap();
        for (d, date) in panel.dates().iter().enumerate() {
            let cells: Vec<String> = (0..symbols.len())
                .map(|s| {
                    panel
                        .bar(d, s)
                        .map_or(String::new(), |(open, close, factor)| {
                            format!("{:.17e}", if pick == 0 { open } else { close } * factor)
                        })
                })
                .collect();
            writeln!(file, "{date},{}", cells.join(",")).unwrap();
        }
    }
    let mut orders = std::fs::File::create(dir.path().join("orders.csv")).unwrap();
    writeln!(orders, "fill_date,symbol,size").unwrap();
    for o in &filled {
        let sign = if o.side == stockpilot_domain::backtest::Side::Buy {
            1.0
        } else {
            -1.0
        };
        writeln!(
            orders,
            "{},{},{:.17e}",
            o.fill_date,
            symbols[o.symbol],
            sign * o.adjusted_quantity
        )
        .unwrap();
    }
    drop(orders);
    std::fs::write(
        dir.path().join("params.json"),
        format!("{{\"fees\": {fees:e}, \"slippage\": {slippage:e}, \"init_cash\": 1000000.0}}"),
    )
    .unwrap();
    let theirs = oracle(&python, "vectorbt_parity.py", &[&dir.path()]);

    let close = |a: f64, b: f64| (a - b).abs() <= 1e-8 * a.abs().max(b.abs());
    let value = theirs["value"].as_array().unwrap();
    assert_eq!(value.len(), out.days.len());
    let mut worst: f64 = 0.0;
    for (day, v) in out.days.iter().zip(value) {
        let v = v.as_f64().unwrap();
        worst = worst.max((day.nav / v - 1.0).abs());
        assert!(
            close(day.nav, v),
            "{}: NAV {} vs vectorbt {v}",
            day.date,
            day.nav
        );
    }
    let fills = theirs["orders"].as_array().unwrap();
    assert_eq!(fills.len(), filled.len());
    // vectorbt lists orders by column, then time; ours are by time, then sells before buys.
    let mut ours: Vec<_> = filled
        .iter()
        .map(|o| (symbols[o.symbol], o.fill_date.to_string(), *o))
        .collect();
    ours.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let mut listed: Vec<&serde_json::Value> = fills.iter().collect();
    listed.sort_by(|a, b| {
        (a["symbol"].as_str(), a["date"].as_str()).cmp(&(b["symbol"].as_str(), b["date"].as_str()))
    });
    for ((symbol, date, o), f) in ours.iter().zip(listed) {
        assert_eq!(
            (*symbol, date.as_str()),
            (f["symbol"].as_str().unwrap(), f["date"].as_str().unwrap())
        );
        let factor = o.quantity / o.adjusted_quantity;
        assert!(
            close(o.adjusted_quantity, f["size"].as_f64().unwrap()),
            "{symbol} {date} size"
        );
        assert!(
            close(o.price * factor, f["price"].as_f64().unwrap()),
            "{symbol} {date} price"
        );
        assert!(
            close(o.commission, f["fees"].as_f64().unwrap()),
            "{symbol} {date} fees"
        );
        assert_eq!(o.side.as_str(), f["side"].as_str().unwrap());
    }
    eprintln!(
        "vectorbt {}: {} days and {} fills of 5 symbols equal to 1e-8 (largest NAV difference {worst:.1e} relative)",
        theirs["version"],
        out.days.len(),
        filled.len()
    );
}

#[test]
fn the_information_coefficient_agrees_with_scipy() {
    let Ok(python) = std::env::var("ORACLE_PYTHON") else {
        eprintln!("ORACLE_PYTHON not set (make test-all sets it); the IC oracle is not run");
        return;
    };
    // A score any analyst could give: 20-day momentum rounded to whole percent (so there are
    // ties), against the next week's return, of the demo's AAPL, IBM and MSFT every week.
    let panel = demo_panel(&["AAPL", "IBM", "MSFT"], "2000-01-01");
    let adjusted = |d: usize, s: usize| panel.bar(d, s).map(|(_, c, f)| c * f);
    let (mut scores, mut returns) = (Vec::new(), Vec::new());
    for day in (20..panel.dates().len() - 5).step_by(5) {
        for s in 0..3 {
            let (Some(past), Some(now), Some(next)) = (
                adjusted(day - 20, s),
                adjusted(day, s),
                adjusted(day + 5, s),
            ) else {
                continue;
            };
            scores.push(((now / past - 1.0) * 100.0).round());
            returns.push(next / now - 1.0);
        }
    }
    let ours = stockpilot_domain::backtest::information_coefficient(&scores, &returns);
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("ic.csv");
    let mut file = std::fs::File::create(&csv).unwrap();
    writeln!(file, "score,return").unwrap();
    for (s, r) in scores.iter().zip(&returns) {
        writeln!(file, "{s:.17e},{r:.17e}").unwrap();
    }
    drop(file);
    let theirs = oracle(&python, "ic.py", &[&csv]);
    for (name, value) in [("pearson", ours.pearson), ("spearman", ours.spearman)] {
        let expected = theirs[name].as_f64().unwrap();
        assert!(
            (value - expected).abs() < 1e-12,
            "{name}: {value} vs scipy {expected}"
        );
    }
    eprintln!(
        "IC of {} pairs: Pearson {:.6}, Spearman {:.6} (t {:.2}, hit rate {:.3}) — equal to scipy {} within 1e-12",
        ours.observations, ours.pearson, ours.spearman, ours.t_stat, ours.hit_rate, theirs["scipy"]
    );
}
