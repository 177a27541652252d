//! Speed of the backtest simulator, for `make bench` (`scripts/bench/simulate.sh`).
//!
//!     cargo run --release -p stockpilot-domain --example simulate_bench -- SYMBOLS DAYS [OUT_DIR] [REPEATS]
//!
//! SYMBOLS × DAYS synthetic bars (a seeded random walk, every symbol trading every day), equal
//! weights of 95 % rebalanced every fifth day, the `US` preset with no minimum commission (so
//! vectorbt and backtrader can run the same orders). Prints JSON with the best of REPEATS runs
//! (default 5); with OUT_DIR, writes the prices and the fills for the peers' script.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_precision_loss)]

use std::io::Write;
use std::time::Instant;

use chrono::NaiveDate;
use stockpilot_domain::backtest::{Benchmark, Panel, Rules, Side, Simulation, Targets};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        ((self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// A standard normal draw (Box–Muller).
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let symbols: usize = args.get(1).map_or(10, |a| a.parse().unwrap());
    let days: usize = args.get(2).map_or(10_000, |a| a.parse().unwrap());
    let out = args
        .get(3)
        .filter(|a| !a.is_empty())
        .map(std::path::PathBuf::from);
    let repeats: usize = args.get(4).map_or(5, |a| a.parse().unwrap());

    let start = NaiveDate::from_ymd_opt(1980, 1, 1).unwrap();
    let names: Vec<String> = (0..symbols).map(|s| format!("S{s:03}")).collect();
    let mut panel = Panel::new(
        (0..days)
            .map(|d| start + chrono::Duration::days(d as i64))
            .collect(),
        names.clone(),
    );
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for s in 0..symbols {
        let mut close = 100.0;
        for d in 0..days {
            let open = close * (1.0 + 0.005 * rng.normal());
            close = open * (1.0 + 0.015 * rng.normal());
            panel.set(d, s, open, close, 1.0);
        }
    }
    let weight = 0.95 / symbols as f64;
    let targets: Vec<Targets> = (0..days)
        .step_by(5)
        .map(|day| Targets {
            day,
            weights: (0..symbols).map(|s| (s, weight)).collect(),
        })
        .collect();
    let mut rules = Rules::us();
    rules.costs.commission_min = 0.0;
    let (fees, slippage) = (rules.costs.commission_rate, rules.costs.slippage);
    let simulation = Simulation {
        rules,
        cash: 1_000_000.0,
        benchmark: Benchmark::EqualWeight,
    };

    let mut best = f64::INFINITY;
    let mut outcome = None;
    for _ in 0..repeats.max(1) {
        let began = Instant::now();
        let run = simulation.run(&panel, &targets).unwrap();
        best = best.min(began.elapsed().as_secs_f64());
        outcome = Some(run);
    }
    let outcome = outcome.unwrap();
    let bars = symbols * days;
    println!(
        "{{\"engine\": \"stockpilot\", \"symbols\": {symbols}, \"days\": {days}, \"bars\": {bars}, \"seconds\": {best}, \"bars_per_second\": {}, \"orders\": {}, \"final_value\": {}}}",
        bars as f64 / best,
        outcome.orders.len(),
        outcome.days[days - 1].nav
    );

    if let Some(dir) = out {
        std::fs::create_dir_all(&dir).unwrap();
        for (name, pick) in [("open.csv", 0), ("close.csv", 1)] {
            let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join(name)).unwrap());
            writeln!(f, "date,{}", names.join(",")).unwrap();
            for (d, date) in panel.dates().iter().enumerate() {
                write!(f, "{date}").unwrap();
                for s in 0..symbols {
                    let (open, close, _) = panel.bar(d, s).unwrap();
                    write!(f, ",{:.17e}", if pick == 0 { open } else { close }).unwrap();
                }
                writeln!(f).unwrap();
            }
        }
        let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join("orders.csv")).unwrap());
        writeln!(f, "fill_date,symbol,size").unwrap();
        for o in outcome.orders.iter().filter(|o| o.quantity > 0.0) {
            let sign = if o.side == Side::Buy { 1.0 } else { -1.0 };
            writeln!(
                f,
                "{},{},{:.17e}",
                o.fill_date,
                names[o.symbol],
                sign * o.adjusted_quantity
            )
            .unwrap();
        }
        std::fs::write(
            dir.join("params.json"),
            format!("{{\"fees\": {fees:e}, \"slippage\": {slippage:e}, \"init_cash\": 1000000.0}}"),
        )
        .unwrap();
    }
}
