//! Entry point: parse the CLI, load configuration, run the command, map the outcome to an
//! exit code. Errors are printed as sentences, never as panics or backtraces.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use stockpilot_server::cli::{Cli, Command, ConfigAction};
use stockpilot_server::config::{Config, SourceOptions};
use stockpilot_server::{Application, install_crypto_provider, telemetry};

/// mimalloc instead of glibc malloc: freed memory goes back to the OS after load instead of
/// staying in per-thread arenas (docs/benchmarks.md, section 1).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    install_crypto_provider();
    let cli = Cli::parse();
    let opts = SourceOptions {
        config_file: cli.config.clone(),
        dotenv: None,
    };
    let config = match Config::load(&opts) {
        Ok(c) => c,
        Err(errors) => {
            eprint!("{errors}");
            return ExitCode::from(2);
        }
    };
    match run(cli.command, config) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn runtime(worker_threads: usize) -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads.max(1))
        .enable_all()
        .build()?)
}

fn run(command: Command, config: Config) -> anyhow::Result<ExitCode> {
    match command {
        Command::Config {
            action: ConfigAction::Show,
        } => {
            stockpilot_server::say!("{}", config.render().trim_end());
            Ok(ExitCode::SUCCESS)
        }
        Command::Config {
            action: ConfigAction::Check,
        } => {
            stockpilot_server::say!("configuration is valid (profile {})", config.profile);
            Ok(ExitCode::SUCCESS)
        }
        Command::Healthcheck { url, timeout } => {
            let url = url.unwrap_or_else(|| stockpilot_server::commands_healthcheck_url(&config));
            match stockpilot_server::probe_health(&url, Duration::from_secs(timeout)) {
                Ok(200) => Ok(ExitCode::SUCCESS),
                Ok(code) => {
                    eprintln!("{url} answered {code}");
                    Ok(ExitCode::FAILURE)
                }
                Err(e) => {
                    eprintln!("{url}: {e:#}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Migrate { action } => {
            let rt = runtime(1)?;
            for line in rt.block_on(stockpilot_server::run_migrate(&config, &action))? {
                stockpilot_server::say!("{line}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Sync { action } => {
            let rt = runtime(2)?;
            let ok = rt.block_on(stockpilot_server::run_sync(&config, &action))?;
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Data { action } => {
            let rt = runtime(2)?;
            let ok = rt.block_on(stockpilot_server::run_data(&config, &action))?;
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Analyze {
            symbols,
            analysts,
            as_of,
            llm_provider,
            debate_rounds,
            max_tokens,
            json,
        } => {
            let rt = runtime(2)?;
            let submission = stockpilot_application::research::Submission {
                symbols,
                analysts,
                as_of,
                llm_provider,
                debate_rounds,
                max_tokens,
            };
            let ok = rt.block_on(stockpilot_server::run_analyze(&config, submission, json))?;
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Simulate(args) => {
            let rt = runtime(2)?;
            rt.block_on(stockpilot_server::run_simulate(&config, &args))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Backtest(args) => {
            let rt = runtime(2)?;
            rt.block_on(stockpilot_server::run_backtest(&config, &args))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Apikey { action } => {
            let rt = runtime(1)?;
            let ok = rt.block_on(stockpilot_server::run_apikey(&config, &action))?;
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Serve => {
            let _guard = telemetry::init(&config.logging, &config.telemetry)?;
            let rt = runtime(config.server.workers)?;
            rt.block_on(async {
                let app = Application::build(&config).await?;
                app.run_with_signals().await
            })?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
