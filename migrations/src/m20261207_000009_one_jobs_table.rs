//! One table for every kind of queued work: `jobs` holds each job's kind, its payload (what to
//! do, as JSON) and its lifecycle on the queue (status, claim, heartbeat, attempts, recoveries,
//! cancel, timestamps). Sync jobs and research runs move their rows there — a sync job's
//! payload is `{kind, provider, params, schedule_name}`, a research run's its request — and
//! keep only their progress and usage in `sync_jobs` and `research_runs`, keyed by the same id.
//! `down` puts every value back where it was.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

pub const DESCRIPTION: &str = "one jobs table (kind, payload, lifecycle) for sync jobs and research runs";

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    Kind,
    Payload,
    Status,
    Message,
    CancelRequested,
    ClaimedBy,
    HeartbeatAt,
    RunAfter,
    Attempts,
    Recoveries,
    CreatedAt,
    StartedAt,
    FinishedAt,
    UpdatedAt,
}

/// The type a moved column had in its kind table (for `down`).
#[derive(Clone, Copy)]
enum Type {
    Text(u32),
    Json,
    Bool,
    Int,
    Ts,
    TsNull,
    TextNull(u32),
    LongTextNull,
}

/// A column that moves: its name in the kind table, its name in `jobs`, its old type.
type Moved = (&'static str, &'static str, Type);

/// The lifecycle columns of `sync_jobs` and where they go.
const SYNC_LIFECYCLE: &[Moved] = &[
    ("status", "status", Type::Text(16)),
    ("message", "message", Type::LongTextNull),
    ("cancel_requested", "cancel_requested", Type::Bool),
    ("claimed_by", "claimed_by", Type::TextNull(64)),
    ("heartbeat_at", "heartbeat_at", Type::TsNull),
    ("resume_after", "run_after", Type::TsNull),
    ("created_at", "created_at", Type::Ts),
    ("started_at", "started_at", Type::TsNull),
    ("finished_at", "finished_at", Type::TsNull),
    ("updated_at", "updated_at", Type::Ts),
    ("attempts", "attempts", Type::Int),
    ("recoveries", "recoveries", Type::Int),
];

/// The columns of `sync_jobs` that make up a sync job's payload (same names as its keys).
const SYNC_PAYLOAD: &[(&str, Type)] = &[
    ("kind", Type::Text(32)),
    ("provider", Type::Text(32)),
    ("params", Type::Json),
    ("schedule_name", Type::TextNull(64)),
];

/// The lifecycle columns of `research_runs` and where they go; its `request` is the payload.
const RESEARCH_LIFECYCLE: &[Moved] = &[
    ("status", "status", Type::Text(16)),
    ("error", "message", Type::LongTextNull),
    ("cancel_requested", "cancel_requested", Type::Bool),
    ("claimed_by", "claimed_by", Type::TextNull(64)),
    ("attempts", "attempts", Type::Int),
    ("created_at", "created_at", Type::Ts),
    ("started_at", "started_at", Type::TsNull),
    ("finished_at", "finished_at", Type::TsNull),
    ("heartbeat_at", "heartbeat_at", Type::TsNull),
    ("updated_at", "updated_at", Type::Ts),
    ("run_after", "run_after", Type::TsNull),
    ("recoveries", "recoveries", Type::Int),
];

/// The indexes of the kind tables over lifecycle columns (`jobs` has its own).
const OLD_INDEXES: &[(&str, &str, &[&str])] = &[
    ("ix_sync_jobs_status_created", "sync_jobs", &["status", "created_at"]),
    ("ix_research_runs_status_created", "research_runs", &["status", "created_at"]),
    ("ix_research_runs_created", "research_runs", &["created_at"]),
];

fn ts(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().not_null().to_owned()
}

fn ts_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().null().to_owned()
}

fn counter(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).integer().not_null().default(0).to_owned()
}

/// The column as it is added back by `down`. SQLite adds a `NOT NULL` column only with a
/// constant default; every row is then filled from `jobs`.
fn old_column(name: &str, ty: Type) -> ColumnDef {
    let mut c = ColumnDef::new(Alias::new(name));
    match ty {
        Type::Text(n) => c.string_len(n).not_null().default(""),
        Type::TextNull(n) => c.string_len(n).null(),
        Type::LongTextNull => c.text().null(),
        Type::Json => c.json().not_null().default("{}"),
        Type::Bool => c.boolean().not_null().default(false),
        Type::Int => c.integer().not_null().default(0),
        Type::Ts => c.timestamp_with_time_zone().not_null().default("1970-01-01T00:00:00Z"),
        Type::TsNull => c.timestamp_with_time_zone().null(),
    };
    c.to_owned()
}

/// A payload value as SQL over `jobs.payload`.
fn payload_field(backend: DatabaseBackend, key: &str, ty: Type) -> String {
    match (backend, ty) {
        (DatabaseBackend::Postgres, Type::Json) => format!("payload->'{key}'"),
        (DatabaseBackend::Postgres, _) => format!("payload->>'{key}'"),
        (_, Type::Json) => format!("json(json_extract(payload, '$.{key}'))"),
        _ => format!("json_extract(payload, '$.{key}')"),
    }
}

