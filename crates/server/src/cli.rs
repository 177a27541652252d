//! The command line: `stockpilot serve | migrate … | config … | sync … | data … | analyze … |
//! simulate … | backtest … | apikey … | healthcheck`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// A calendar date argument; clap puts the argument's name before the message.
fn date(text: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| "expected a calendar date as YYYY-MM-DD, e.g. 2013-03-01".to_owned())
}

#[derive(Debug, Parser)]
#[command(
    name = "stockpilot",
    version,
    about = "Self-hosted backend for AI-assisted equity research"
)]
pub struct Cli {
    /// Configuration file (TOML with [default]/[development]/[production] profiles).
    /// Defaults to $STOCKPILOT_CONFIG, else ./stockpilot.toml when present.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run migrations (unless database.auto_migrate = false), then serve the API.
    Serve,
    /// Database migrations, alembic-style.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Inspect the configuration.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Market data sync jobs.
    Sync {
        #[command(subcommand)]
        action: SyncAction,
    },
    /// The bundled demo dataset.
    Data {
        #[command(subcommand)]
        action: DataAction,
    },
    /// Research the symbols now, in this process, and print a table of signals and decisions.
    /// Exits 1 when the run fails or any analyst fails.
    Analyze {
        /// Symbols, e.g. `AAPL MSFT` or `600519.SH` (at most 20).
        #[arg(required = true, num_args = 1..)]
        symbols: Vec<String>,
        /// Analysts, comma-separated (default: all but `debate`); see GET /api/v1/research/analysts.
        #[arg(long, value_delimiter = ',')]
        analysts: Option<Vec<String>>,
        /// Analysis date, YYYY-MM-DD (default: the newest stored bar of the symbols).
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = date)]
        as_of: Option<chrono::NaiveDate>,
        /// LLM provider by name (default: the gateway's priority order).
        #[arg(long)]
        llm_provider: Option<String>,
        /// Bull/bear debate rounds (0 = no debate).
        #[arg(long)]
        debate_rounds: Option<u8>,
        /// Token budget of the run (default: research.max_tokens).
        #[arg(long)]
        max_tokens: Option<u64>,
        /// Print the whole run as JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Simulate target weights over history with a market's costs and rules: orders, fills,
    /// daily NAV and metrics (docs/backtesting.md). Prints the metrics and writes equity.csv,
    /// orders.csv, positions.csv and metrics.json to --out.
    Simulate(Box<SimulateArgs>),
    /// Backtest the research: the analysts as of each rebalance date (nothing dated later is
    /// read), their decisions as target weights through the simulator, and each analyst's
    /// information coefficient (docs/backtesting.md). Writes the simulator's files plus
    /// decisions.csv and ic.csv to --out.
    Backtest(Box<BacktestArgs>),
    /// API keys: create (the key is printed once), list, revoke.
    Apikey {
        #[command(subcommand)]
        action: ApikeyAction,
    },
    /// Ask the local server's /health; exit 0 when it answers 200, else 1.
    Healthcheck {
        /// Full URL to probe instead of http://127.0.0.1:<server.port>/health.
        #[arg(long)]
        url: Option<String>,
        /// Seconds to wait for the answer.
        #[arg(long, default_value_t = 3)]
        timeout: u64,
    },
}

/// `stockpilot simulate`: every option but the files has the market preset's default.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Target weights: a CSV with the header `date,symbol,weight` (weight a fraction of NAV;
    /// a signal date's rows are the whole portfolio, unlisted symbols are sold).
    #[arg(long, value_name = "FILE")]
    pub weights: PathBuf,
    /// Market preset of costs and rules: CN or US.
    #[arg(long)]
    pub market: String,
    /// First day simulated, YYYY-MM-DD.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = date)]
    pub from: chrono::NaiveDate,
    /// Last day simulated, YYYY-MM-DD.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = date)]
    pub to: chrono::NaiveDate,
    /// Directory for equity.csv, orders.csv, positions.csv and metrics.json (created).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Bars from a CSV in the demo format (`Ticker,Date,Open,High,Low,Close,Volume[,Adj Close]`)
    /// instead of the database; without an adjusted close the prices are traded as given.
    #[arg(long, value_name = "FILE")]
    pub bars: Option<PathBuf>,
    #[command(flatten)]
    pub trading: TradingArgs,
    /// Allow negative weights (short sales; US only).
    #[arg(long)]
    pub shorts: bool,
    /// Margin held per short, a fraction of its value (default 0.5).
    #[arg(long, allow_negative_numbers = true, value_name = "RATE")]
    pub short_margin: Option<f64>,
    /// Yearly borrow fee of shorts, charged daily over 252 days (default 0).
    #[arg(long, allow_negative_numbers = true, value_name = "RATE")]
    pub borrow_fee: Option<f64>,
    /// Benchmark symbol, bought and held (default: equal weights of the symbols traded).
    #[arg(long, value_name = "SYMBOL")]
    pub benchmark: Option<String>,
    /// Print metrics.json instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Cash, fills and costs of a simulation; every cost option defaults to the market preset.
