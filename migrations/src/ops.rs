//! Alembic-style migration operations over the [`Migrator`](crate::Migrator): the same
//! behaviour on PostgreSQL and SQLite, because everything goes through sea-orm's migrator and
//! its `seaql_migrations` table.

use std::path::{Path, PathBuf};

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, Statement, TransactionTrait,
};

use crate::{Migrator, REVISIONS, Revision};

/// What went wrong in a migration command, worded for the person who ran it.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("unknown revision '{given}'; known revisions: {known}")]
    UnknownRevision { given: String, known: String },
    #[error("revision prefix '{given}' is ambiguous; it matches: {matches}")]
    AmbiguousRevision { given: String, matches: String },
    #[error("invalid step '{given}': {expected}")]
    InvalidStep {
        given: String,
        expected: &'static str,
    },
    #[error(
        "the database has revision(s) this binary does not know: {0}; \
         upgrade the binary or run `migrate stamp` deliberately"
    )]
    UnknownApplied(String),
    #[error("{0}")]
    Revision(String),
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

/// Where `upgrade` should go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpgradeTarget {
    Head,
    Steps(u32),
    Revision(String),
}

/// Where `downgrade` should go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DowngradeTarget {
    Base,
    Steps(u32),
    Revision(String),
}

impl std::str::FromStr for UpgradeTarget {
    type Err = MigrateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "head" {
            return Ok(Self::Head);
        }
        if let Some(n) = s.strip_prefix('+') {
            return parse_steps(s, n).map(Self::Steps);
        }
        Ok(Self::Revision(s.to_owned()))
    }
}

impl std::str::FromStr for DowngradeTarget {
    type Err = MigrateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "base" {
            return Ok(Self::Base);
        }
        if let Some(n) = s.strip_prefix('-') {
            return parse_steps(s, n).map(Self::Steps);
        }
        Ok(Self::Revision(s.to_owned()))
    }
}

fn parse_steps(given: &str, digits: &str) -> Result<u32, MigrateError> {
    match digits.parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(MigrateError::InvalidStep {
            given: given.to_owned(),
            expected: "a positive whole number of steps, e.g. +1 or -2",
        }),
    }
}

/// One line of `history`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub revision: Revision,
    pub applied: bool,
}

