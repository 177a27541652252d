//! Liveness and readiness: what `/health` and `/ready` report.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;

use crate::ports::DependencyProbe;

/// The state of one checked dependency.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckResult {
    /// The dependency (`database`, `cache`, …).
    pub name: &'static str,
    pub status: CheckStatus,
    /// Whether the instance is unready while this dependency is down.
    pub required: bool,
    pub latency_ms: f64,
    /// Why the check failed; absent when it passed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub error: Option<String>,
}

stockpilot_domain::code_enum! {
    /// State of one checked dependency.
    pub enum CheckStatus as "check status" {
        /// It answered in time.
        Up = "up",
        /// It failed or did not answer in time.
        Down = "down",
    }
}

/// The readiness verdict and each check behind it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReadinessReport {
    pub ready: bool,
    pub checks: Vec<CheckResult>,
}

/// Runs every probe concurrently, each bounded by `timeout`, so one hung dependency turns the
/// instance unready within one probe period instead of blocking it.
#[derive(Clone)]
pub struct HealthService {
    probes: Vec<Arc<dyn DependencyProbe>>,
    timeout: Duration,
    started: Instant,
}

impl HealthService {
    pub fn new(probes: Vec<Arc<dyn DependencyProbe>>, timeout: Duration) -> Self {
        Self {
            probes,
            timeout,
            started: Instant::now(),
        }
    }

    /// How long this instance has been up.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// Checks every dependency.
    pub async fn readiness(&self) -> ReadinessReport {
        let report = self.report(self.probes.iter()).await;
        metrics::gauge!("stockpilot_ready").set(if report.ready { 1.0 } else { 0.0 });
        report
    }

    /// Checks only the named dependencies (e.g. `database` for `/api/v1/health`).
    pub async fn readiness_of(&self, names: &[&str]) -> ReadinessReport {
        self.report(self.probes.iter().filter(|p| names.contains(&p.name())))
            .await
    }

    async fn report(
        &self,
        probes: impl Iterator<Item = &Arc<dyn DependencyProbe>>,
    ) -> ReadinessReport {
        let checks = join_all(probes.map(|p| self.check(p.as_ref()))).await;
        let ready = checks
            .iter()
            .all(|c| !c.required || c.status == CheckStatus::Up);
        ReadinessReport { ready, checks }
    }

    async fn check(&self, probe: &dyn DependencyProbe) -> CheckResult {
        let start = Instant::now();
        let outcome = tokio::time::timeout(self.timeout, probe.probe()).await;
        let latency_ms = start.elapsed().as_secs_f64() * 1000.0;
        let error = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.0),
            Err(_) => Some(format!("no answer within {} ms", self.timeout.as_millis())),
        };
        if let Some(e) = &error {
            tracing::warn!(dependency = probe.name(), error = %e, "readiness check failed");
        }
        CheckResult {
            name: probe.name(),
            status: if error.is_none() {
                CheckStatus::Up
            } else {
                CheckStatus::Down
            },
            required: probe.required(),
            latency_ms: (latency_ms * 1000.0).round() / 1000.0,
            error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::ProbeFailure;

    struct Fixed(&'static str, bool, Option<&'static str>);

    #[async_trait::async_trait]
    impl DependencyProbe for Fixed {
        fn name(&self) -> &'static str {
            self.0
        }
        fn required(&self) -> bool {
            self.1
        }
        async fn probe(&self) -> Result<(), ProbeFailure> {
            match self.2 {
                None => Ok(()),
                Some("hang") => std::future::pending().await,
                Some(e) => Err(ProbeFailure(e.into())),
            }
        }
    }

    fn service(probes: Vec<Fixed>) -> HealthService {
        let probes = probes
            .into_iter()
            .map(|p| Arc::new(p) as Arc<dyn DependencyProbe>)
            .collect();
        HealthService::new(probes, Duration::from_millis(50))
    }

    #[tokio::test]
    async fn is_ready_when_every_required_dependency_answers() {
        let report = service(vec![
            Fixed("database", true, None),
            Fixed("redis", false, Some("down")),
        ])
        .readiness()
        .await;
        assert!(report.ready);
        assert_eq!(report.checks[1].status, CheckStatus::Down);
        assert_eq!(report.checks[1].error.as_deref(), Some("down"));
    }

    #[tokio::test]
    async fn a_hung_required_dependency_makes_it_unready_within_the_timeout() {
        let report = service(vec![Fixed("database", true, Some("hang"))])
            .readiness()
            .await;
        assert!(!report.ready);
        assert_eq!(
            report.checks[0].error.as_deref(),
            Some("no answer within 50 ms")
        );
    }

    #[tokio::test]
    async fn readiness_of_checks_only_the_named_dependencies() {
        let report = service(vec![
            Fixed("database", true, None),
            Fixed("redis", true, Some("x")),
        ])
        .readiness_of(&["database"])
        .await;
        assert!(report.ready);
        assert_eq!(report.checks.len(), 1);
    }
}
