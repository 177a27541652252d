//! API keys: the service over the database, the first admin key, the audit entries of work
//! done outside the API, and the keys' background upkeep.

use std::sync::Arc;

use anyhow::Context;

use crate::config::{Config, secs};

/// API keys and the audit log over the database.
pub fn auth_service(
    config: &Config,
    store: Arc<stockpilot_db::SeaStore>,
) -> Arc<stockpilot_application::auth::AuthService> {
    Arc::new(stockpilot_application::auth::AuthService::new(
        store.clone(),
        store,
        Arc::new(stockpilot_application::ports::SystemClock),
        secs(config.auth.key_cache_ttl_secs),
    ))
}

/// Writes the first-run admin key to `path`, readable by the owner only.
///
/// # Errors
/// The directory or file cannot be written.
pub fn write_bootstrap_key(path: &std::path::Path, token: &str) -> anyhow::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating {} (auth.bootstrap_key_file)", dir.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("writing {} (auth.bootstrap_key_file)", path.display()))?;
    // An existing file keeps its old mode through `open`: set it explicitly.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    writeln!(file, "{token}")?;
    Ok(())
}

/// An audit entry for something done outside the API (the CLI, first start).
pub fn cli_audit(
    auth: &stockpilot_application::auth::AuthService,
    action: &str,
    target: &str,
    actor: &str,
) -> stockpilot_application::auth::AuditEntry {
    stockpilot_application::auth::AuditEntry {
        id: 0,
        at: auth.now(),
        key_id: None,
        key_name: Some(actor.to_owned()),
        role: None,
        action: action.to_owned(),
        target: target.to_owned(),
        client_ip: None,
        request_id: None,
        outcome: stockpilot_application::auth::AuditOutcome::Succeeded,
        status: None,
    }
}

/// How often each server checks whether a key was revoked by another process (the CLI or
/// another replica); a revocation takes effect everywhere within about this long.
pub const REVOCATION_CHECK: std::time::Duration = std::time::Duration::from_secs(1);

/// Clears the key cache whenever a key was revoked elsewhere, checking every
/// [`REVOCATION_CHECK`] until shutdown.
pub async fn watch_revocations(
    auth: Arc<stockpilot_application::auth::AuthService>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(REVOCATION_CHECK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut seen = None;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        match auth.forget_if_revoked_elsewhere(seen).await {
            Ok(n) => seen = Some(n),
            // The database being down is reported by readiness; cached keys then expire by
            // their own TTL (auth.key_cache_ttl_secs).
            Err(e) => tracing::debug!(error = %e, "cannot check for revoked API keys"),
        }
    }
}

/// Writes keys' `last_used_at` every `every`, and once more on shutdown.
pub async fn flush_key_usage(
    auth: Arc<stockpilot_application::auth::AuthService>,
    every: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let stopping = tokio::select! {
            _ = tick.tick() => false,
            _ = stop.changed() => true,
        };
        if let Err(e) = auth.flush_usage().await {
            tracing::warn!(error = %e, "API key usage not written; retrying at the next flush");
        }
        if stopping {
            return;
        }
    }
}
