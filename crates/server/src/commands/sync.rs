//! `stockpilot sync run|status` and `stockpilot data import-demo`.

use std::time::Duration;

use anyhow::Context;
use stockpilot_application::AppError;
use stockpilot_application::ports::SyncJobStore;
use stockpilot_application::sync::{JobRequest, JobStatus, SyncJob};
use stockpilot_domain::market::{Market, Symbol};

use crate::cli::{DataAction, SyncAction};
use crate::config::Config;
use crate::wiring;

fn describe(job: &SyncJob) -> String {
    format!(
        "{}  {:<22} {:<18} {:<9} {:>6}/{:<6} rows {:>9}  failed {:>4}  {}",
        job.id,
        job.kind.as_str(),
        job.provider,
        job.status.as_str(),
        job.cursor,
        job.total,
        job.rows_written,
        job.symbols_failed,
        job.message.as_deref().unwrap_or("")
    )
}

/// Runs a sync command; returns whether it succeeded.
///
/// # Errors
/// Bad arguments, database or provider setup failures.
pub async fn run(config: &Config, action: &SyncAction) -> anyhow::Result<bool> {
    let (db, store, sync) = wiring::open_sync(config).await?;
    let outcome = match action {
        SyncAction::Run {
            kind,
            market,
            symbols,
            start,
            end,
            provider,
            batch_size,
        } => {
            let symbols = symbols
                .iter()
                .flat_map(|s| s.split(','))
                .filter(|s| !s.trim().is_empty())
                .map(|s| Symbol::parse(s.trim()).map_err(|e| anyhow::anyhow!("--symbols: {e}")))
                .collect::<Result<Vec<_>, _>>()?;
            let request = JobRequest {
                kind: Some(kind.parse().map_err(|e| anyhow::anyhow!("{e}"))?),
                market: market
                    .as_deref()
                    .map(str::parse::<Market>)
                    .transpose()
                    .map_err(|e| anyhow::anyhow!("--market: {e}"))?,
                symbols,
                start: *start,
                end: *end,
                provider: provider.clone(),
                batch_size: *batch_size,
            };
            let job = sync.submit(&request).await.map_err(AppError::into_anyhow)?;
            crate::say!("queued   {}", describe(&job));
            // Run here; when a server on the same database took the job first, follow it.
            let runner = tokio::spawn({
                let (sync, id, worker) = (sync.clone(), job.id, wiring::worker_id());
                async move { sync.run_to_end(id, &worker).await }
            });
            let mut last = (u32::MAX, JobStatus::Queued);
            while !runner.is_finished() {
                let current = sync.job(job.id).await.map_err(AppError::into_anyhow)?;
                if (current.cursor, current.status) != last {
                    crate::say!("progress {}", describe(&current));
                    last = (current.cursor, current.status);
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            let done = runner
                .await
                .context("sync task")?
                .map_err(AppError::into_anyhow)?;
            crate::say!("finished {}", describe(&done));
            done.status == JobStatus::Succeeded
        }
        SyncAction::Status { limit } => {
            let jobs = sync
                .jobs(None, 0, *limit)
                .await
                .map_err(AppError::into_anyhow)?;
            crate::say!("{} job(s), newest first:", jobs.total);
            for job in &jobs.items {
                crate::say!("  {}", describe(job));
            }
            let pending = store.pending_failure_count().await?;
            crate::say!(
                "failure ledger: {pending} pending (GET /api/v1/sync/failures for details)"
            );
            true
        }
    };
    db.close().await.ok();
    Ok(outcome)
}

/// `stockpilot data import-demo`.
///
/// # Errors
/// Missing files, database failures, or a failing import job.
pub async fn data(config: &Config, action: &DataAction) -> anyhow::Result<bool> {
    let DataAction::ImportDemo { dir } = action;
    let mut config = config.clone();
    if let Some(dir) = dir {
        if !dir.is_dir() {
            anyhow::bail!("--dir {}: not a directory", dir.display());
        }
        config.data.demo_dir = Some(dir.clone());
    }
    // The import's jobs read the demo files through the `csv` provider.
    config.csv.dir = None;
    let demo = crate::demo::DemoData::from_config(&config);
    let (db, store, sync) = wiring::open_sync(&config).await?;
    let started = std::time::Instant::now();
    let summary = crate::demo::import(&demo, store.as_ref(), &sync, &wiring::worker_id()).await?;
    crate::say!("SSE trading days: {}", summary.sse_days);
    for (kind, status, rows) in &summary.jobs {
        crate::say!("{:<20} {:<10} {rows} rows", kind.as_str(), status.as_str());
    }
    crate::say!("imported {demo} in {} ms", started.elapsed().as_millis());
    db.close().await.ok();
    Ok(true)
}
