//! The options every database command shares: how to reach the database (`ConnArgs`) and Dawarich's
//! environment (`EnvArgs`); connecting asks on a terminal for what is missing.

use std::io::IsTerminal;

use clap::Args;
use dawarich_doctor::connect::{connect, ConnectOptions, Db};
use dawarich_doctor::profile;
use dawarich_doctor::settings::Environment;
use dawarich_doctor::{Error, Result};
use dawarich_doctor_model::{SettingSource, SshAuth, SshProfile, SslMode};

/// How to reach the database.
#[derive(Args, Clone)]
pub struct ConnArgs {
    /// postgres://user:password@host:port/database[?sslmode=…]
    #[arg(long, env = "DAWARICH_DOCTOR_URL", hide_env_values = true)]
    url: Option<String>,
    /// Dawarich's docker .env: the connection (DATABASE_HOST, DATABASE_PASSWORD, …; --url wins) and
    /// the environment an upgrade follows (TIME_ZONE, RAILS_ENV, SELF_HOSTED).
    #[arg(long, value_name = "PATH")]
    env_file: Option<std::path::PathBuf>,
    /// libpq sslmode (overrides the URL's).
    #[arg(long, value_parser = parse_sslmode)]
    sslmode: Option<SslMode>,
    /// PEM file with the CA certificate(s) to trust (sslrootcert).
    #[arg(long, value_name = "PATH")]
    ca_file: Option<String>,
    /// Seconds to wait for the server.
    #[arg(long, default_value_t = 10)]
    connect_timeout: u64,
    /// Reach the database through this SSH server (the Docker host); the URL's host is then resolved
    /// there, e.g. `dawarich_db` (looked up with `docker inspect` if the host cannot resolve it).
    #[arg(long, value_name = "USER@HOST[:PORT]")]
    ssh: Option<String>,
    /// Private key for --ssh. Without it: the SSH agent, else ~/.ssh/id_ed25519, id_ecdsa or id_rsa, else a password.
    #[arg(long, value_name = "PATH", requires = "ssh")]
    ssh_key: Option<String>,
    /// Log in to the SSH server with a password (asked for on the terminal).
    #[arg(long, requires = "ssh", conflicts_with = "ssh_key")]
    ssh_password: bool,
    /// Read the SSH password, or with --ssh-key the key's passphrase, from the first line of standard input.
    #[arg(long, requires = "ssh")]
    ssh_password_stdin: bool,
    /// Trust the SSH server's host key if it is not known yet (its fingerprint is printed); without
    /// this you are asked on a terminal. A changed key is always refused.
    #[arg(long, requires = "ssh")]
    ssh_trust_new_host: bool,
}

/// Dawarich's environment, when it is not (or not rightly) in the .env: each option wins over it.
#[derive(Args, Clone)]
pub struct EnvArgs {
    /// Dawarich's TIME_ZONE, for dates without an offset (default: the .env's, else Europe/London, the stock compose default).
    #[arg(long, value_name = "ZONE")]
    time_zone: Option<String>,
    /// Dawarich's RAILS_ENV, written to ar_internal_metadata (default: the .env's, else the stock compose default of the target).
    #[arg(long, value_name = "ENV")]
    rails_env: Option<String>,
    /// Dawarich's SELF_HOSTED (default: the .env's, else true).
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set)]
    self_hosted: Option<bool>,
}

impl EnvArgs {
    /// The options given, plus the variables of `--env-file`.
    pub fn environment(&self, conn: &ConnArgs) -> Result<Environment> {
        let given = |v: &Option<String>| v.clone().map(|v| (v, SettingSource::Option));
        Ok(Environment {
            time_zone: given(&self.time_zone),
            rails_env: given(&self.rails_env),
            self_hosted: self.self_hosted.map(|b| (b, SettingSource::Option)),
            env_file: conn
                .env_file
                .as_ref()
                .map(std::fs::read_to_string)
                .transpose()?
                .map(|t| dawarich_doctor::settings::env_vars(&t)),
            container: None,
        })
    }
}

/// A release tag the catalog knows, refused before connecting (the message names known ones).
pub fn parse_release(s: &str) -> std::result::Result<String, String> {
    match dawarich_doctor::catalog::catalog().release(s) {
        Some(r) => Ok(r.tag.clone()),
        None => {
            let r = Error::UnknownRelease(s.into()).report();
            Err(format!("{}. {}", r.message, r.fix))
        }
    }
}

fn parse_sslmode(s: &str) -> std::result::Result<SslMode, String> {
    SslMode::parse(s).ok_or_else(|| format!("unknown sslmode {s:?} (disable, prefer, require, verify-ca, verify-full)"))
}

