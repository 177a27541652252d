//! `stockpilot migrate …`: prints what the alembic-style operations did.

use migration::ops::{self, DowngradeTarget, UpgradeTarget};

use crate::cli::MigrateAction;
use crate::config::Config;
use crate::startup::db_settings;

/// Runs one migrate action and returns the lines to print.
///
/// # Errors
/// Bad targets, an unreachable database, or a failing revision.
pub async fn run(config: &Config, action: &MigrateAction) -> anyhow::Result<Vec<String>> {
    if let MigrateAction::Revision { message, dir } = action {
        let path = ops::new_revision(dir, message, chrono::Local::now().naive_local())?;
        return Ok(vec![format!(
            "wrote {} and registered it in {}",
            path.display(),
            dir.join("lib.rs").display()
        )]);
    }
    if let MigrateAction::Heads = action {
        return Ok(ops::heads()
            .into_iter()
            .map(|h| format!("{h} (head)"))
            .collect());
    }
    let db = stockpilot_db::connect(&db_settings(config)).await?;
    let lines = run_on(&db, action).await;
    db.close().await.ok();
    lines
}

/// The database-touching actions, on an open connection (tests call this directly).
///
/// # Errors
/// As [`run`].
pub async fn run_on(
    db: &stockpilot_db::DatabaseConnection,
    action: &MigrateAction,
) -> anyhow::Result<Vec<String>> {
    let lines = match action {
        MigrateAction::Upgrade { target } => {
            let target: UpgradeTarget = target.parse()?;
            let applied = ops::upgrade(db, &target).await?;
            if applied.is_empty() {
                vec!["nothing to upgrade; the database is already at the target".into()]
            } else {
                applied.iter().map(|r| format!("applied {r}")).collect()
            }
        }
        MigrateAction::Downgrade { target } => {
            let target: DowngradeTarget = target.parse()?;
            let reverted = ops::downgrade(db, &target).await?;
            if reverted.is_empty() {
                vec!["nothing to downgrade; the database is already at the target".into()]
            } else {
                reverted.iter().map(|r| format!("reverted {r}")).collect()
            }
        }
        MigrateAction::Current => vec![match ops::current(db).await? {
            Some(rev) if ops::heads().contains(&rev) => format!("{rev} (head)"),
            Some(rev) => rev.to_owned(),
            None => "base (no revision applied)".into(),
        }],
        MigrateAction::History => {
            let current = ops::current(db).await?;
            ops::history(db)
                .await?
                .into_iter()
                .map(|e| {
                    let status = if e.applied { "applied" } else { "pending" };
                    let marker = if Some(e.revision.id) == current {
                        " (current)"
                    } else {
                        ""
                    };
                    format!(
                        "{:<8} {}{marker}  {}",
                        status, e.revision.id, e.revision.description
                    )
                })
                .collect()
        }
        MigrateAction::Stamp { revision } => {
            let stamped = ops::stamp(db, revision).await?;
            vec![match stamped.last() {
                Some(last) => format!(
                    "stamped the database at {last} ({} revision(s) recorded as applied)",
                    stamped.len()
                ),
                None => "stamped the database at base (no revision recorded as applied)".into(),
            }]
        }
        MigrateAction::Heads | MigrateAction::Revision { .. } => Vec::new(),
    };
    Ok(lines)
}
