//! Criterion benches of the indicator kernels over 1,000,000 real daily bars, and the dump
//! that lets `scripts/bench/talib_bench.py` time TA-Lib on the very same series and
//! cross-check every value.
//!
//! The series: every unadjusted bar of the bundled demo file (`data/demo/`, AAPL, IBM, MSFT,
//! GOOG and FB, 2000–2013, 12,154 bars), each ticker's bars in date order, the tickers one
//! after another, the whole concatenation repeated and cut at exactly `INDICATOR_BARS` bars
//! (default 1,000,000). Nothing is synthesised: every bar is a real one; the only artefacts
//! are the jumps where one ticker's history ends and the next begins.
//!
//! ```sh
//! cargo bench -p stockpilot-domain --bench indicators             # criterion
//! INDICATOR_DUMP_DIR=/tmp/ind cargo bench -p stockpilot-domain --bench indicators
//! #   writes series.f64 (high, low, close: 3 × n little-endian f64) and one <output>.f64
//! #   per output series, plus meta.json, and exits without benchmarking
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench: failing loudly is the point

use std::collections::BTreeMap;
use std::hint::black_box;
use std::io::{BufWriter, Read, Write};
use std::path::Path;

use criterion::{BenchmarkId, Criterion, Throughput};
use flate2::read::GzDecoder;
use stockpilot_domain::indicators::{atr, bollinger, ema, macd, rsi, sma};

/// The allocator of the server binary, so the kernels are timed as the server runs them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const DEMO_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/demo/us-equities-daily-2000-2013.csv.gz"
);
const TICKERS: [&str; 5] = ["AAPL", "IBM", "MSFT", "GOOG", "FB"];
const DEFAULT_BARS: usize = 1_000_000;

/// Parameters of every benchmarked kernel: the usual defaults, as TA-Lib is called with them.
const SMA_PERIOD: usize = 20;
const EMA_PERIOD: usize = 20;
const RSI_PERIOD: usize = 14;
const MACD_PERIODS: (usize, usize, usize) = (12, 26, 9);
const BOLLINGER_PERIOD: usize = 20;
const BOLLINGER_K: f64 = 2.0;
const ATR_PERIOD: usize = 14;

/// High, low and close columns of the benchmark series.
struct Series {
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
}

fn demo_series(bars: usize) -> Series {
    let mut text = String::new();
    GzDecoder::new(std::fs::File::open(DEMO_FILE).expect("demo file"))
        .read_to_string(&mut text)
        .expect("gzip");
    // Ticker → date-ordered (date, high, low, close); ISO dates sort as text.
    let mut by_ticker: BTreeMap<&str, Vec<(&str, f64, f64, f64)>> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let num = |i: usize| f[i].parse::<f64>().expect("number");
        by_ticker
            .entry(f[0])
            .or_default()
            .push((f[1], num(3), num(4), num(5)));
    }
    let mut real = Vec::new();
    for ticker in TICKERS {
        let mut rows = by_ticker.remove(ticker).expect("ticker in the demo file");
        rows.sort_by(|a, b| a.0.cmp(b.0));
        real.extend(rows.into_iter().map(|(_, h, l, c)| (h, l, c)));
    }
    let mut series = Series {
        high: Vec::with_capacity(bars),
        low: Vec::with_capacity(bars),
        close: Vec::with_capacity(bars),
    };
    for &(h, l, c) in real.iter().cycle().take(bars) {
        series.high.push(h);
        series.low.push(l);
        series.close.push(c);
    }
    series
}

