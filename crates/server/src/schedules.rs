//! Turning `[[scheduler.jobs]]` entries into scheduler schedules: cron expressions parsed by
//! croner (five fields, UTC), requests parsed into domain values.

use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use stockpilot_application::sync::{CronSchedule, JobKind, JobRequest, Schedule};
use stockpilot_domain::market::{Market, Symbol, UnknownCode};

use crate::config::ScheduledJobConfig;

struct Croner(croner::Cron);

impl CronSchedule for Croner {
    fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.0.find_next_occurrence(&t, false).ok()
    }
}

fn parse(job: &ScheduledJobConfig) -> Result<Schedule, String> {
    if job.name.trim().is_empty() || job.name.len() > 64 {
        return Err("name must be 1–64 characters".into());
    }
    let cron = croner::Cron::from_str(&job.cron)
        .map_err(|e| format!("cron '{}' is invalid: {e}", job.cron))?;
    let kind: JobKind = job.kind.parse().map_err(|e: UnknownCode| e.to_string())?;
    let market = job
        .market
        .as_deref()
        .map(Market::from_str)
        .transpose()
        .map_err(|e| e.to_string())?;
    let symbols = job
        .symbols
        .iter()
        .map(|s| Symbol::parse(s).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    if market.is_none() && symbols.is_empty() {
        return Err("give a market (CN or US) or symbols".into());
    }
    Ok(Schedule {
        name: job.name.clone(),
        cron: Arc::new(Croner(cron)),
        request: JobRequest {
            kind: Some(kind),
            market,
            symbols,
            provider: job.provider.clone(),
            ..JobRequest::default()
        },
    })
}

/// Validates one entry (for configuration checks).
///
/// # Errors
/// What is wrong with it.
pub fn check(job: &ScheduledJobConfig) -> Result<(), String> {
    parse(job).map(|_| ())
}

/// Every configured schedule (already validated at configuration load).
pub fn build(jobs: &[ScheduledJobConfig]) -> Vec<Schedule> {
    jobs.iter().filter_map(|j| parse(j).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(cron: &str, kind: &str) -> ScheduledJobConfig {
        ScheduledJobConfig {
            name: "bars".into(),
            cron: cron.into(),
            kind: kind.into(),
            market: Some("CN".into()),
            symbols: Vec::new(),
            provider: None,
        }
    }

    #[test]
    fn next_firing_follows_the_cron_expression_in_utc() {
        let s = parse(&entry("30 8 * * 1-5", "daily_incremental")).unwrap();
        let friday = DateTime::parse_from_rfc3339("2026-11-20T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let next = s.cron.next_after(friday).unwrap();
        assert_eq!(
            next.to_rfc3339(),
            "2026-11-23T08:30:00+00:00",
            "skips the weekend"
        );
    }

    #[test]
    fn rejects_bad_entries_with_the_reason() {
        assert!(
            check(&entry("61 * * * *", "calendar"))
                .unwrap_err()
                .starts_with("cron '61 * * * *' is invalid")
        );
        assert!(
            check(&entry("0 1 * * *", "weekly"))
                .unwrap_err()
                .starts_with("unknown job kind 'weekly'")
        );
        let mut no_market = entry("0 1 * * *", "calendar");
        no_market.market = None;
        assert_eq!(
            check(&no_market).unwrap_err(),
            "give a market (CN or US) or symbols"
        );
    }
}