#[derive(Debug, clap::Args)]
pub struct TradingArgs {
    /// Starting cash.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1_000_000.0)]
    pub cash: f64,
    /// Fill price: next_open or next_close (of the trading day after the signal).
    #[arg(long, default_value = "next_open")]
    pub fill: String,
    /// Commission rate, a fraction of the order's value (0.00025 = 0.025 %).
    #[arg(long, allow_negative_numbers = true, value_name = "RATE")]
    pub commission: Option<f64>,
    /// Smallest commission per order, in the market's currency.
    #[arg(long, allow_negative_numbers = true, value_name = "AMOUNT")]
    pub min_commission: Option<f64>,
    /// Stamp duty rate on sells.
    #[arg(long, allow_negative_numbers = true, value_name = "RATE")]
    pub stamp_duty: Option<f64>,
    /// Transfer fee rate, both sides.
    #[arg(long, allow_negative_numbers = true, value_name = "RATE")]
    pub transfer_fee: Option<f64>,
    /// Slippage in basis points, against the trader.
    #[arg(long, allow_negative_numbers = true, value_name = "BP")]
    pub slippage_bp: Option<f64>,
    /// Shares per lot (buys are whole lots).
    #[arg(long, value_name = "N")]
    pub lot: Option<u32>,
    /// Yearly risk-free rate for Sharpe, Sortino and alpha (0.03 = 3 %).
    #[arg(
        long,
        allow_negative_numbers = true,
        value_name = "RATE",
        default_value_t = 0.0
    )]
    pub risk_free: f64,
}

