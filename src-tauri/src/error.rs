//! The shell's one error type: every command returns it, and it crosses IPC as the model's
//! `ErrorReport` (kind + message + fix).

use dawarich_doctor::connect::ConnectError;
use dawarich_doctor::profile::ProfileError;
use dawarich_doctor_model::{ErrorKind, ErrorReport};
use serde::{Serialize, Serializer};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Core(#[from] dawarich_doctor::Error),
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// A URL or `.env` text that is not a connection.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// A report the core already made (profile validation).
    #[error("{}", .0.message)]
    Report(ErrorReport),
    #[error("no saved connection with id {0}")]
    NotFound(String),
    #[error("the demo database is already running")]
    DemoRunning,
    #[error("cannot use the profile store: {0}")]
    Store(String),
    /// A path the save dialog gave that is not on this computer.
    #[error("{0}")]
    NotLocal(String),
    /// Work handed to a blocking thread did not finish (a panic).
    #[error("internal error: {0}")]
    Task(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl From<ErrorReport> for Error {
    fn from(r: ErrorReport) -> Self {
        Error::Report(r)
    }
}

impl From<tauri_plugin_store::Error> for Error {
    fn from(e: tauri_plugin_store::Error) -> Self {
        Error::Store(e.to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Store(e.to_string())
    }
}

impl From<tauri::Error> for Error {
    fn from(e: tauri::Error) -> Self {
        Error::Task(e.to_string())
    }
}

impl Error {
    pub fn report(&self) -> ErrorReport {
        let (kind, fix) = match self {
            Error::Core(e) => return e.report(),
            Error::Connect(e) => return e.report(),
            Error::Report(r) => return r.clone(),
            Error::Profile(_) => (
                ErrorKind::InvalidInput,
                "Paste a postgres:// URL or the environment of the dawarich_app service.",
            ),
            Error::NotFound(_) => (ErrorKind::InvalidInput, "Reload the list."),
            Error::DemoRunning => (ErrorKind::InvalidInput, "Use its connection, \u{201c}Demo\u{201d}."),
            Error::Store(_) => (ErrorKind::Io, "Check that the app's data folder is writable."),
            Error::NotLocal(_) => (ErrorKind::Io, "Choose a file on this computer."),
            Error::Task(_) => (
                ErrorKind::Io,
                "This is a bug in Dawarich Doctor: please attach the log file to a bug report.",
            ),
        };
        ErrorReport {
            kind,
            message: self.to_string(),
            fix: fix.into(),
        }
    }
}

impl Serialize for Error {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.report().serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_cross_ipc_as_reports_with_their_fix() {
        let j = serde_json::to_value(Error::NotFound("p1".into())).unwrap();
        assert_eq!(
            j,
            serde_json::json!({ "kind": "invalid-input", "message": "no saved connection with id p1", "fix": "Reload the list." })
        );
        let r = ErrorReport {
            kind: ErrorKind::InvalidInput,
            message: "m".into(),
            fix: "f".into(),
        };
        assert_eq!(Error::from(r.clone()).report(), r);
        assert_eq!(
            Error::from(dawarich_doctor::Error::Refused("no".into())).report().kind,
            ErrorKind::Refused
        );
    }
}
