use serde::{Deserialize, Serialize};

/// How TLS is negotiated with the server; the names follow libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SslMode {
    Disable,
    #[default]
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    /// libpq's spelling, e.g. `verify-full`.
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    /// Parses libpq's spelling; `allow` is treated as `prefer`.
    pub fn parse(s: &str) -> Option<SslMode> {
        Some(match s {
            "disable" => SslMode::Disable,
            "allow" | "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }
}

/// Where the password comes from. The password itself is never part of a profile.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum PasswordSource {
    /// No password (trust or peer authentication).
    None,
    /// The OS keychain, under this profile's id.
    Keychain,
    /// Asked for at every connection.
    #[default]
    Ask,
}

/// A saved connection to a Dawarich database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// Stable id (also the keychain entry name).
    pub id: String,
    /// Name shown to the user.
    pub name: String,
    pub host: String,
    pub port: u16,
    pub database: String,
    pub user: String,
    pub password: PasswordSource,
    pub sslmode: SslMode,
    /// PEM file with the CA certificate(s) to trust for `verify-ca` / `verify-full`.
    pub ca_file: Option<String>,
    pub application_name: String,
}

/// The application name our sessions show in `pg_stat_activity`.
pub const APPLICATION_NAME: &str = "dawarich-doctor";

impl Default for Profile {
    fn default() -> Self {
        Profile {
            id: String::new(),
            name: String::new(),
            host: "localhost".into(),
            port: 5432,
            database: "dawarich_development".into(),
            user: "postgres".into(),
            password: PasswordSource::Ask,
            sslmode: SslMode::Prefer,
            ca_file: None,
            application_name: APPLICATION_NAME.into(),
        }
    }
}