/// Resolves a revision id or a unique prefix of one into its position in [`REVISIONS`].
///
/// # Errors
/// [`MigrateError::UnknownRevision`] or [`MigrateError::AmbiguousRevision`].
pub fn resolve(given: &str) -> Result<usize, MigrateError> {
    if let Some(i) = REVISIONS.iter().position(|r| r.id == given) {
        return Ok(i);
    }
    let matches: Vec<usize> = (0..REVISIONS.len())
        .filter(|&i| REVISIONS[i].id.starts_with(given))
        .collect();
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => Err(MigrateError::UnknownRevision {
            given: given.to_owned(),
            known: REVISIONS
                .iter()
                .map(|r| r.id)
                .collect::<Vec<_>>()
                .join(", "),
        }),
        many => Err(MigrateError::AmbiguousRevision {
            given: given.to_owned(),
            matches: many
                .iter()
                .map(|&i| REVISIONS[i].id)
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

async fn applied_ids<C: ConnectionTrait>(db: &C) -> Result<Vec<String>, MigrateError> {
    Migrator::install(db).await?;
    let models = Migrator::get_migration_models(db).await?;
    let unknown: Vec<String> = models
        .iter()
        .filter(|m| !REVISIONS.iter().any(|r| r.id == m.version))
        .map(|m| m.version.clone())
        .collect();
    if !unknown.is_empty() {
        return Err(MigrateError::UnknownApplied(unknown.join(", ")));
    }
    Ok(models.into_iter().map(|m| m.version).collect())
}

fn is_applied(applied: &[String], index: usize) -> bool {
    applied.iter().any(|a| a == REVISIONS[index].id)
}

/// Key of the PostgreSQL advisory lock held while `upgrade` runs ("spmigrat" in ASCII), so
/// replicas that start together on one database migrate one at a time: the first applies the
/// pending revisions, the others wait for it and then find nothing pending.
pub const MIGRATION_LOCK_KEY: i64 = 0x7370_6d69_6772_6174;

/// Applies pending revisions up to the target; returns the ids applied, oldest first. On
/// PostgreSQL the whole upgrade runs in one transaction holding [`MIGRATION_LOCK_KEY`]
/// (`pg_advisory_xact_lock`), released when it commits or fails.
///
/// # Errors
/// Unknown revisions (in the target or applied in the database), or the database error of
/// the failing revision (on PostgreSQL nothing of the upgrade stays applied).
pub async fn upgrade(
    db: &DatabaseConnection,
    target: &UpgradeTarget,
) -> Result<Vec<&'static str>, MigrateError> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        let to_apply = plan_upgrade(db, target).await?;
        if !to_apply.is_empty() {
            Migrator::up(db, Some(steps(&to_apply))).await?;
        }
        return Ok(to_apply.into_iter().map(|i| REVISIONS[i].id).collect());
    }
    let txn = db.begin().await?;
    txn.execute_unprepared(&format!(
        "SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"
    ))
    .await?;
    let to_apply = plan_upgrade(&txn, target).await?;
    if !to_apply.is_empty() {
        Migrator::up(&txn, Some(steps(&to_apply))).await?;
    }
    txn.commit().await?;
    Ok(to_apply.into_iter().map(|i| REVISIONS[i].id).collect())
}

fn steps(revisions: &[usize]) -> u32 {
    <u32 as TryFrom<usize>>::try_from(revisions.len()).unwrap_or(u32::MAX)
}

/// The positions in [`REVISIONS`] of the revisions `upgrade` to `target` applies.
async fn plan_upgrade<C: ConnectionTrait>(
    db: &C,
    target: &UpgradeTarget,
) -> Result<Vec<usize>, MigrateError> {
    let applied = applied_ids(db).await?;
    let pending: Vec<usize> = (0..REVISIONS.len())
        .filter(|&i| !is_applied(&applied, i))
        .collect();
    Ok(match target {
        UpgradeTarget::Head => pending,
        UpgradeTarget::Steps(n) => pending.into_iter().take(*n as usize).collect(),
        UpgradeTarget::Revision(r) => {
            let upto = resolve(r)?;
            pending.into_iter().filter(|&i| i <= upto).collect()
        }
    })
}

/// Reverts applied revisions down to the target, in one transaction; returns the ids
/// reverted, newest first.
///
/// # Errors
/// Unknown revisions, or the database error of the failing `down` (then none is reverted).
pub async fn downgrade(
    db: &DatabaseConnection,
    target: &DowngradeTarget,
) -> Result<Vec<&'static str>, MigrateError> {
    let applied = applied_ids(db).await?;
    let mut applied_idx: Vec<usize> = (0..REVISIONS.len())
        .filter(|&i| is_applied(&applied, i))
        .collect();
    applied_idx.reverse();
    let to_revert: Vec<usize> = match target {
        DowngradeTarget::Base => applied_idx,
        DowngradeTarget::Steps(n) => applied_idx.into_iter().take(*n as usize).collect(),
        DowngradeTarget::Revision(r) => {
            let keep = resolve(r)?;
            applied_idx.into_iter().filter(|&i| i > keep).collect()
        }
    };
    if to_revert.is_empty() {
        return Ok(Vec::new());
    }
    // One transaction, so one connection: all or nothing, and on SQLite no pooled
    // connection works from a schema another one changed (a `DROP COLUMN` there fails with
    // "no such column" when an earlier `down` in the same run re-added that column).
    let txn = db.begin().await?;
    Migrator::down(&txn, Some(steps(&to_revert))).await?;
    txn.commit().await?;
    Ok(to_revert.into_iter().map(|i| REVISIONS[i].id).collect())
}

