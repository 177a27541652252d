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

/// The demo's AAPL, IBM, MSFT and GOOG as a panel, factors from the adjusted close.
fn demo_panel() -> Panel {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(DEMO).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let symbols = ["AAPL", "IBM", "MSFT", "GOOG"];
    let rows: Vec<(usize, NaiveDate, f64, f64, f64)> = text
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let s = symbols.iter().position(|s| *s == f[0])?;
            let date = NaiveDate::parse_from_str(f[1], "%Y-%m-%d").unwrap();
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
    let panel = demo_panel();
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
        let run = Command::new(&python)
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../scripts/oracles/metrics.py"
            ))
            .arg(&csv)
            .arg(rf.to_string())
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let theirs: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
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