impl ConnArgs {
    pub fn options(&self) -> Result<ConnectOptions> {
        let parsed = match (&self.url, &self.env_file) {
            (Some(u), _) => profile::parse_url(u)?,
            (None, Some(p)) => profile::parse_env(&std::fs::read_to_string(p)?)?,
            (None, None) => {
                let fix = "Give --url postgres://user:password@host:port/database or --env-file PATH (or set DAWARICH_DOCTOR_URL).";
                return Err(Error::InvalidInput {
                    message: "no database given".into(),
                    fix: fix.into(),
                });
            }
        };
        let mut opts = ConnectOptions::new(parsed.profile, parsed.password);
        if let Some(m) = self.sslmode {
            opts.profile.sslmode = m;
        }
        if let Some(ca) = &self.ca_file {
            opts.profile.ca_file = Some(ca.clone());
        }
        opts.connect_timeout = std::time::Duration::from_secs(self.connect_timeout.max(1));
        if opts.password.is_none() {
            opts.password = std::env::var("PGPASSWORD").ok();
        }
        if let Some(dest) = &self.ssh {
            let (ssh, secret_is_passphrase) = self.ssh_profile(dest)?;
            let mut ssh_opts = dawarich_doctor::tunnel::SshOptions::default();
            if self.ssh_password_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                let secret = Some(line.trim_end_matches(['\r', '\n']).to_string());
                if secret_is_passphrase {
                    ssh_opts.passphrase = secret;
                } else {
                    ssh_opts.password = secret;
                }
            }
            opts.profile.ssh = Some(ssh);
            opts.ssh = Some(ssh_opts);
        }
        Ok(opts)
    }

    /// The SSH hop from `--ssh user@host[:port]` and the auth flags, and whether a secret read from
    /// stdin is a key passphrase (else a password).
    fn ssh_profile(&self, dest: &str) -> Result<(SshProfile, bool)> {
        let mut ssh = profile::parse_ssh(dest, std::env::var("USER").ok().as_deref())?;
        let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
        let default_key = || {
            let ssh_dir = home.as_ref()?.join(".ssh");
            ["id_ed25519", "id_ecdsa", "id_rsa"]
                .iter()
                .map(|k| ssh_dir.join(k))
                .find(|p| p.exists())
        };
        ssh.auth = if let Some(k) = &self.ssh_key {
            SshAuth::Key { path: k.clone() }
        } else if self.ssh_password || self.ssh_password_stdin {
            SshAuth::Password
        } else if std::env::var_os("SSH_AUTH_SOCK").is_some() {
            SshAuth::Agent
        } else if let Some(k) = default_key() {
            SshAuth::Key {
                path: k.display().to_string(),
            }
        } else {
            SshAuth::Password
        };
        let is_key = matches!(ssh.auth, SshAuth::Key { .. });
        Ok((ssh, is_key))
    }

    /// Connects; on a terminal asks for what is missing (database or SSH password, key passphrase)
    /// and whether to trust an unknown SSH host key, then tries again.
    pub async fn connect(&self) -> Result<Db> {
        use dawarich_doctor::connect::ConnectError as C;
        use dawarich_doctor::tunnel::{SshOptions, TunnelError};
        let mut opts = self.options()?;
        let tty = std::io::stdin().is_terminal();
        loop {
            let err = match connect(&opts).await {
                Ok(db) => return Ok(db),
                Err(e) => e,
            };
            let ssh = opts.ssh.get_or_insert_with(SshOptions::default);
            match &err {
                C::NoPassword { user } if tty && opts.password.is_none() => {
                    opts.password = Some(rpassword::prompt_password(format!("Password for {user}: "))?);
                }
                C::Tunnel(TunnelError::PasswordNeeded { addr }) if tty && ssh.password.is_none() => {
                    ssh.password = Some(rpassword::prompt_password(format!("SSH password for {addr}: "))?);
                }
                C::Tunnel(TunnelError::PassphraseNeeded { path }) if tty && ssh.passphrase.is_none() => {
                    ssh.passphrase = Some(rpassword::prompt_password(format!("Passphrase for {path}: "))?);
                }
                C::Tunnel(TunnelError::HostKeyUnknown {
                    addr,
                    algorithm,
                    fingerprint,
                }) if ssh.accept_host_key.is_none() && (self.ssh_trust_new_host || tty) => {
                    eprintln!("The SSH server {addr} is not known yet. Its {algorithm} host key fingerprint is\n  {fingerprint}");
                    if self.ssh_trust_new_host {
                        eprintln!(
                            "Trusting it (--ssh-trust-new-host); remembered in {}.",
                            ssh.trusted_hosts.display()
                        );
                    } else {
                        eprint!("Trust it and remember it in {}? [y/N] ", ssh.trusted_hosts.display());
                        let mut answer = String::new();
                        std::io::stdin().read_line(&mut answer)?;
                        if !matches!(answer.trim(), "y" | "Y" | "yes") {
                            return Err(err.into());
                        }
                    }
                    ssh.accept_host_key = Some(fingerprint.clone());
                }
                _ => return Err(err.into()),
            }
        }
    }
}
