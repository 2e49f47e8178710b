use serde::{Deserialize, Serialize};

/// What went wrong, as a category the UI can react to (each has its own message and fix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    InvalidInput,
    DnsFailure,
    ConnectionRefused,
    Timeout,
    Tls,
    AuthenticationFailed,
    DatabaseMissing,
    NotDawarich,
    PostgisMissing,
    ReadOnlyReplica,
    PermissionDenied,
    LockHeld,
    Refused,
    Cancelled,
    UnknownVersions,
    Precondition,
    Database,
    Io,
    /// The SSH connection or tunnel failed (unreachable, authentication, forwarding, docker lookup).
    Ssh,
    /// The SSH server's host key is not known yet: show the fingerprint and ask before trusting it.
    HostKeyUnknown,
    /// The SSH server's host key differs from the recorded one: refused.
    HostKeyChanged,
    /// The Docker host: docker missing or refused, containers not found, a docker command failed.
    Docker,
    /// A backup failed or could not be verified: the upgrade does not go on.
    Backup,
    /// A bug in Dawarich Doctor (a background task panicked).
    Internal,
}

/// An error as shown to the user: what happened and what fixes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReport {
    pub kind: ErrorKind,
    pub message: String,
    pub fix: String,
}
