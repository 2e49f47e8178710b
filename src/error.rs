//! The library's error type at its public boundary; every variant knows its user-facing fix.

use dawarich_doctor_model::{ErrorKind, ErrorReport};
use thiserror::Error;

use crate::connect::ConnectError;
use crate::profile::ProfileError;

#[derive(Debug, Error)]
pub enum Error {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("database {database:?} is not a Dawarich database: {detail}")]
    NotDawarich { database: String, detail: String },
    #[error("the database has migration versions newer than this Dawarich Doctor knows ({versions}): a newer Dawarich ({newest_known} is the newest known) already ran here")]
    UnknownVersions { versions: String, newest_known: String },
    #[error("unknown Dawarich release {0:?}")]
    UnknownRelease(String),
    #[error("the Rails migration lock is held by {holders}")]
    LockHeld { holders: String },
    /// A safety rule or the state of the data stopped the operation; nothing was changed.
    #[error("refused: {0}")]
    Refused(String),
    /// A URL, `.env` or SSH server that cannot be read.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// Something the user must give is missing.
    #[error("{message}")]
    InvalidInput { message: String, fix: String },
    #[error("permission denied: {message}")]
    Permission { message: String, fix: String },
    #[error("cannot start: {message}")]
    Precondition { message: String, fix: String },
    #[error("cancelled: {0}")]
    Cancelled(String),
    #[error("database error: {}", db_message(.0))]
    Db(#[from] tokio_postgres::Error),
    /// The session holding the migration lock went away while other sessions were working.
    #[error("{0}")]
    SessionLost(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The local audit file could not be written (a full disk, a removed folder).
    #[error("cannot write the audit file {path}: {detail}")]
    AuditFile { path: String, detail: String },
    #[error(transparent)]
    Docker(#[from] crate::docker::DockerError),
    #[error(transparent)]
    Backup(#[from] crate::backup::BackupError),
    #[error(transparent)]
    Start(#[from] crate::containers::StartError),
    /// A background task panicked or was cancelled.
    #[error("internal error: {0}")]
    Task(#[from] tokio::task::JoinError),
}

const CONNECTION_LOST_FIX: &str =
    "The database server went away or closed our session (stopped or restarted, the network dropped, or an administrator ended it). Rerunning is safe: every step recorded as done was done in full, and nothing half-done was recorded. Once the server is back, run the command again; it continues where this one stopped.";

impl Error {
    /// Our database session went away: terminated by an administrator, or its connection closed.
    /// Everything committed so far is kept, and running the same command again continues.
    pub fn session_ended(&self) -> bool {
        match self {
            Error::SessionLost(_) => true,
            Error::Db(e) => session_ended(e),
            _ => false,
        }
    }

    /// The SSH link's failure instead of a lost session, when `db`'s tunnel dropped.
    pub async fn on_link_of(self, db: &crate::connect::Db) -> Error {
        if !self.session_ended() {
            return self;
        }
        match db.tunnel() {
            Some(t) => match t.dropped_within(std::time::Duration::from_secs(3)).await {
                Some(dropped) => Error::Connect(ConnectError::Tunnel(dropped)),
                None => self,
            },
            None => self,
        }
    }

    /// The error as shown to the user, with the fix.
    pub fn report(&self) -> ErrorReport {
        let (kind, fix) = match self {
            Error::Connect(c) => return c.report(),
            Error::NotDawarich { .. } => (ErrorKind::NotDawarich, "Use the database named by DATABASE_NAME in Dawarich's .env (stock: dawarich_development). If Dawarich has never started on this database, start it once first.".to_string()),
            Error::UnknownVersions { .. } => (ErrorKind::UnknownVersions, "Update Dawarich Doctor; it must not migrate a database that is newer than its catalog.".into()),
            Error::UnknownRelease(tag) => (
                ErrorKind::InvalidInput,
                format!(
                    "Use a release the catalog knows, e.g. {} (`dawarich-doctor releases` lists all {}).",
                    crate::catalog::releases_near(tag).join(", "),
                    crate::catalog::catalog().releases.len()
                ),
            ),
            Error::LockHeld { .. } => (ErrorKind::LockHeld, "Stop the Dawarich containers, or end a stale holder with `dawarich-doctor locks --release PID --yes`.".into()),
            Error::Refused(_) => (ErrorKind::Refused, "See the message: nothing was changed.".into()),
            Error::Profile(ProfileError::NoDatabaseVars) => (ErrorKind::InvalidInput, "Use Dawarich's .env, or the environment of the dawarich_app service in docker-compose.yml.".into()),
            Error::Profile(ProfileError::SshPassword(_)) => (ErrorKind::InvalidInput, "Give the SSH server as user@host or user@host:port only: its password is asked for when connecting.".into()),
            Error::Profile(ProfileError::BadSsh(_)) => (ErrorKind::InvalidInput, "Give the SSH server (the Docker host) as user@host or user@host:port.".into()),
            Error::Profile(_) => (ErrorKind::InvalidInput, "Write it as postgres://user:password@host:port/database, with special characters of the password percent-encoded.".into()),
            Error::InvalidInput { fix, .. } => (ErrorKind::InvalidInput, fix.clone()),
            Error::Permission { fix, .. } => (ErrorKind::PermissionDenied, fix.clone()),
            Error::Precondition { fix, .. } => (ErrorKind::Precondition, fix.clone()),
            Error::Cancelled(_) => (ErrorKind::Cancelled, "Run the same command again to continue: every finished step is kept.".into()),
            Error::Db(e) => (ErrorKind::Database, db_fix(e)),
            Error::SessionLost(_) => (ErrorKind::Database, CONNECTION_LOST_FIX.into()),
            Error::Io(_) => (ErrorKind::Io, "Check the path and permissions.".into()),
            Error::AuditFile { .. } => (ErrorKind::Io, "Stopped here: every step before was done in full and recorded, in the database's audit log too. Free space on that disk (or set DAWARICH_DOCTOR_AUDIT_FILE to a file elsewhere), then run the command again; it continues where this one stopped.".into()),
            Error::Docker(d) => return d.report(),
            Error::Backup(b) => return b.report(),
            Error::Start(s) => (ErrorKind::Docker, s.fix()),
            Error::Task(_) => (ErrorKind::Internal, "This is a bug in Dawarich Doctor: please report it with the log (the CLI's -vv output).".into()),
        };
        ErrorReport {
            kind,
            message: self.to_string(),
            fix,
        }
    }
}

/// The server's message with its detail, hint and position, or the client-side cause.
pub fn db_message(e: &tokio_postgres::Error) -> String {
    if let Some(d) = e.as_db_error() {
        let mut m = format!("{}: {} ({})", d.severity(), d.message(), d.code().code());
        if let Some(x) = d.detail() {
            m += &format!("; detail: {x}");
        }
        if let Some(x) = d.hint() {
            m += &format!("; hint: {x}");
        }
        if let Some(x) = d.where_() {
            m += &format!("; where: {x}");
        }
        return m;
    }
    match std::error::Error::source(e) {
        Some(s) => format!("{e}: {s}"),
        None => e.to_string(),
    }
}

/// Closed, or ended by the server: terminated or shut down (`57P01`), a crash of another server
/// process (`57P02`), or the server starting up or shutting down (`57P03`).
fn session_ended(e: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    e.is_closed()
        || [
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CRASH_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
        ]
        .iter()
        .any(|c| e.code() == Some(c))
}

fn db_fix(e: &tokio_postgres::Error) -> String {
    if session_ended(e) {
        return CONNECTION_LOST_FIX.into();
    }
    match e.as_db_error().map(|d| d.code().code()) {
        Some("42501") => "The role lacks a privilege: connect as the database owner or a superuser (the stock compose's postgres user is one).".into(),
        Some("25006") => "The server is read-only: connect to the primary.".into(),
        _ => "See the server's message above.".into(),
    }
}

/// Result with the library's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_errors_are_invalid_input() {
        let url = Error::from(crate::profile::parse_url("mysql://u:pw@h/d").unwrap_err()).report();
        assert_eq!(url.kind, ErrorKind::InvalidInput);
        let env = Error::from(crate::profile::parse_env("FOO=1").unwrap_err()).report();
        assert_eq!(env.kind, ErrorKind::InvalidInput);
        let ssh = Error::from(crate::profile::parse_ssh("@h", None).unwrap_err()).report();
        assert_eq!(ssh.kind, ErrorKind::InvalidInput);
        let missing = Error::InvalidInput {
            message: "no database given".into(),
            fix: "Give --url.".into(),
        }
        .report();
        assert_eq!(
            (missing.kind, missing.fix.as_str()),
            (ErrorKind::InvalidInput, "Give --url.")
        );
    }

    #[tokio::test]
    async fn a_failed_task_is_internal() {
        let task = tokio::spawn(std::future::pending::<()>());
        task.abort();
        let join = task.await.unwrap_err();
        assert_eq!(Error::from(join).report().kind, ErrorKind::Internal);
    }
}