/// The newest applied revision, or `None` at base.
///
/// # Errors
/// Database errors, or applied revisions unknown to this binary.
pub async fn current(db: &DatabaseConnection) -> Result<Option<&'static str>, MigrateError> {
    let applied = applied_ids(db).await?;
    Ok((0..REVISIONS.len())
        .rev()
        .find(|&i| is_applied(&applied, i))
        .map(|i| REVISIONS[i].id))
}

/// Every revision, oldest first, with whether it is applied.
///
/// # Errors
/// Database errors, or applied revisions unknown to this binary.
pub async fn history(db: &DatabaseConnection) -> Result<Vec<HistoryEntry>, MigrateError> {
    let applied = applied_ids(db).await?;
    Ok(REVISIONS
        .iter()
        .enumerate()
        .map(|(i, r)| HistoryEntry {
            revision: *r,
            applied: is_applied(&applied, i),
        })
        .collect())
}

/// The head revision(s). History is linear, so there is one head (none when empty).
pub fn heads() -> Vec<&'static str> {
    REVISIONS.last().map(|r| r.id).into_iter().collect()
}

/// Marks the database as being at `target` (`base`, `head` or a revision) without running
/// any migration: revisions up to and including it are recorded as applied, later ones not.
///
/// # Errors
/// Unknown revisions or database errors.
pub async fn stamp(
    db: &DatabaseConnection,
    target: &str,
) -> Result<Vec<&'static str>, MigrateError> {
    Migrator::install(db).await?;
    let upto: Option<usize> = match target {
        "base" => None,
        "head" => REVISIONS.len().checked_sub(1),
        other => Some(resolve(other)?),
    };
    let backend = db.get_database_backend();
    let table = Migrator::migration_table_name().to_string();
    db.execute_raw(Statement::from_string(
        backend,
        format!("DELETE FROM \"{table}\""),
    ))
    .await?;
    let now = chrono::Utc::now().timestamp();
    let mut stamped = Vec::new();
    if let Some(upto) = upto {
        for rev in &REVISIONS[..=upto] {
            let insert = Query::insert()
                .into_table(Alias::new(table.as_str()))
                .columns([Alias::new("version"), Alias::new("applied_at")])
                .values_panic([rev.id.into(), now.into()])
                .to_owned();
            db.execute(&insert).await?;
            stamped.push(rev.id);
        }
    }
    Ok(stamped)
}