fn bars_from_env() -> usize {
    std::env::var("INDICATOR_BARS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_BARS)
}

fn write_f64s(path: &Path, columns: &[&[f64]]) {
    let mut out = BufWriter::new(std::fs::File::create(path).expect("create dump file"));
    for column in columns {
        for value in *column {
            out.write_all(&value.to_le_bytes()).expect("write dump");
        }
    }
    out.flush().expect("flush dump");
}

/// Writes the series and every kernel's output for `talib_bench.py`.
fn dump(dir: &Path, series: &Series) {
    std::fs::create_dir_all(dir).expect("dump dir");
    let n = series.close.len();
    write_f64s(
        &dir.join("series.f64"),
        &[&series.high, &series.low, &series.close],
    );
    let (h, l, c) = (&series.high[..], &series.low[..], &series.close[..]);
    let (fast, slow, signal) = MACD_PERIODS;
    let m = macd(c, fast, slow, signal).unwrap();
    let b = bollinger(c, BOLLINGER_PERIOD, BOLLINGER_K).unwrap();
    let outputs: [(&str, Vec<f64>); 10] = [
        ("sma", sma(c, SMA_PERIOD).unwrap()),
        ("ema", ema(c, EMA_PERIOD).unwrap()),
        ("rsi", rsi(c, RSI_PERIOD).unwrap()),
        ("macd", m.macd),
        ("macd_signal", m.signal),
        ("macd_hist", m.histogram),
        ("bb_upper", b.upper),
        ("bb_middle", b.middle),
        ("bb_lower", b.lower),
        ("atr", atr(h, l, c, ATR_PERIOD).unwrap()),
    ];
    for (name, values) in &outputs {
        write_f64s(&dir.join(format!("{name}.f64")), &[values]);
    }
    let meta = format!(
        concat!(
            "{{\"bars\":{},\"tickers\":{:?},\"series\":[\"high\",\"low\",\"close\"],",
            "\"sma\":{},\"ema\":{},\"rsi\":{},\"macd\":[{},{},{}],",
            "\"bollinger\":[{},{}],\"atr\":{}}}\n"
        ),
        n,
        TICKERS,
        SMA_PERIOD,
        EMA_PERIOD,
        RSI_PERIOD,
        fast,
        slow,
        signal,
        BOLLINGER_PERIOD,
        BOLLINGER_K,
        ATR_PERIOD,
    );
    std::fs::write(dir.join("meta.json"), meta).expect("meta.json");
    eprintln!(
        "dumped {n} bars and {} outputs to {}",
        outputs.len(),
        dir.display()
    );
}

fn bench(c: &mut Criterion, series: &Series) {
    let (h, l, cl) = (&series.high[..], &series.low[..], &series.close[..]);
    let mut group = c.benchmark_group("indicators");
    group.throughput(Throughput::Elements(cl.len() as u64));
    group.bench_with_input(BenchmarkId::new("sma", SMA_PERIOD), cl, |b, cl| {
        b.iter(|| sma(black_box(cl), SMA_PERIOD).unwrap());
    });
    group.bench_with_input(BenchmarkId::new("ema", EMA_PERIOD), cl, |b, cl| {
        b.iter(|| ema(black_box(cl), EMA_PERIOD).unwrap());
    });
    group.bench_with_input(BenchmarkId::new("rsi", RSI_PERIOD), cl, |b, cl| {
        b.iter(|| rsi(black_box(cl), RSI_PERIOD).unwrap());
    });
    let (fast, slow, signal) = MACD_PERIODS;
    group.bench_with_input(
        BenchmarkId::new("macd", format!("{fast}-{slow}-{signal}")),
        cl,
        |b, cl| b.iter(|| macd(black_box(cl), fast, slow, signal).unwrap()),
    );
    group.bench_with_input(
        BenchmarkId::new("bollinger", format!("{BOLLINGER_PERIOD}-{BOLLINGER_K}")),
        cl,
        |b, cl| b.iter(|| bollinger(black_box(cl), BOLLINGER_PERIOD, BOLLINGER_K).unwrap()),
    );
    group.bench_function(BenchmarkId::new("atr", ATR_PERIOD), |b| {
        b.iter(|| atr(black_box(h), black_box(l), black_box(cl), ATR_PERIOD).unwrap());
    });
    group.finish();
}

/// Without criterion: `INDICATOR_QUICK=<calls>` times each kernel that many times and prints
/// the fastest and the median call, a robust figure on a machine that is busy with other work.
fn quick(series: &Series, calls: usize) {
    let (h, l, c) = (&series.high[..], &series.low[..], &series.close[..]);
    let (fast, slow, signal) = MACD_PERIODS;
    type Kernel<'a> = (&'static str, Box<dyn Fn() + 'a>);
    let kernels: [Kernel; 6] = [
        (
            "sma",
            Box::new(|| drop(black_box(sma(black_box(c), SMA_PERIOD)))),
        ),
        (
            "ema",
            Box::new(|| drop(black_box(ema(black_box(c), EMA_PERIOD)))),
        ),
        (
            "rsi",
            Box::new(|| drop(black_box(rsi(black_box(c), RSI_PERIOD)))),
        ),
        (
            "macd",
            Box::new(|| drop(black_box(macd(black_box(c), fast, slow, signal)))),
        ),
        (
            "bollinger",
            Box::new(|| {
                drop(black_box(bollinger(
                    black_box(c),
                    BOLLINGER_PERIOD,
                    BOLLINGER_K,
                )))
            }),
        ),
        (
            "atr",
            Box::new(|| drop(black_box(atr(black_box(h), l, c, ATR_PERIOD)))),
        ),
    ];
    for (name, kernel) in &kernels {
        kernel();
        let mut times: Vec<f64> = (0..calls.max(1))
            .map(|_| {
                let start = std::time::Instant::now();
                kernel();
                start.elapsed().as_secs_f64()
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let (min, median) = (times[0], times[times.len() / 2]);
        println!(
            "{name:10} min {:8.3} ms  median {:8.3} ms  {:7.1} M bars/s (min)",
            min * 1e3,
            median * 1e3,
            c.len() as f64 / min / 1e6
        );
    }
}

fn main() {
    let series = demo_series(bars_from_env());
    if let Some(dir) = std::env::var_os("INDICATOR_DUMP_DIR") {
        dump(Path::new(&dir), &series);
        return;
    }
    if let Some(calls) = std::env::var("INDICATOR_QUICK")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        quick(&series, calls);
        return;
    }
    let mut criterion = Criterion::default().configure_from_args();
    bench(&mut criterion, &series);
    criterion.final_summary();
}
