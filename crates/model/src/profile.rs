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

/// How the SSH user authenticates. Secrets (password, key passphrase) are never part of a profile.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum SshAuth {
    /// The running SSH agent (`SSH_AUTH_SOCK`).
    #[default]
    Agent,
    /// A private key file (ed25519, ECDSA or RSA; OpenSSH or PEM format), maybe passphrase-protected.
    Key { path: String },
    /// A password, asked for at every connection.
    Password,
}

/// Reaching the database through an SSH server, typically the Docker host: the profile's `host` and
/// `port` are then resolved and connected to on that server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SshProfile {
    pub host: String,
    #[serde(default = "default_ssh_port")]
    pub port: u16,
    pub user: String,
    #[serde(default)]
    pub auth: SshAuth,
}

fn default_ssh_port() -> u16 {
    22
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
    /// Connect through this SSH server instead of directly.
    #[serde(default)]
    pub ssh: Option<SshProfile>,
    /// Dawarich's `TIME_ZONE` for this install, when the user set it (else the stock default).
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Where the app writes this install's backups (else the documents folder's
    /// `Dawarich Doctor backups`).
    #[serde(default)]
    pub backup_folder: Option<String>,
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
            ssh: None,
            time_zone: None,
            backup_folder: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_is_optional_in_saved_profiles() {
        let mut json = serde_json::to_value(Profile::default()).unwrap();
        json.as_object_mut().unwrap().remove("ssh");
        assert_eq!(serde_json::from_value::<Profile>(json).unwrap().ssh, None);
        let ssh: SshProfile =
            serde_json::from_str(r#"{"host":"nas","user":"me","auth":{"kind":"key","path":"/k"}}"#).unwrap();
        assert_eq!((ssh.port, ssh.auth), (22, SshAuth::Key { path: "/k".into() }));
    }
}
