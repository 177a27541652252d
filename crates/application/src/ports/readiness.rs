//! A dependency the service needs in order to serve traffic (database, Redis, …).

/// Why a probe failed, in words safe to show an operator (no secrets, no connection strings).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProbeFailure(pub String);

/// Something `/ready` checks.
#[async_trait::async_trait]
pub trait DependencyProbe: Send + Sync {
    /// Stable name shown in the readiness report (`database`, `redis`).
    fn name(&self) -> &'static str;

    /// Whether a failure of this dependency makes the instance unready.
    fn required(&self) -> bool {
        true
    }

    /// One round trip to the dependency.
    ///
    /// # Errors
    /// [`ProbeFailure`] describing what failed (never containing credentials).
    async fn probe(&self) -> Result<(), ProbeFailure>;
}
