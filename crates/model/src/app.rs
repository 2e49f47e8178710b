//! Types of the desktop app's own commands: their names, the step-by-step connection test, the
//! profile list, what a save did with the password and the confirmation of a destructive command.
//! Like the rest of this crate: data only, no IO.

use serde::{Deserialize, Serialize};

use crate::{ErrorReport, LockReport, Plan, Profile, RepairPreview};

/// The desktop shell's command names, as the UI invokes them and the shell registers them.
pub mod commands {
    pub const APP_INFO: &str = "app_info";
    pub const LIST_PROFILES: &str = "list_profiles";
    pub const PARSE_CONNECTION: &str = "parse_connection";
    pub const SAVE_PROFILE: &str = "save_profile";
    pub const DUPLICATE_PROFILE: &str = "duplicate_profile";
    pub const DELETE_PROFILE: &str = "delete_profile";
    pub const REMEMBER_PASSWORD: &str = "remember_password";
    pub const TEST_CONNECTION: &str = "test_connection";
    pub const DIAGNOSE: &str = "diagnose";
    pub const UPGRADE_PROPOSAL: &str = "upgrade_proposal";
    pub const RELEASE_LOCK: &str = "release_lock";
    pub const RUN_REPAIR: &str = "run_repair";
    pub const RUN_UPGRADE: &str = "run_upgrade";
    pub const CANCEL: &str = "cancel";
    pub const VERIFY: &str = "verify";
    pub const UNDO: &str = "undo";
    pub const AUDIT_LOG: &str = "audit_log";
    pub const OPEN_DEMO: &str = "open_demo";
    pub const EXPORT_AUDIT: &str = "export_audit";
    pub const RUN_BACKUP: &str = "run_backup";
    pub const STOP_CONTAINERS: &str = "stop_containers";
    pub const CONTAINERS_STATUS: &str = "containers_status";
    pub const SHOW_IN_FOLDER: &str = "show_in_folder";
    pub const WATCH_DAWARICH: &str = "watch_dawarich";
    pub const FIX_FAILURE: &str = "fix_failure";

    /// Every command, in the order the shell registers them.
    pub const ALL: [&str; 25] = [
        APP_INFO,
        LIST_PROFILES,
        PARSE_CONNECTION,
        SAVE_PROFILE,
        DUPLICATE_PROFILE,
        DELETE_PROFILE,
        REMEMBER_PASSWORD,
        TEST_CONNECTION,
        DIAGNOSE,
        UPGRADE_PROPOSAL,
        RELEASE_LOCK,
        RUN_REPAIR,
        RUN_UPGRADE,
        CANCEL,
        VERIFY,
        UNDO,
        AUDIT_LOG,
        OPEN_DEMO,
        EXPORT_AUDIT,
        RUN_BACKUP,
        STOP_CONTAINERS,
        CONTAINERS_STATUS,
        SHOW_IN_FOLDER,
        WATCH_DAWARICH,
        FIX_FAILURE,
    ];
}

/// The app's version and what this machine offers.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub version: String,
    /// Why passwords are not kept across runs (no keychain), if so.
    pub keychain_unavailable: Option<String>,
    pub log_dir: Option<String>,
    /// Local PostgreSQL server binaries and PostGIS exist, so "Open demo database" can start one.
    pub demo_available: bool,
    /// Once known: what the demo needs that is not installed (`demo_available` is false then).
    pub demo_missing: Option<DemoMissing>,
    /// The saved connections' file was damaged at start: what could be read and where the copy is.
    pub profiles_notice: Option<String>,
}

/// What "Open demo database" needs that this machine lacks, and how to install it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoMissing {
    /// E.g. "The demo database needs PostGIS for PostgreSQL 15, which is not installed".
    pub message: String,
    /// The Debian packages, e.g. `postgresql-15-postgis-3`.
    pub packages: Vec<String>,
    /// E.g. `sudo apt install postgresql-15-postgis-3`.
    pub install_command: String,
}

/// The question a destructive command asks in its native dialog before it changes anything: what
/// exactly happens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    pub title: String,
    pub message: String,
    /// The label of the button that goes ahead (the other one is Cancel).
    pub ok: String,
}

/// The answer of a destructive command: done, or declined in its dialog (nothing changed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "answer", content = "outcome")]
pub enum Confirmed<T> {
    Done(T),
    Declined,
}