/// Writes a new dated revision file from the template into `src_dir` and registers it in
/// `src_dir/lib.rs`. Returns the path written.
///
/// # Errors
/// An empty message, a missing `lib.rs`/marker, or I/O errors.
pub fn new_revision(
    src_dir: &Path,
    message: &str,
    now: chrono::NaiveDateTime,
) -> Result<PathBuf, MigrateError> {
    let message = message.trim();
    let slug: String = message
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect::<String>()
        .split('_')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    if slug.is_empty() {
        return Err(MigrateError::Revision(
            "the message (-m) must contain at least one letter or digit".into(),
        ));
    }
    let slug: String = slug
        .chars()
        .take(48)
        .collect::<String>()
        .trim_end_matches('_')
        .to_owned();
    let id = format!("m{}_{}", now.format("%Y%m%d_%H%M%S"), slug);
    let lib = src_dir.join("lib.rs");
    let lib_text = std::fs::read_to_string(&lib).map_err(|e| {
        MigrateError::Revision(format!(
            "cannot read {}: {e}; pass --dir <migrations/src>",
            lib.display()
        ))
    })?;
    const MARKER: &str = "    // end of revisions";
    if !lib_text.contains(MARKER) {
        return Err(MigrateError::Revision(format!(
            "{} has no '{}' line to register the revision before",
            lib.display(),
            MARKER.trim()
        )));
    }
    let file = src_dir.join(format!("{id}.rs"));
    if file.exists() {
        return Err(MigrateError::Revision(format!(
            "{} already exists",
            file.display()
        )));
    }
    let escaped = message.replace('\\', "\\\\").replace('"', "\\\"");
    let body = include_str!("../templates/revision.rs.tmpl")
        .replace(
            "//! {{message}}",
            &format!("//! {}", message.replace('\n', " ")),
        )
        .replace("{{message}}", &escaped);
    std::fs::write(&file, body)
        .map_err(|e| MigrateError::Revision(format!("cannot write {}: {e}", file.display())))?;
    let updated = lib_text.replacen(MARKER, &format!("    {id},\n{MARKER}"), 1);
    std::fs::write(&lib, updated)
        .map_err(|e| MigrateError::Revision(format!("cannot write {}: {e}", lib.display())))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_upgrade_and_downgrade_targets() {
        assert_eq!(
            "head".parse::<UpgradeTarget>().unwrap(),
            UpgradeTarget::Head
        );
        assert_eq!(
            "+2".parse::<UpgradeTarget>().unwrap(),
            UpgradeTarget::Steps(2)
        );
        assert_eq!(
            "-1".parse::<DowngradeTarget>().unwrap(),
            DowngradeTarget::Steps(1)
        );
        assert_eq!(
            "base".parse::<DowngradeTarget>().unwrap(),
            DowngradeTarget::Base
        );
        assert!(matches!(
            "+0".parse::<UpgradeTarget>(),
            Err(MigrateError::InvalidStep { .. })
        ));
        assert!(matches!(
            "-x".parse::<DowngradeTarget>(),
            Err(MigrateError::InvalidStep { .. })
        ));
    }

    #[test]
    fn resolves_a_unique_prefix_and_rejects_unknown_ones() {
        assert_eq!(resolve(REVISIONS[0].id).unwrap(), 0);
        assert_eq!(resolve("m20261121_000001").unwrap(), 0);
        assert!(matches!(
            resolve("m1999"),
            Err(MigrateError::UnknownRevision { .. })
        ));
    }

    #[test]
    fn writes_a_dated_revision_and_registers_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("lib.rs"),
            "revisions! {\n    m20261121_000001_market_data,\n    // end of revisions\n}\n",
        )
        .unwrap();
        let now = chrono::NaiveDate::from_ymd_opt(2026, 11, 22)
            .unwrap()
            .and_hms_opt(8, 30, 5)
            .unwrap();
        let path = new_revision(dir.path(), "Add \"news\" table!", now).unwrap();
        assert_eq!(
            path.file_name().unwrap(),
            "m20261122_083005_add_news_table.rs"
        );
        let body = std::fs::read_to_string(&path).unwrap();
        assert!(body.contains("pub const DESCRIPTION: &str = \"Add \\\"news\\\" table!\";"));
        assert!(body.contains("async fn down"));
        let lib = std::fs::read_to_string(dir.path().join("lib.rs")).unwrap();
        assert_eq!(
            lib,
            "revisions! {\n    m20261121_000001_market_data,\n    m20261122_083005_add_news_table,\n    // end of revisions\n}\n"
        );
        assert!(new_revision(dir.path(), "  !! ", now).is_err());
    }
}

#[cfg(test)]
mod atomicity {
    use crate::Migrator;
    use sea_orm_migration::MigratorTrait;

    #[test]
    fn every_revision_and_the_template_run_in_a_transaction() {
        for m in Migrator::migrations() {
            assert_eq!(
                m.use_transaction(),
                Some(true),
                "{} must opt into a transaction",
                m.name()
            );
        }
        assert!(
            include_str!("../templates/revision.rs.tmpl")
                .contains("fn use_transaction(&self) -> Option<bool> {\n        Some(true)")
        );
    }
}