fn sync_payload_sql(backend: DatabaseBackend) -> String {
    let fields = SYNC_PAYLOAD
        .iter()
        .map(|(name, ty)| match (backend, ty) {
            (DatabaseBackend::Postgres, _) => format!("'{name}', {name}"),
            (_, Type::Json) => format!("'{name}', json({name})"),
            _ => format!("'{name}', {name}"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    match backend {
        DatabaseBackend::Postgres => format!("json_build_object({fields})"),
        _ => format!("json_object({fields})"),
    }
}

async fn drop_columns(manager: &SchemaManager<'_>, table: &str, columns: &[&str]) -> Result<(), DbErr> {
    // One column per statement: SQLite alters one thing at a time.
    for column in columns {
        manager.alter_table(Table::alter().table(Alias::new(table)).drop_column(Alias::new(*column)).to_owned()).await?;
    }
    Ok(())
}

async fn add_columns(manager: &SchemaManager<'_>, table: &str, columns: &[(&str, Type)]) -> Result<(), DbErr> {
    for (name, ty) in columns {
        manager.alter_table(Table::alter().table(Alias::new(table)).add_column(old_column(name, *ty)).to_owned()).await?;
    }
    Ok(())
}

/// Moves the lifecycle (and payload) of every row of `table` into `jobs`.
fn insert_into_jobs(table: &str, kind: &str, payload: &str, moved: &[Moved]) -> String {
    let targets = moved.iter().map(|m| m.1).collect::<Vec<_>>().join(", ");
    let sources = moved.iter().map(|m| m.0).collect::<Vec<_>>().join(", ");
    format!("INSERT INTO jobs (id, kind, payload, {targets}) SELECT id, '{kind}', {payload}, {sources} FROM {table}")
}

/// Fills the re-added columns of `table` from `jobs` (`down`).
fn restore_from_jobs(table: &str, values: &[(&str, String)]) -> String {
    let sets = values
        .iter()
        .map(|(column, value)| format!("{column} = (SELECT {value} FROM jobs WHERE jobs.id = {table}.id)"))
        .collect::<Vec<_>>()
        .join(", ");
    format!("UPDATE {table} SET {sets}")
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// Atomic on SQLite too (it has transactional DDL): rows are never half moved.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Jobs as J;
        manager
            .create_table(
                Table::create()
                    .table(J::Table)
                    .col(ColumnDef::new(J::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(J::Kind).string_len(32).not_null())
                    .col(ColumnDef::new(J::Payload).json().not_null())
                    .col(ColumnDef::new(J::Status).string_len(16).not_null())
                    .col(ColumnDef::new(J::Message).text().null())
                    .col(ColumnDef::new(J::CancelRequested).boolean().not_null().default(false))
                    .col(ColumnDef::new(J::ClaimedBy).string_len(64).null())
                    .col(ts_null(J::HeartbeatAt))
                    .col(ts_null(J::RunAfter))
                    .col(counter(J::Attempts))
                    .col(counter(J::Recoveries))
                    .col(ts(J::CreatedAt))
                    .col(ts_null(J::StartedAt))
                    .col(ts_null(J::FinishedAt))
                    .col(ts(J::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // Listing a kind's jobs (by status), newest first; claiming the oldest runnable one.
        manager
            .create_index(
                Index::create().name("ix_jobs_kind_status_created").table(J::Table).col(J::Kind).col(J::Status).col(J::CreatedAt).to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("ix_jobs_kind_created").table(J::Table).col(J::Kind).col(J::CreatedAt).to_owned())
            .await?;

        let backend = manager.get_database_backend();
        let db = manager.get_connection();
        let sync = insert_into_jobs("sync_jobs", "sync", &sync_payload_sql(backend), SYNC_LIFECYCLE);
        db.execute_unprepared(&sync).await?;
        let research = insert_into_jobs("research_runs", "research", "request", RESEARCH_LIFECYCLE);
        db.execute_unprepared(&research).await?;

        for (index, _, _) in OLD_INDEXES {
            db.execute_unprepared(&format!("DROP INDEX {index}")).await?;
        }
        let mut sync_columns: Vec<&str> = SYNC_LIFECYCLE.iter().map(|m| m.0).collect();
        sync_columns.extend(SYNC_PAYLOAD.iter().map(|p| p.0));
        drop_columns(manager, "sync_jobs", &sync_columns).await?;
        let mut research_columns: Vec<&str> = RESEARCH_LIFECYCLE.iter().map(|m| m.0).collect();
        research_columns.push("request");
        drop_columns(manager, "research_runs", &research_columns).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let db = manager.get_connection();

        let mut sync_columns: Vec<(&str, Type)> = SYNC_PAYLOAD.to_vec();
        sync_columns.extend(SYNC_LIFECYCLE.iter().map(|m| (m.0, m.2)));
        add_columns(manager, "sync_jobs", &sync_columns).await?;
        let mut values: Vec<(&str, String)> = SYNC_PAYLOAD
            .iter()
            .map(|(name, ty)| (*name, payload_field(backend, name, *ty)))
            .collect();
        values.extend(SYNC_LIFECYCLE.iter().map(|m| (m.0, m.1.to_owned())));
        db.execute_unprepared(&restore_from_jobs("sync_jobs", &values)).await?;

        let mut research_columns = vec![("request", Type::Json)];
        research_columns.extend(RESEARCH_LIFECYCLE.iter().map(|m| (m.0, m.2)));
        add_columns(manager, "research_runs", &research_columns).await?;
        let mut values = vec![("request", "payload".to_owned())];
        values.extend(RESEARCH_LIFECYCLE.iter().map(|m| (m.0, m.1.to_owned())));
        db.execute_unprepared(&restore_from_jobs("research_runs", &values)).await?;

        for (index, table, columns) in OLD_INDEXES {
            let mut create = Index::create().name(*index).table(Alias::new(*table)).to_owned();
            for column in *columns {
                create.col(Alias::new(*column));
            }
            manager.create_index(create).await?;
        }
        manager.drop_table(Table::drop().table(Jobs::Table).to_owned()).await
    }
}

