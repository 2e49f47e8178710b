//! What Dawarich's container log says about a start: the entrypoint's steps, Rails' migration output
//! (data_migrate prints the same lines), the abort block, and why a migration failed.

use serde::{Deserialize, Serialize};

/// A step of Dawarich's web entrypoint, from the line it echoes before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntrypointStep {
    /// `⚠️ Starting Rails environment: production ⚠️` (0.22.0+), `Environment: development` (before).
    Start,
    /// `Running primary database migrations...` / `PostgreSQL is ready. Running database migrations...`.
    SchemaMigrations,
    /// `Running DATA migrations...` (`rake data:migrate`).
    DataMigrations,
    /// `Running seeds...`.
    Seeds,
}

/// One recognised line of the container log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "event")]
pub enum LogEvent {
    /// The entrypoint moved on to `step`.
    Step { step: EntrypointStep },
    /// `== 20240815174852 AddOwntracksPointsData: migrating ====`; `data` when it runs under
    /// `rake data:migrate` (data_migrate prints exactly what Rails prints; only the entrypoint's step
    /// tells them apart, so a single line always reads as a schema migration).
    Migrating { version: String, name: String, data: bool },
    /// `-- add_column(:points, :x, :string)`: a schema statement (or a migration's own `say`).
    Statement { text: String },
    /// `   -> 0.0123s` / `   -> 12 rows`.
    StatementDone { detail: String },
    /// `== 20240815174852 AddOwntracksPointsData: migrated (0.0150s) ====`.
    Migrated {
        version: String,
        name: String,
        secs: f64,
        data: bool,
    },
    /// `bin/rails aborted!` / `rake aborted!`, or Rails' `An error has occurred, … all later
    /// migrations canceled:` line.
    Aborted,
    /// Puma's `* Listening on http://[::]:3000`: the app is up.
    Listening,
}

/// The migration running at the end of the log (its `migrating` line without `migrated`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunningMigration {
    pub version: String,
    pub name: String,
    /// A data migration (`rake data:migrate`).
    pub data: bool,
    /// The statement it is in (`add_index(:points, …)`), when Rails printed one not yet done.
    pub statement: Option<String>,
}

impl RunningMigration {
    /// `VERSION Name`, as [`Failure`] names a migration.
    pub fn label(&self) -> String {
        format!("{} {}", self.version, self.name)
    }
}

/// What a `PG::Duplicate*` error says already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExistingKind {
    /// `PG::DuplicateColumn: column "x" of relation "t" already exists`.
    Column,
    /// `relation "x" already exists` from `create_table`.
    Table,
    /// `relation "x" already exists` from `add_index` (often an INVALID index left by a failed
    /// concurrent build).
    Index,
    /// `relation "x" already exists` from anything else.
    Relation,
    /// `PG::DuplicateObject: constraint "x" for relation "t" already exists`.
    Constraint,
}

impl ExistingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExistingKind::Column => "column",
            ExistingKind::Table => "table",
            ExistingKind::Index => "index",
            ExistingKind::Relation => "relation",
            ExistingKind::Constraint => "constraint",
        }
    }
}

/// Why a Dawarich start failed, from its log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "failure")]
pub enum Failure {
    /// ActiveRecord::ConcurrentMigrationError: someone holds Rails' migration lock.
    LockHeld,
    /// `Validation failed: User must exist` (points without a live owner).
    UserMustExist { migration: Option<String> },
    /// PG::UniqueViolation, creating a unique index or writing a row: the index, its table (from the
    /// failing statement, when it names one) and columns, and the duplicated key's values as PG
    /// printed them.
    UniqueViolation {
        migration: Option<String>,
        index: Option<String>,
        table: Option<String>,
        columns: Vec<String>,
        key: Option<String>,
    },
    /// PG::DuplicateColumn / PG::DuplicateTable / PG::DuplicateObject: a half-applied no-transaction
    /// migration run again. `table` is the relation a column or constraint belongs to.
    AlreadyExists {
        migration: Option<String>,
        kind: ExistingKind,
        name: String,
        table: Option<String>,
    },
    /// NoMethodError `undefined method '[]' for nil` in a settings migration (users with NULL
    /// settings, or settings without the key it reads).
    NilSettings { migration: Option<String> },
    /// Anything else: reported verbatim, never guessed at. `error` is the error's first line,
    /// `excerpt` the log lines around it without the backtrace (at most 20).
    Unknown {
        migration: Option<String>,
        statement: Option<String>,
        error: String,
        excerpt: Vec<String>,
    },
}

impl Failure {
    /// One line for a person: what failed, where.
    pub fn summary(&self) -> String {
        let at = self.migration().map(|m| format!(" in {m}")).unwrap_or_default();
        match self {
            Failure::LockHeld => "ActiveRecord::ConcurrentMigrationError: Rails' migration lock was held".into(),
            Failure::UserMustExist { .. } => format!("Validation failed: User must exist{at}"),
            Failure::UniqueViolation { index, key, .. } => format!(
                "PG::UniqueViolation{at}: duplicates under {}{}",
                index.as_deref().unwrap_or("a unique index"),
                key.as_deref().map(|k| format!(", key {k}")).unwrap_or_default()
            ),
            Failure::AlreadyExists { kind, name, .. } => format!("{} {name} already exists{at}", kind.as_str()),
            Failure::NilSettings { .. } => format!("undefined method '[]' for nil{at} (users' settings)"),
            Failure::Unknown { error, .. } => format!("{error}{at}"),
        }
    }

    /// Dawarich Doctor can fix it itself (duplicates under a unique index, an index a half-applied
    /// migration left); the others have a check's repair, the lock release, or only advice.
    pub fn fixable(&self) -> bool {
        matches!(
            self,
            Failure::UniqueViolation { .. }
                | Failure::AlreadyExists {
                    kind: ExistingKind::Index | ExistingKind::Relation,
                    ..
                }
        )
    }

    /// `VERSION Name` of the migration that failed, when one was running.
    pub fn migration(&self) -> Option<&str> {
        match self {
            Failure::LockHeld => None,
            Failure::UserMustExist { migration }
            | Failure::UniqueViolation { migration, .. }
            | Failure::AlreadyExists { migration, .. }
            | Failure::NilSettings { migration }
            | Failure::Unknown { migration, .. } => migration.as_deref(),
        }
    }
}

/// What the database shows about a failure, and what fixes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Advice {
    pub message: String,
    pub fix: String,
    /// The check whose repair fixes it, when one does.
    pub check: Option<crate::CheckId>,
}

/// How watching Dawarich's own start ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WatchReport {
    /// Versions recorded while watching.
    pub recorded: Vec<String>,
    /// `None`: Dawarich is up.
    pub failure: Option<Failure>,
    pub advice: Option<Advice>,
}
