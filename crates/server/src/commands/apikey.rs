//! `stockpilot apikey create|list|revoke`: key management without the API (the way in
//! before any admin key exists elsewhere, and for automation on the host).

use anyhow::Context;
use stockpilot_application::auth::Role;

use crate::cli::ApikeyAction;
use crate::config::Config;
use crate::wiring;

fn when(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map_or_else(
        || "-".to_owned(),
        |t| t.format("%Y-%m-%d %H:%M").to_string(),
    )
}

/// Runs an `apikey` command; returns whether it succeeded.
///
/// # Errors
/// Bad arguments or an unreachable database.
pub async fn run(config: &Config, action: &ApikeyAction) -> anyhow::Result<bool> {
    let (_db, store, _sync) = wiring::open_sync(config).await?;
    let auth = wiring::auth_service(config, store);
    match action {
        ApikeyAction::Create { name, role } => {
            let role: Role = role.parse().map_err(|e| anyhow::anyhow!("--role: {e}"))?;
            let created = auth
                .create(name, role, "cli")
                .await
                .map_err(|e| e.into_anyhow())
                .context("creating the key")?;
            auth.record(wiring::cli_audit(
                &auth,
                "api_key.create",
                &created.key.id.to_string(),
                "cli",
            ))
            .await;
            eprintln!(
                "created key {} '{}' with role {}; it is printed once, below: store it now",
                created.key.id, created.key.name, created.key.role
            );
            crate::say!("{}", created.token);
        }
        ApikeyAction::List { json } => {
            let keys = auth.list().await.map_err(|e| e.into_anyhow())?;
            if *json {
                crate::say!("{}", serde_json::to_string_pretty(&keys)?);
            } else {
                crate::say!(
                    "{:<36}  {:<24} {:<8} {:<16} {:<16} {:<16} {:<16}",
                    "id",
                    "name",
                    "role",
                    "prefix",
                    "created",
                    "last used",
                    "revoked"
                );
                for k in keys {
                    crate::say!(
                        "{:<36}  {:<24} {:<8} {:<16} {:<16} {:<16} {:<16}",
                        k.id,
                        k.name,
                        k.role.as_str(),
                        k.prefix,
                        when(Some(k.created_at)),
                        when(k.last_used_at),
                        when(k.revoked_at)
                    );
                }
            }
        }
        ApikeyAction::Revoke { id } => match auth
            .revoke(id.parse().map_err(|e| anyhow::anyhow!("{e}"))?)
            .await
        {
            Ok(key) => {
                auth.record(wiring::cli_audit(
                    &auth,
                    "api_key.revoke",
                    &key.id.to_string(),
                    "cli",
                ))
                .await;
                crate::say!(
                    "revoked {} '{}' at {}",
                    key.id,
                    key.name,
                    when(key.revoked_at)
                );
            }
            Err(stockpilot_application::AppError::NotFound(message)) => {
                eprintln!("{message}");
                return Ok(false);
            }
            Err(e) => return Err(e.into_anyhow()),
        },
    }
    Ok(true)
}
