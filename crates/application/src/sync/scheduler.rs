//! Periodic jobs from cron expressions. Every replica runs a scheduler; each firing (schedule,
//! slot) is claimed through the store, so a job is created exactly once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use super::model::SyncJob;
use super::service::{JobRequest, SyncService};
use crate::AppError;

/// A parsed cron expression (the parser lives in the server).
pub trait CronSchedule: Send + Sync {
    /// The first firing strictly after `t`.
    fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>>;
}

/// One configured periodic job.
#[derive(Clone)]
pub struct Schedule {
    pub name: String,
    pub cron: Arc<dyn CronSchedule>,
    pub request: JobRequest,
}

pub struct Scheduler {
    sync: Arc<SyncService>,
    schedules: Vec<Schedule>,
    worker: String,
    next: Mutex<HashMap<String, DateTime<Utc>>>,
}

impl Scheduler {
    /// Each schedule first fires at its next slot after now.
    pub fn new(sync: Arc<SyncService>, schedules: Vec<Schedule>, worker: String) -> Self {
        let now = sync.clock.now();
        let next = schedules
            .iter()
            .filter_map(|s| s.cron.next_after(now).map(|t| (s.name.clone(), t)))
            .collect();
        Self {
            sync,
            schedules,
            worker,
            next: Mutex::new(next),
        }
    }

    /// Creates the jobs whose slot has come and that no other replica claimed first. Missed
    /// slots are not replayed: only the latest due slot fires.
    ///
    /// # Errors
    /// Storage errors; a schedule whose request is invalid is logged and skipped.
    pub async fn tick(&self) -> Result<Vec<SyncJob>, AppError> {
        let now = self.sync.clock.now();
        let mut created = Vec::new();
        for schedule in &self.schedules {
            let due = {
                let mut next = self
                    .next
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let Some(slot) = next.get(&schedule.name).copied() else {
                    continue;
                };
                if slot > now {
                    continue;
                }
                let mut latest = slot;
                while let Some(n) = schedule.cron.next_after(latest).filter(|n| *n <= now) {
                    latest = n;
                }
                if let Some(following) = schedule.cron.next_after(latest) {
                    next.insert(schedule.name.clone(), following);
                } else {
                    next.remove(&schedule.name);
                }
                latest
            };
            let job = match self
                .sync
                .prepare(&schedule.request, Some(&schedule.name))
                .await
            {
                Ok(job) => job,
                Err(e) => {
                    tracing::warn!(schedule = %schedule.name, error = %e, "scheduled job not created");
                    continue;
                }
            };
            match self
                .sync
                .jobs
                .claim_schedule(&schedule.name, due, &self.worker, job, now)
                .await?
            {
                Some(job) => {
                    tracing::info!(schedule = %schedule.name, slot = %due, job_id = %job.id, "scheduled job created");
                    #[allow(clippy::cast_precision_loss)]
                    metrics::gauge!("stockpilot_sync_schedule_last_run_timestamp_seconds", "schedule" => schedule.name.clone())
                        .set(due.timestamp() as f64);
                    created.push(job);
                }
                None => {
                    tracing::debug!(schedule = %schedule.name, slot = %due, "slot already claimed by another instance")
                }
            }
        }
        Ok(created)
    }

    /// Ticks every `interval` until `shutdown` turns true.
    pub async fn run(self, interval: std::time::Duration, mut shutdown: watch::Receiver<bool>) {
        let mut ticker = tokio::time::interval(interval);
        loop {
            tokio::select! {
                _ = ticker.tick() => {
                    if let Err(e) = self.tick().await {
                        tracing::warn!(error = %e, "scheduler tick failed");
                    }
                }
                _ = shutdown.changed() => break,
            }
        }
    }
}
