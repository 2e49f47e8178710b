use serde::{Deserialize, Serialize};

/// Which bookkeeping table a migration is recorded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MigrationKind {
    /// `db/migrate`, recorded in `schema_migrations`.
    Schema,
    /// `db/data`, recorded in `data_migrations`.
    Data,
}

/// What an upgrade would do, in order, before anything is changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// Release detected now (if any) and the target.
    pub from_release: Option<String>,
    pub to_release: String,
    pub steps: Vec<PlanStep>,
    /// Reasons the upgrade cannot start; each names its fix. Empty = ready.
    pub blockers: Vec<Blocker>,
    /// Things Dawarich must still do itself afterwards (jobs that are not SQL).
    pub follow_ups: Vec<FollowUp>,
    /// Objects the target release does not have (reported, never dropped).
    pub extras: Vec<String>,
    /// Dawarich's environment the translated SQL follows (time zone, RAILS_ENV, SELF_HOSTED), each
    /// with where it came from.
    pub settings: RunSettings,
}

/// Where a setting of the upgrade came from, in the order they win.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SettingSource {
    /// A command-line option (`--time-zone`, …).
    Option,
    /// The connection's saved setting in the desktop app.
    Profile,
    /// Dawarich's docker `.env` given with `--env-file`.
    EnvFile,
    /// The environment of the running Dawarich app container.
    Container,
    /// The stock docker-compose default for the target release.
    Default,
}

impl SettingSource {
    /// How a person reads it: "the .env file", "the stock compose default", …
    pub fn describe(self) -> &'static str {
        match self {
            SettingSource::Option => "given on the command line",
            SettingSource::Profile => "the connection's setting",
            SettingSource::EnvFile => "Dawarich's .env file",
            SettingSource::Container => "the Dawarich app container",
            SettingSource::Default => "the stock docker-compose default",
        }
    }
}

/// One setting and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Setting {
    pub value: String,
    pub source: SettingSource,
}

/// The Dawarich environment an upgrade reproduces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunSettings {
    /// `TIME_ZONE` (Rails `Time.zone`): dates without an offset are read in it.
    pub time_zone: Setting,
    /// `RAILS_ENV`, written to `ar_internal_metadata.environment` as Rails does.
    pub rails_env: Setting,
    /// `SELF_HOSTED` (`true` / `false`).
    pub self_hosted: Setting,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanStep {
    pub step: usize,
    pub kind: StepKind,
    /// Rails version, for migrations (and job work: the migration that enqueued it).
    pub version: Option<String>,
    /// Which bookkeeping table that version belongs to.
    #[serde(default)]
    pub migration_kind: Option<MigrationKind>,
    pub title: String,
    /// Runs statement by statement outside a transaction (Rails' disable_ddl_transaction!).
    pub no_transaction: bool,
    pub changes_data: bool,
    /// The SQL, for the dry-run preview.
    pub sql: Vec<String>,
    /// Tables touched with their estimated row counts (catalog statistics).
    pub tables: Vec<(String, i64)>,
    pub notes: Vec<String>,
    /// Job work of several migrations run as one walk over their table (the catalog's `-- fuse:`):
    /// each migration, in the order the job phase takes them (`version` is then `None`). Empty for
    /// every other step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fused: Vec<JobOf>,
}

/// The migration whose enqueued job a step does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobOf {
    pub version: String,
    pub migration_kind: MigrationKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepKind {
    /// Re-creates an object a recorded migration should have made (schema drift).
    DriftRepair,
    SchemaMigration,
    DataMigration,
    /// Work a migration enqueued as a Sidekiq job, done here in SQL after every data migration (as
    /// Sidekiq does once the app is up).
    JobWork,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Blocker {
    pub id: crate::BlockerId,
    pub message: String,
    pub fix: String,
    /// Migration versions that would fail.
    pub versions: Vec<String>,
}

/// Work Dawarich must still do itself (Ruby, not SQL): run with `bin/rails runner` in the app
/// container once Dawarich is up again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FollowUp {
    /// The (first) migration that needs it.
    pub version: String,
    /// The Ruby for `bin/rails runner`.
    pub runner: String,
    /// SQL (a boolean) deciding, once Dawarich is up, whether it is needed.
    pub condition: Option<String>,
}

impl FollowUp {
    /// What runs in the app container.
    pub fn argv(&self) -> [&str; 3] {
        ["bin/rails", "runner", &self.runner]
    }

    /// The command to run it by hand: `docker exec dawarich_app bin/rails runner '…'`.
    pub fn command(&self, app_container: &str) -> String {
        std::iter::once("docker exec")
            .map(str::to_string)
            .chain(std::iter::once(app_container).chain(self.argv()).map(crate::shell_word))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// `20240610170930: docker exec … (only when: SQL)`, for a person.
    pub fn describe(&self, app_container: &str) -> String {
        let when = self
            .condition
            .as_ref()
            .map(|c| format!(" (only when: {c})"))
            .unwrap_or_default();
        format!("{}: {}{when}", self.version, self.command(app_container))
    }
}

/// The end of an upgrade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeOutcome {
    pub run_id: String,
    pub applied: Vec<String>,
    /// Follow-ups still to run by hand.
    pub follow_ups: Vec<FollowUp>,
    pub elapsed_ms: u64,
    /// The verified backup made first, if one was.
    #[serde(default)]
    pub backup: Option<crate::BackupOutcome>,
    /// "Dawarich 1.7.5 is up", when Dawarich Doctor started it.
    #[serde(default)]
    pub dawarich_up: Option<String>,
    /// The app log lines of that start that show its own migrations found nothing to do.
    #[serde(default)]
    pub dawarich_log: Vec<String>,
    /// Follow-ups run in the app container.
    #[serde(default)]
    pub follow_ups_run: Vec<FollowUp>,
}

/// One difference between the live schema and a release's expected schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaDifference {
    pub change: Change,
    pub object: ObjectKind,
    pub name: String,
    pub expected: Option<String>,
    pub actual: Option<String>,
    /// For an object a release's schema.rb left behind: where it came from, that Dawarich keeps it
    /// too, and whether it can affect Dawarich.
    #[serde(default)]
    pub note: Option<String>,
}

/// How the live schema differs from the expected one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    /// Expected, not there.
    Missing,
    /// There, not expected (kept, never dropped).
    Extra,
    /// There with another definition.
    Different,
}

/// The kind of schema object a difference is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ObjectKind {
    Extension,
    Table,
    Column,
    Index,
    Constraint,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Missing => "missing",
            Change::Extra => "extra",
            Change::Different => "different",
        }
    }
}

impl ObjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Extension => "extension",
            ObjectKind::Table => "table",
            ObjectKind::Column => "column",
            ObjectKind::Index => "index",
            ObjectKind::Constraint => "constraint",
        }
    }
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl SchemaDifference {
    /// An object the database keeps although the release does not have it (an extra, or something
    /// an older schema.rb left that Dawarich keeps too): reported, never a failure.
    pub fn is_kept(&self) -> bool {
        self.change == Change::Extra || self.note.is_some()
    }
}
