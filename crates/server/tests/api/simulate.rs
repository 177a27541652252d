//! `stockpilot simulate` as a user runs it: the demo data from the bundled file and from the
//! database, the files it writes checked against each other, and bad input refused with a
//! message naming the option, file or line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::helpers::csv_rows;

const BIN: &str = env!("CARGO_BIN_EXE_stockpilot");

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

/// Runs `stockpilot simulate` in `dir` (its own SQLite database there) with `args`.
fn simulate(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .arg("simulate")
        .args(args)
        .output()
        .unwrap()
}

fn weekly_on_demo(dir: &Path, out: &str, extra: &[&str]) -> Output {
    let weights = repo("examples/weights-weekly.csv");
    let bars = repo("data/demo/us-equities-daily-2000-2013.csv.gz");
    let mut args = vec![
        "--weights",
        weights.to_str().unwrap(),
        "--market",
        "US",
        "--from",
        "2005-01-01",
        "--to",
        "2012-12-31",
        "--out",
        out,
        "--bars",
        bars.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    simulate(dir, &args)
}

#[test]
fn the_files_agree_with_each_other_and_with_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    let run = weekly_on_demo(dir.path(), "out", &[]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let table = String::from_utf8_lossy(&run.stdout);
    assert!(
        table.contains("Sharpe") && table.contains("max drawdown"),
        "{table}"
    );
    let out = dir.path().join("out");
    let equity = csv_rows(&out.join("equity.csv"));
    let orders = csv_rows(&out.join("orders.csv"));
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();

    // Every day: NAV = cash + positions; days are the demo's trading days of the range.
    assert_eq!(equity.len(), 2013);
    assert_eq!(equity[0][0], "2005-01-03");
    let num = |s: &str| s.parse::<f64>().unwrap();
    for row in &equity {
        let (cash, positions, nav) = (num(&row[1]), num(&row[2]), num(&row[3]));
        assert!((cash + positions - nav).abs() < 1e-6 * nav, "{row:?}");
        assert!(cash >= 0.0, "{row:?}");
    }
    // Fills come after their signals, never on the signal's bar.
    assert!(!orders.is_empty());
    assert!(orders.iter().all(|o| o[1] > o[0]), "a same-day fill");
    assert_eq!(orders[0][0], "2005-01-03");
    assert_eq!(orders[0][1], "2005-01-04");
    // AAPL's 2:1 split on 2005-02-28 is not a loss: the NAV moves like the market that day.
    let nav_on = |date: &str| num(&equity.iter().find(|r| r[0] == date).unwrap()[3]);
    assert!((nav_on("2005-02-28") / nav_on("2005-02-25") - 1.0).abs() < 0.03);
    // metrics.json against a recomputation from equity.csv.
    let navs: Vec<f64> = equity.iter().map(|r| num(&r[3])).collect();
    let total = navs[navs.len() - 1] / navs[0] - 1.0;
    assert!((metrics["total_return"].as_f64().unwrap() - total).abs() < 1e-12);
    let mut peak = navs[0];
    let mut worst: f64 = 0.0;
    for v in &navs {
        peak = peak.max(*v);
        worst = worst.max(1.0 - v / peak);
    }
    assert!((metrics["max_drawdown"].as_f64().unwrap() - worst).abs() < 1e-12);
    let r: Vec<f64> = navs.windows(2).map(|w| w[1] / w[0] - 1.0).collect();
    let mean = r.iter().sum::<f64>() / r.len() as f64;
    let sd = (r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (r.len() - 1) as f64).sqrt();
    let sharpe = mean / sd * 252f64.sqrt();
    assert!((metrics["sharpe"].as_f64().unwrap() - sharpe).abs() < 1e-9);
    assert_eq!(metrics["conventions"]["periods_per_year"], 252.0);
    assert_eq!(metrics["conventions"]["rules"]["commission_min"], 1.0);
    assert_eq!(metrics["orders"].as_u64().unwrap() as usize, orders.len());
    // Costs: gross NAV is above NAV by what was paid.
    let last = &equity[equity.len() - 1];
    assert!(num(&last[4]) > num(&last[3]));
}

#[test]
fn the_database_and_the_bundled_file_give_the_same_run() {
    let dir = tempfile::tempdir().unwrap();
    let import = Command::new(BIN)
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .args(["data", "import-demo"])
        .output()
        .unwrap();
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    let from_file = weekly_on_demo(dir.path(), "file", &["--json"]);
    assert!(
        from_file.status.success(),
        "{}",
        String::from_utf8_lossy(&from_file.stderr)
    );
    let weights = repo("examples/weights-weekly.csv");
    let from_db = simulate(
        dir.path(),
        &[
            "--weights",
            weights.to_str().unwrap(),
            "--market",
            "US",
            "--from",
            "2005-01-01",
            "--to",
            "2012-12-31",
            "--out",
            "db",
            "--json",
        ],
    );
    assert!(
        from_db.status.success(),
        "{}",
        String::from_utf8_lossy(&from_db.stderr)
    );
    let a: serde_json::Value = serde_json::from_slice(&from_file.stdout).unwrap();
    let b: serde_json::Value = serde_json::from_slice(&from_db.stdout).unwrap();
    assert_eq!(a["orders"], b["orders"]);
    assert_eq!(a["days"], b["days"]);
    // Stored factors keep 8 decimals; the file's are exact: the NAVs agree to far below a cent.
    let (x, y) = (
        a["final_nav"].as_f64().unwrap(),
        b["final_nav"].as_f64().unwrap(),
    );
    assert!((x / y - 1.0).abs() < 1e-6, "{x} vs {y}");
}

#[test]
fn bad_input_is_refused_naming_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let weights = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let bars = repo("data/demo/us-equities-daily-2000-2013.csv.gz");
    let bars = bars.to_str().unwrap();
    let over = weights(
        "over.csv",
        "date,symbol,weight\n2005-01-03,AAPL,0.6\n2005-01-03,IBM,0.5\n",
    );
    let unknown = weights("unknown.csv", "date,symbol,weight\n2005-01-03,ZZZZ,0.5\n");
    let holiday = weights(
        "holiday.csv",
        "date,symbol,weight\n2005-01-01,AAPL,0.5\n2005-01-03,AAPL,0.5\n",
    );
    let ok = weights("ok.csv", "date,symbol,weight\n2005-01-03,AAPL,0.5\n");
    let base = |w: &str| {
        vec![
            "--weights".to_owned(),
            w.to_owned(),
            "--market".into(),
            "US".into(),
            "--from".into(),
            "2005-01-01".into(),
            "--to".into(),
            "2005-12-31".into(),
            "--out".into(),
            "out".into(),
            "--bars".into(),
            bars.to_owned(),
        ]
    };
    // The base arguments with some of them replaced: (index, value).
    let changed = |w: &str, replace: &[(usize, &str)]| {
        let mut args = base(w);
        for (i, v) in replace {
            args[*i] = (*v).to_owned();
        }
        args
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (base(&over), "2005-01-03: the weights sum to 1.1, above 1"),
        (
            base(&unknown),
            "ZZZZ has no bars between 2005-01-01 and 2005-12-31",
        ),
        (
            base(&holiday),
            "holiday.csv line 2: 2005-01-01 is not a trading day of the data",
        ),
        (
            [base(&ok), vec!["--commission".into(), "-0.001".into()]].concat(),
            "--commission: -0.001 is not a rate in [0, 0.1)",
        ),
        (
            changed(&ok, &[(3, "HK")]),
            "--market: 'HK' is not one of: CN, US",
        ),
        (
            [base(&ok), vec!["--fill".into(), "same_close".into()]].concat(),
            "--fill: 'same_close' is not one of: next_open, next_close",
        ),
        (
            [base(&ok), vec!["--cash".into(), "0".into()]].concat(),
            "--cash: 0 is not an amount > 0",
        ),
        (
            changed(&ok, &[(7, "2004-01-01")]),
            "--from 2005-01-01 is after --to 2004-01-01",
        ),
        (
            changed(&ok, &[(5, "1990-01-01"), (7, "1990-12-31")]),
            "AAPL has no bars between 1990-01-01 and 1990-12-31",
        ),
        (
            [changed(&ok, &[(3, "CN")]), vec!["--shorts".into()]].concat(),
            "--shorts: A-shares (--market CN) cannot be sold short",
        ),
    ];
    for (args, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = simulate(dir.path(), &args);
        let err = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains(expected),
            "{args:?}: expected «{expected}» in {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    // From the database, a symbol it does not hold.
    let run = simulate(
        dir.path(),
        &[
            "--weights",
            &unknown,
            "--market",
            "US",
            "--from",
            "2005-01-01",
            "--to",
            "2005-12-31",
            "--out",
            "out",
        ],
    );
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("ZZZZ: no such instrument in the store"),
        "{err}"
    );
}