/// One step of "Test connection", in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProbeStepId {
    /// Resolve the host and open a TCP connection (or the Unix socket).
    Tcp,
    /// Negotiate TLS as the sslmode asks.
    Tls,
    /// Log in with the user and password to the database.
    Authentication,
    /// The PostGIS extension (installed, or at least installable).
    Postgis,
    /// The Dawarich bookkeeping tables and the release they match.
    Dawarich,
}

impl ProbeStepId {
    pub const ALL: [ProbeStepId; 5] = [
        ProbeStepId::Tcp,
        ProbeStepId::Tls,
        ProbeStepId::Authentication,
        ProbeStepId::Postgis,
        ProbeStepId::Dawarich,
    ];

    /// What the step is called on screen.
    pub fn title(self) -> &'static str {
        match self {
            ProbeStepId::Tcp => "TCP connection",
            ProbeStepId::Tls => "TLS",
            ProbeStepId::Authentication => "Authentication",
            ProbeStepId::Postgis => "PostGIS",
            ProbeStepId::Dawarich => "Dawarich detected",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProbeStatus {
    Ok,
    /// Works, but worth knowing (e.g. no TLS under `prefer`, PostGIS installable but not installed).
    Warning,
    Failed,
    /// Not run because an earlier step failed, or not relevant (TLS under `disable`).
    Skipped,
}

/// The result of one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeStep {
    pub id: ProbeStepId,
    pub status: ProbeStatus,
    /// What was found, e.g. `TLSv1.3 (TLS_AES_256_GCM_SHA384), certificate not verified (sslmode=require)`.
    pub detail: String,
    /// For `Failed` (and some warnings): what happened and what fixes it.
    pub error: Option<ErrorReport>,
    pub elapsed_ms: u64,
}

/// Every step of a connection test; `ok` when none failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeReport {
    pub steps: Vec<ProbeStep>,
    pub ok: bool,
}

/// What pasting a URL or a `.env` produced: a profile to edit, and the password found in the text
/// (kept only in the form; it goes to the keychain on save).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParsedConnection {
    pub profile: Profile,
    pub password: Option<String>,
}

/// Where a saved profile's password ended up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum PasswordOutcome {
    /// No password given: the profile keeps what it had.
    Unchanged,
    /// Stored in the OS keychain.
    Keychain,
    /// No keychain is available: the password is held in memory until the app quits and asked for
    /// again on the next run.
    MemoryOnly { reason: String },
    /// The profile needs no password.
    None,
}

/// The answer to a save.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedProfile {
    pub profile: Profile,
    pub password: PasswordOutcome,
}

/// A saved profile as listed, with whether a password is at hand for it right now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileEntry {
    pub profile: Profile,
    /// False when the app must ask for the password before connecting.
    pub password_ready: bool,
}

/// What the upgrade screen shows before anything changes: the plan, who holds the lock, and a
/// preview of the repairs for each blocker that has one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeProposal {
    pub plan: Plan,
    pub lock: LockReport,
    /// One per blocker that `repair` can fix, in the plan's order.
    pub repairs: Vec<RepairPreview>,
    /// The backup command for the stock docker compose.
    pub backup_command: String,
    /// What the upgrade can do on the Docker host.
    #[serde(default)]
    pub host: HostProposal,
}

/// The Docker host as the upgrade screen shows it: the containers it stops and starts, and where
/// the backup goes; each `None` says why in its note.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostProposal {
    pub containers: Option<crate::InstallStatus>,
    /// Why the containers are not managed (no docker, not allowed, none found) and what to do.
    pub containers_note: Option<String>,
    /// The file Dawarich Doctor writes the backup to.
    pub backup_file: Option<String>,
    /// Why Dawarich Doctor cannot make the backup itself (then the command is shown instead).
    pub backup_note: Option<String>,
}

/// The backup command for Dawarich's stock docker compose (database container `dawarich_db`).
pub fn backup_command(p: &Profile) -> String {
    format!(
        "docker exec dawarich_db pg_dump -U {} -Fc {} > dawarich-backup.dump",
        shell_word(&p.user),
        shell_word(&p.database)
    )
}

/// `s` as one word of a POSIX shell command line: as it is when it is plain, else single-quoted.
/// Every command line Dawarich Doctor shows or sends to a shell (SSH exec) quotes its words with this.
pub fn shell_word(s: &str) -> String {
    let plain = !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "_-.,:/@%+=".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// One repair the user chose on the upgrade screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepairChoice {
    pub check: crate::CheckId,
    pub strategy: crate::StrategyId,
    /// For strategies that need a user (`assign`).
    pub user: Option<i64>,
}

