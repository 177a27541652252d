//! `stockpilot analyze SYMBOL… [--analysts …]`: one research run in this process, printed as
//! tables (or JSON). Ctrl-C hands the run back to the queue, where a server resumes it.

use std::sync::Arc;

use anyhow::Context;
use stockpilot_application::AppError;
use stockpilot_application::ports::SystemClock;
use stockpilot_application::research::model::{ResultStatus, RunStatus};
use stockpilot_application::research::{RunView, Submission};

use crate::config::Config;
use crate::wiring;

fn clip(text: &str, max: usize) -> String {
    let one_line = text.replace('\n', " ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        let mut s: String = one_line.chars().take(max - 1).collect();
        s.push('…');
        s
    }
}

/// The run as tables: one line per analyst result, one per decision.
pub fn render(view: &RunView) -> String {
    let run = &view.run;
    let mut out = format!(
        "run {}  {}  as of {}  analysts {}/{} done ({} failed, {} skipped)  tokens {}  cost ${:.4}\n",
        run.id,
        run.status.as_str(),
        run.request.as_of,
        view.progress.done,
        view.progress.total,
        view.progress.failed,
        view.progress.skipped,
        view.usage.tokens(),
        view.usage.cost_usd
    );
    if let Some(error) = &run.error {
        out.push_str(&format!("error: {error}\n"));
    }
    out.push_str(&format!(
        "\n{:<10} {:<16} {:<10} {:<18} {:>4}  {}\n",
        "SYMBOL", "ANALYST", "STATUS", "SIGNAL", "CONF", "REASONING"
    ));
    for symbol in &run.request.symbols {
        for name in &run.request.analysts {
            let Some(r) = view
                .results
                .iter()
                .find(|r| &r.symbol == symbol && &r.analyst == name)
            else {
                out.push_str(&format!(
                    "{:<10} {:<16} {:<10}\n",
                    symbol.to_string(),
                    name,
                    "pending"
                ));
                continue;
            };
            let (signal, conf, why) = match (&r.signal, &r.reason) {
                (Some(s), _) => (
                    s.signal.as_str().to_owned(),
                    s.confidence.value().to_string(),
                    s.reasoning.clone(),
                ),
                (None, reason) => (
                    "-".to_owned(),
                    "-".to_owned(),
                    reason.clone().unwrap_or_default(),
                ),
            };
            out.push_str(&format!(
                "{:<10} {:<16} {:<10} {:<18} {:>4}  {}\n",
                symbol.to_string(),
                name,
                r.status.as_str(),
                signal,
                conf,
                clip(&why, 90)
            ));
        }
    }
    out.push_str(&format!(
        "\n{:<10} {:<6} {:>4} {:>9} {:>10} {:>10}  {:<12} {}\n",
        "SYMBOL", "ACTION", "CONF", "POSITION", "TARGET", "STOP", "HORIZON", "RATIONALE"
    ));
    for symbol in &run.request.symbols {
        let Some(d) = view.decisions.iter().find(|d| &d.decision.symbol == symbol) else {
            continue;
        };
        let (target, stop) = d
            .levels
            .as_ref()
            .map_or(("-".to_owned(), "-".to_owned()), |l| {
                (
                    format!("{:.2}", l.target_price),
                    format!("{:.2}", l.stop_price),
                )
            });
        out.push_str(&format!(
            "{:<10} {:<6} {:>4} {:>8.2}% {:>10} {:>10}  {:<12} {}\n",
            d.decision.symbol.to_string(),
            d.decision.action.as_str(),
            d.decision.confidence.value(),
            d.decision.position_pct * 100.0,
            target,
            stop,
            d.time_horizon,
            clip(&d.decision.reasoning, 90)
        ));
        for w in &d.decision.risk_warnings {
            out.push_str(&format!("{:<10}   warning: {}\n", "", clip(w, 110)));
        }
    }
    out
}

/// Runs one research run to its end; returns whether it and every analyst succeeded.
///
/// # Errors
/// Invalid arguments (every problem listed), database or provider setup failures.
pub async fn run(config: &Config, submission: Submission, json: bool) -> anyhow::Result<bool> {
    let (db, store, _sync) = wiring::open_sync(config).await?;
    let (cache, _) = wiring::cache(wiring::redis(config).await?.as_ref());
    let llm =
        wiring::llm_registry(config, store.clone(), cache.clone(), Arc::new(SystemClock)).await?;
    let search = wiring::web_search(config, cache)?;
    let research = wiring::research_service(config, store, &llm, search, Arc::new(SystemClock));
    let run = match research.submit(submission).await {
        Ok(run) => run,
        Err(AppError::Validation { problems, .. }) => {
            let lines: Vec<String> = problems
                .iter()
                .map(|p| format!("  {}: {}", p.field, p.message))
                .collect();
            anyhow::bail!("the request is invalid:\n{}", lines.join("\n"));
        }
        Err(e) => return Err(e.into_anyhow()),
    };
    let worker = wiring::worker_id();
    let claimed = research
        .claim(run.id, &worker)
        .await
        .map_err(AppError::into_anyhow)?
        .context(
            "the run was taken by a server's worker; follow it with GET /api/v1/research/runs/{id}",
        )?;
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let ctrl_c = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = stop.send(true);
        }
    });
    let completed =
        stockpilot_application::queue::drive(research.as_ref(), &claimed, &worker, &mut stopped)
            .await;
    ctrl_c.abort();
    let view = research.view(run.id).await.map_err(AppError::into_anyhow)?;
    if json {
        crate::say!("{}", serde_json::to_string_pretty(&view)?);
    } else {
        crate::say!("{}", render(&view).trim_end());
    }
    db.close().await.ok();
    if !completed {
        eprintln!("interrupted; the run went back to the queue and a server will resume it");
        return Ok(false);
    }
    Ok(view.run.status == RunStatus::Succeeded
        && !view
            .results
            .iter()
            .any(|r| r.status == ResultStatus::Failed))
}