/// `stockpilot backtest`: the research's analysts replayed as of each rebalance date.
#[derive(Debug, clap::Args)]
pub struct BacktestArgs {
    /// Symbols of one market, e.g. `AAPL MSFT IBM` or `600519.SH 000001.SZ` (at most 500).
    #[arg(required = true, num_args = 1..)]
    pub symbols: Vec<String>,
    /// First day replayed, YYYY-MM-DD.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = date)]
    pub from: chrono::NaiveDate,
    /// Last day replayed, YYYY-MM-DD.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = date)]
    pub to: chrono::NaiveDate,
    /// Analysts, comma-separated; `risk` sizes the positions and must be one of them.
    #[arg(long, value_delimiter = ',', default_value = "technical,risk")]
    pub analysts: Vec<String>,
    /// Rebalance schedule: daily, weekly (last trading day of the week) or monthly.
    #[arg(long, default_value = "weekly")]
    pub rebalance: String,
    /// Directory for equity.csv, orders.csv, positions.csv, metrics.json, decisions.csv and
    /// ic.csv (created).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[command(flatten)]
    pub trading: TradingArgs,
    /// LLM provider by name, for LLM analysts (default: the gateway's priority order).
    #[arg(long)]
    pub llm_provider: Option<String>,
    /// LLM calls the backtest may make; one that needs more refuses to start and says how
    /// many it needs.
    #[arg(long, default_value_t = 0)]
    pub max_llm_calls: u64,
    /// Token budget of the backtest's LLM calls.
    #[arg(long, default_value_t = 1_000_000)]
    pub max_tokens: u64,
    /// Bull/bear debate rounds of the `debate` analyst.
    #[arg(long, default_value_t = 0)]
    pub debate_rounds: u8,
    /// Print metrics.json and the IC table as JSON instead of tables.
    #[arg(long)]
    pub json: bool,
    /// No progress bar, even on a terminal.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum ApikeyAction {
    /// Create a key and print it (only this once; only its hash is stored).
    Create {
        /// A name to recognise the key by (who or what uses it).
        #[arg(long)]
        name: String,
        /// reader, analyst, operator or admin.
        #[arg(long)]
        role: String,
    },
    /// List keys (never their tokens).
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by id. Running servers on the same database stop accepting it within
    /// about 1 s (each checks for revocations every second and then drops its key cache).
    Revoke {
        /// The key's id, as `apikey list` shows it.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Apply revisions: `head` (default), `+N`, or up to and including a revision.
    Upgrade {
        /// `head`, `+N` (the next N revisions), or a revision id.
        #[arg(default_value = "head")]
        target: String,
    },
    /// Revert revisions: `-N`, `base`, or down to (keeping) a revision.
    Downgrade {
        /// `-N` (the last N revisions), `base` (all), or a revision id to keep.
        #[arg(allow_hyphen_values = true)]
        target: String,
    },
    /// Show the newest applied revision.
    Current,
    /// List every revision, applied or pending, with its description.
    History,
    /// Show the head revision(s).
    Heads,
    /// Write a new dated revision file and register it with the migrator.
    Revision {
        /// What the revision does.
        #[arg(short = 'm', long = "message")]
        message: String,
        /// The migrations source directory.
        #[arg(long, default_value = "migrations/src")]
        dir: PathBuf,
    },
    /// Record the database as being at a revision (`base`, `head`, or an id) without running
    /// any migration.
    Stamp {
        /// `base`, `head`, or a revision id.
        revision: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Print the effective configuration (secrets redacted) with each value's source.
    Show,
    /// Validate the configuration; exit non-zero listing every problem.
    Check,
}

#[derive(Debug, Subcommand)]
pub enum SyncAction {
    /// Queue a job and run it in this process, printing progress; exit non-zero unless it
    /// succeeds. Kinds: instruments, calendar, daily_history, daily_incremental,
    /// adjustment_factors, valuations, financials_history, financials_incremental, news,
    /// insider_trades, retry_failures.
    Run {
        /// The job kind (one of the kinds listed above).
        kind: String,
        /// CN or US (inferred from --symbols when omitted).
        #[arg(long)]
        market: Option<String>,
        /// Comma-separated symbols (default: every stored instrument of the market).
        #[arg(long, value_delimiter = ',')]
        symbols: Vec<String>,
        /// First date (default: sync.history_start for history jobs).
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = date)]
        start: Option<chrono::NaiveDate>,
        /// Last date (default: today).
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = date)]
        end: Option<chrono::NaiveDate>,
        /// Provider name (default: the market's configured one).
        #[arg(long)]
        provider: Option<String>,
        /// Symbols fetched and committed together.
        #[arg(long)]
        batch_size: Option<u32>,
    },
    /// Recent jobs and the failure ledger.
    Status {
        /// How many recent jobs to list.
        #[arg(long, default_value_t = 20)]
        limit: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum DataAction {
    /// Load the demo dataset (real US daily bars 2000–2013, SSE calendar) into the database;
    /// idempotent, works from any directory.
    ImportDemo {
        /// Directory holding the dataset's files (default: data.demo_dir, else the copy built
        /// into the binary).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// Every argument and option of every subcommand says what it is.
    #[test]
    fn every_argument_has_help_text() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if arg.is_hide_set() || id == "help" || id == "version" {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.get_about().is_none() && sub.get_long_about().is_none() {
                    missing.push(format!("{path} {} (no about)", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "stockpilot", &mut missing);
        assert!(missing.is_empty(), "without help: {missing:#?}");
    }

    #[test]
    fn a_bad_date_names_the_argument_and_the_format() {
        let err = Cli::try_parse_from(["stockpilot", "analyze", "AAPL", "--as-of", "2013-13-01"])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("invalid value '2013-13-01' for '--as-of <YYYY-MM-DD>'")
                && err.contains("expected a calendar date as YYYY-MM-DD"),
            "{err}"
        );
        let err = Cli::try_parse_from([
            "stockpilot",
            "sync",
            "run",
            "daily_history",
            "--start",
            "01/02/2015",
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("'--start <YYYY-MM-DD>'"), "{err}");
    }

    #[test]
    fn revoke_help_says_when_running_servers_stop_accepting_the_key() {
        let mut cmd = Cli::command();
        let revoke = cmd
            .find_subcommand_mut("apikey")
            .and_then(|a| a.find_subcommand_mut("revoke"))
            .unwrap();
        let about = revoke.get_about().unwrap().to_string();
        assert!(about.contains("within about 1 s"), "{about}");
        assert_eq!(
            crate::wiring::REVOCATION_CHECK,
            std::time::Duration::from_secs(1),
            "the help text states this interval"
        );
    }
}