/// A problem with one field of a profile, for the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The profile field's name as serialised (`host`, `port`, `caFile`, …).
    pub field: String,
    pub message: String,
}

/// Checks what a profile needs before anyone tries to connect with it.
pub fn validate_profile(p: &Profile) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut err = |field: &str, message: &str| {
        errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        })
    };
    if p.name.trim().is_empty() {
        err("name", "Give the connection a name.");
    }
    if p.host.trim().is_empty() {
        err("host", "Give the server's host name, IP address or socket directory.");
    } else if p.host.trim().contains(char::is_whitespace) {
        err("host", "A host name has no spaces.");
    }
    if p.port == 0 {
        err(
            "port",
            "The port is a number from 1 to 65535 (PostgreSQL's default is 5432).",
        );
    }
    if p.database.trim().is_empty() {
        err(
            "database",
            "Give the database name (DATABASE_NAME in Dawarich's .env, stock: dawarich_development).",
        );
    }
    if p.user.trim().is_empty() {
        err("user", "Give the user name (DATABASE_USERNAME, stock: postgres).");
    }
    if matches!(p.sslmode, crate::SslMode::VerifyCa) && p.ca_file.as_deref().is_none_or(|c| c.trim().is_empty()) {
        err("caFile", "verify-ca needs the CA certificate file of the server.");
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_profile_only_lacks_a_name() {
        let e = validate_profile(&Profile::default());
        assert_eq!(e.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["name"]);
    }

    #[test]
    fn bad_fields_are_named() {
        let p = Profile {
            name: "x".into(),
            host: "a b".into(),
            port: 0,
            database: " ".into(),
            sslmode: crate::SslMode::VerifyCa,
            ..Profile::default()
        };
        let fields: Vec<_> = validate_profile(&p).into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["host", "port", "database", "caFile"]);
    }

    #[test]
    fn the_backup_command_names_the_profiles_user_and_database() {
        let p = Profile {
            user: "dawarich".into(),
            database: "dawarich_production".into(),
            ..Profile::default()
        };
        assert_eq!(
            backup_command(&p),
            "docker exec dawarich_db pg_dump -U dawarich -Fc dawarich_production > dawarich-backup.dump"
        );
    }

    #[test]
    fn a_declined_confirmation_is_its_own_answer() {
        assert_eq!(
            serde_json::to_value(Confirmed::<i32>::Declined).unwrap(),
            serde_json::json!({ "answer": "declined" })
        );
        let done: Confirmed<i32> =
            serde_json::from_value(serde_json::json!({ "answer": "done", "outcome": 3 })).unwrap();
        assert_eq!(done, Confirmed::Done(3));
    }

    #[test]
    fn probe_steps_serialise_in_kebab_case() {
        let s = ProbeStep {
            id: ProbeStepId::Authentication,
            status: ProbeStatus::Failed,
            detail: String::new(),
            error: None,
            elapsed_ms: 3,
        };
        let j = serde_json::to_value(&s).unwrap();
        assert_eq!(j["id"], "authentication");
        assert_eq!(j["status"], "failed");
        assert_eq!(j["elapsedMs"], 3);
        let o = serde_json::to_value(PasswordOutcome::MemoryOnly { reason: "no".into() }).unwrap();
        assert_eq!(o["kind"], "memory-only");
    }
}

#[cfg(test)]
mod backup_tests {
    use super::*;

    #[test]
    fn the_backup_command_quotes_what_the_shell_would_split_or_run() {
        let plain = Profile {
            user: "postgres".into(),
            database: "dawarich_development".into(),
            ..Profile::default()
        };
        assert_eq!(
            backup_command(&plain),
            "docker exec dawarich_db pg_dump -U postgres -Fc dawarich_development > dawarich-backup.dump"
        );
        let odd = Profile {
            user: "o'neil".into(),
            database: "my db $(rm -rf ~)".into(),
            ..Profile::default()
        };
        assert_eq!(
            backup_command(&odd),
            "docker exec dawarich_db pg_dump -U 'o'\\''neil' -Fc 'my db $(rm -rf ~)' > dawarich-backup.dump"
        );
    }
}
