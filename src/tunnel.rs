//! The SSH transport: the stock Dawarich compose never publishes PostgreSQL, so we log in to the
//! Docker host and forward a local port (127.0.0.1, ephemeral) to the database as that host sees it.
//! Host keys are checked against `~/.ssh/known_hosts` and our own file of keys the user confirmed;
//! a target name the host cannot resolve is looked up with a read-only `docker inspect` there.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dawarich_doctor_model::{ErrorKind, ErrorReport, SshAuth, SshProfile};
use russh::client::{self, AuthResult, DisconnectReason, Handle, KeyboardInteractiveAuthResponse, Msg};
use russh::keys::agent::client::AgentClient;
use russh::keys::{HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate};
use russh::{Channel, ChannelMsg, ChannelOpenFailure, MethodKind};
use thiserror::Error;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What a tunnel needs besides the profile's [`SshProfile`]: secrets (memory only), host-key files,
/// and a host key the user has confirmed.
#[derive(Clone)]
pub struct SshOptions {
    /// Password for [`SshAuth::Password`].
    pub password: Option<String>,
    /// Passphrase of an encrypted key for [`SshAuth::Key`].
    pub passphrase: Option<String>,
    /// Fingerprint (`SHA256:…`) of an unknown host key the user confirmed: if the server presents
    /// exactly that key, it is trusted and stored in `trusted_hosts`.
    pub accept_host_key: Option<String>,
    /// OpenSSH known_hosts files to check (default `~/.ssh/known_hosts`).
    pub known_hosts: Vec<PathBuf>,
    /// Our own file of confirmed host keys (default `~/.config/dawarich-doctor/known_hosts`).
    pub trusted_hosts: PathBuf,
    /// The agent's socket for [`SshAuth::Agent`] (default `$SSH_AUTH_SOCK`).
    pub agent_socket: Option<PathBuf>,
    /// Silence after which a keepalive is sent; after three unanswered ones the link counts as dead.
    pub keepalive: Duration,
}

impl Default for SshOptions {
    fn default() -> Self {
        let home = std::env::var_os("HOME")
            .or_else(|| std::env::var_os("USERPROFILE"))
            .map(PathBuf::from);
        let config = std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".config")))
            .unwrap_or_else(|| PathBuf::from("."));
        SshOptions {
            password: None,
            passphrase: None,
            accept_host_key: None,
            known_hosts: home.map(|h| h.join(".ssh").join("known_hosts")).into_iter().collect(),
            trusted_hosts: config.join("dawarich-doctor").join("known_hosts"),
            agent_socket: std::env::var_os("SSH_AUTH_SOCK").map(PathBuf::from),
            keepalive: Duration::from_secs(15),
        }
    }
}

impl std::fmt::Debug for SshOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshOptions")
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("passphrase", &self.passphrase.as_ref().map(|_| "***"))
            .field("accept_host_key", &self.accept_host_key)
            .field("known_hosts", &self.known_hosts)
            .field("trusted_hosts", &self.trusted_hosts)
            .field("agent_socket", &self.agent_socket)
            .field("keepalive", &self.keepalive)
            .finish()
    }
}

/// Why the tunnel could not be opened or did not last. `addr` is `user@host:port` of the SSH server.
#[derive(Debug, Error)]
pub enum TunnelError {
    #[error("cannot resolve the SSH server's name {host:?}: {detail}")]
    Dns { host: String, detail: String },
    #[error("cannot reach the SSH server {addr}: {detail}")]
    Unreachable { addr: String, detail: String },
    #[error("no answer from the SSH server {addr} within {secs} s")]
    Timeout { addr: String, secs: u64 },
    #[error("the SSH server {addr} is not known yet: its {algorithm} host key has the fingerprint {fingerprint}")]
    HostKeyUnknown {
        addr: String,
        algorithm: String,
        fingerprint: String,
    },
    #[error("WARNING: the host key of the SSH server {addr} has CHANGED: it now shows {algorithm} {fingerprint}, but {file} line {line} records another key. Someone may be intercepting the connection; refused")]
    HostKeyChanged {
        addr: String,
        algorithm: String,
        fingerprint: String,
        file: String,
        line: usize,
    },
    #[error("cannot store the confirmed host key in {path}: {detail}")]
    TrustStore { path: String, detail: String },
    #[error("cannot use the private key {path}: {detail}")]
    KeyFile { path: String, detail: String },
    #[error("the private key {path} is encrypted and no passphrase was given")]
    PassphraseNeeded { path: String },
    #[error("wrong passphrase for the private key {path}")]
    WrongPassphrase { path: String },
    #[error("no SSH password was given for {addr}")]
    PasswordNeeded { addr: String },
    #[error("cannot use the SSH agent: {detail}")]
    Agent { detail: String },
    #[error("the SSH server {addr} refused the login with {method} (it accepts: {accepted})")]
    AuthFailed {
        addr: String,
        method: String,
        accepted: String,
    },
    #[error("the SSH server {addr} does not allow port forwarding to {target}")]
    ForwardingDisabled { addr: String, target: String },
    #[error("{target} cannot be reached from the SSH server {addr}: {detail}")]
    TargetUnreachable {
        addr: String,
        target: String,
        detail: String,
    },
    #[error("{name:?} does not resolve on the SSH server {addr}, and docker cannot be asked for the container's address there: {detail}")]
    DockerUnavailable { addr: String, name: String, detail: String },
    #[error("the SSH tunnel to {addr} dropped: {reason}")]
    Dropped { addr: String, reason: String },
    #[error("cannot open the local end of the tunnel: {0}")]
    Local(String),
    #[error("SSH failed: {0}")]
    Protocol(String),
}

impl From<russh::Error> for TunnelError {
    fn from(e: russh::Error) -> Self {
        TunnelError::Protocol(describe(&e))
    }
}

/// A russh error in words (the keepalive one says what it means).
fn describe(e: &russh::Error) -> String {
    match e {
        russh::Error::KeepaliveTimeout => "no answer to keepalives: the link is dead".into(),
        russh::Error::IO(io) => format!("network error: {io}"),
        other => other.to_string(),
    }
}

impl TunnelError {
    /// The error as shown to the user, with the fix.
    pub fn report(&self) -> ErrorReport {
        use TunnelError as E;
        let (kind, fix) = match self {
            E::Dns { .. } => (ErrorKind::Ssh, "Check the SSH server's name: it is the machine you would `ssh` to (the Docker host), not the database container.".to_string()),
            E::Unreachable { .. } => (ErrorKind::Ssh, "Check the SSH host and port (--ssh user@host:port) and that sshd runs there.".into()),
            E::Timeout { .. } => (ErrorKind::Ssh, "Check the address, firewalls and that the server is up.".into()),
            E::HostKeyUnknown { .. } => (ErrorKind::HostKeyUnknown, "Compare the fingerprint with the server's own (`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on it) and trust it only if they match (--ssh-trust-new-host, or answer yes when asked).".into()),
            E::HostKeyChanged { file, line, .. } => (ErrorKind::HostKeyChanged, format!("If the server was reinstalled or its keys replaced, check the new fingerprint on the server, then remove the old key ({file} line {line}; `ssh-keygen -R HOST -f {file}`) and connect again. Otherwise do not connect.")),
            E::TrustStore { .. } => (ErrorKind::Io, "Check that the folder is writable.".into()),
            E::KeyFile { .. } => (ErrorKind::Ssh, "Give a readable private key file (ed25519, ECDSA or RSA; OpenSSH or PEM format) with --ssh-key.".into()),
            E::PassphraseNeeded { .. } => (ErrorKind::Ssh, "Give the key's passphrase (you are asked on a terminal; otherwise --ssh-password-stdin), or use the SSH agent.".into()),
            E::WrongPassphrase { .. } => (ErrorKind::Ssh, "Type the key's passphrase again.".into()),
            E::PasswordNeeded { .. } => (ErrorKind::Ssh, "Give the SSH password (you are asked on a terminal; otherwise --ssh-password-stdin), or log in with a key.".into()),
            E::Agent { .. } => (ErrorKind::Ssh, "Start an agent and add your key (`eval $(ssh-agent)`, `ssh-add`), or give the key file with --ssh-key.".into()),
            E::AuthFailed { .. } => (ErrorKind::Ssh, "Check the SSH user name and the password or key (the key's .pub must be in the user's ~/.ssh/authorized_keys on the server).".into()),
            E::ForwardingDisabled { .. } => (ErrorKind::Ssh, "Allow TCP forwarding for this user on the server (`AllowTcpForwarding yes` in sshd_config).".into()),
            E::TargetUnreachable { .. } => (ErrorKind::Ssh, "Use the database container's name (`docker ps` on the server; stock: dawarich_db) and the port inside the container (5432), or publish the port on the server's loopback (`ports: [\"127.0.0.1:5432:5432\"]`) and use 127.0.0.1.".into()),
            E::DockerUnavailable { .. } => (ErrorKind::Ssh, "Let the SSH user run docker (add it to the `docker` group), log in as a user who can, or publish the port on the server's loopback (`ports: [\"127.0.0.1:5432:5432\"]`) and use 127.0.0.1.".into()),
            E::Dropped { .. } => (ErrorKind::Ssh, "The SSH connection was lost. Rerunning is safe: every step recorded as done was done in full, and nothing half-done was recorded. Check the network and run the command again; it continues where this one stopped.".into()),
            E::Local(_) => (ErrorKind::Io, "Check that this machine allows listening on 127.0.0.1.".into()),
            E::Protocol(_) => (ErrorKind::Ssh, "Check that the address is an SSH server; the server's log (journalctl -u ssh) may say more.".into()),
        };
        ErrorReport {
            kind,
            message: self.to_string(),
            fix,
        }
    }
}

/// An open tunnel: 127.0.0.1:`local_addr().port()` leads to the database through the SSH server.
/// Dropping it closes the listener, every forwarded connection and the SSH session.
pub struct Tunnel {
    local: SocketAddr,
    addr: String,
    target: (String, u16),
    alive: watch::Receiver<()>,
    dropped: Arc<Mutex<Option<String>>>,
    task: tokio::task::JoinHandle<()>,
    handle: Arc<Handle<Client>>,
}

impl Drop for Tunnel {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl std::fmt::Debug for Tunnel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tunnel")
            .field("local", &self.local)
            .field("ssh", &self.addr)
            .field("target", &self.target)
            .finish()
    }
}

impl Tunnel {
    /// Logs in to `ssh`, finds `host:port` as the SSH server sees it and starts forwarding.
    /// `timeout` bounds the TCP connect, the handshake and the login.
    pub async fn open(
        ssh: &SshProfile,
        opts: &SshOptions,
        host: &str,
        port: u16,
        timeout: Duration,
    ) -> Result<Tunnel, TunnelError> {
        let addr = format!("{}@{}", ssh.user, host_port(&ssh.host, ssh.port));
        let (alive_tx, alive) = watch::channel(());
        let dropped = Arc::new(Mutex::new(None));
        let handler = Client {
            host: ssh.host.clone(),
            port: ssh.port,
            addr: addr.clone(),
            opts: opts.clone(),
            dropped: dropped.clone(),
            _alive: alive_tx,
        };
        let secs = timeout.as_secs().max(1);
        let handle = tokio::time::timeout(timeout, login(ssh, opts, handler, &addr))
            .await
            .map_err(|_| TunnelError::Timeout {
                addr: addr.clone(),
                secs,
            })??;
        let (target, first) = tokio::time::timeout(timeout + DOCKER_TIMEOUT, find_target(&handle, host, port, &addr))
            .await
            .map_err(|_| TunnelError::TargetUnreachable {
                addr: addr.clone(),
                target: host_port(host, port),
                detail: format!("no answer within {secs} s"),
            })??;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(|e| TunnelError::Local(e.to_string()))?;
        let local = listener.local_addr().map_err(|e| TunnelError::Local(e.to_string()))?;
        log::info!(
            "SSH tunnel 127.0.0.1:{} -> {addr} -> {}",
            local.port(),
            host_port(&target.0, target.1)
        );
        let handle = Arc::new(handle);
        let task = tokio::spawn(serve(
            listener,
            handle.clone(),
            target.clone(),
            first,
            alive.clone(),
            dropped.clone(),
            addr.clone(),
        ));
        Ok(Tunnel {
            local,
            addr,
            target,
            alive,
            dropped,
            task,
            handle,
        })
    }

    /// Runs commands on the SSH server through this tunnel's session.
    pub fn remote(&self) -> Remote {
        Remote {
            handle: self.handle.clone(),
            addr: self.addr.clone(),
        }
    }

    /// The local end: connect here instead of the database.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Where the SSH server connects: the given host, or the container's address docker reported.
    pub fn target(&self) -> (&str, u16) {
        (&self.target.0, self.target.1)
    }

    /// Why the SSH link died, if it dies within `within`: asked when a session through it ended,
    /// since the forwarded connection may notice a dead link a moment before the SSH session does.
    pub async fn dropped_within(&self, within: Duration) -> Option<TunnelError> {
        let mut alive = self.alive.clone();
        let _ = tokio::time::timeout(within, async { while alive.changed().await.is_ok() {} }).await;
        self.dropped()
    }

    /// Why the SSH link died, if it did: operations in progress have failed and may be rerun.
    pub fn dropped(&self) -> Option<TunnelError> {
        if self.alive.has_changed().is_ok() {
            return None;
        }
        let reason = self
            .dropped
            .lock()
            .ok()
            .and_then(|r| r.clone())
            .unwrap_or_else(|| "the SSH session ended".into());
        Some(TunnelError::Dropped {
            addr: self.addr.clone(),
            reason,
        })
    }
}

fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The session's event handler: checks the host key and records why the session ended. Dropping it
/// (when the session task ends) closes the `alive` channel.
struct Client {
    host: String,
    port: u16,
    addr: String,
    opts: SshOptions,
    dropped: Arc<Mutex<Option<String>>>,
    _alive: watch::Sender<()>,
}

impl client::Handler for Client {
    type Error = TunnelError;

    async fn check_server_key(&mut self, key: &PublicKeyOrCertificate) -> Result<bool, TunnelError> {
        let key = match key {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            PublicKeyOrCertificate::Certificate(c) => PublicKey::new(c.public_key().clone(), ""),
        };
        self.verify_host_key(&key)?;
        Ok(true)
    }

    async fn disconnected(&mut self, reason: DisconnectReason<TunnelError>) -> Result<(), TunnelError> {
        let why = match &reason {
            DisconnectReason::ReceivedDisconnect(info) => format!(
                "the server closed the connection ({:?} {})",
                info.reason_code, info.message
            ),
            DisconnectReason::Error(e) => e.to_string(),
        };
        log::debug!("SSH session with {} ended: {why}", self.addr);
        if let Ok(mut d) = self.dropped.lock() {
            *d = Some(why);
        }
        match reason {
            DisconnectReason::ReceivedDisconnect(_) => Ok(()),
            DisconnectReason::Error(e) => Err(e),
        }
    }
}

impl Client {
    /// Known (in any file): fine. Same algorithm recorded with another key: changed, refused.
    /// Otherwise unknown: trusted only if it is the key the user confirmed, which is then stored.
    fn verify_host_key(&self, key: &PublicKey) -> Result<(), TunnelError> {
        let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
        let algorithm = key.algorithm().as_str().to_string();
        let mut changed = None;
        for file in self
            .opts
            .known_hosts
            .iter()
            .chain(std::iter::once(&self.opts.trusted_hosts))
        {
            let entries = match russh::keys::known_hosts::known_host_keys_path(&self.host, self.port, file) {
                Ok(e) => e,
                Err(e) => {
                    log::warn!("skipping known-hosts file {}: {e}", file.display());
                    continue;
                }
            };
            for (line, known) in entries {
                if known.key_data() == key.key_data() {
                    log::debug!("host key of {} found in {} line {line}", self.addr, file.display());
                    return Ok(());
                }
                if known.algorithm() == key.algorithm() {
                    changed = Some((file.display().to_string(), line));
                }
            }
        }
        if let Some((file, line)) = changed {
            return Err(TunnelError::HostKeyChanged {
                addr: self.addr.clone(),
                algorithm,
                fingerprint,
                file,
                line,
            });
        }
        if self.opts.accept_host_key.as_deref() != Some(fingerprint.as_str()) {
            return Err(TunnelError::HostKeyUnknown {
                addr: self.addr.clone(),
                algorithm,
                fingerprint,
            });
        }
        let path = &self.opts.trusted_hosts;
        russh::keys::known_hosts::learn_known_hosts_path(&self.host, self.port, key, path).map_err(|e| {
            TunnelError::TrustStore {
                path: path.display().to_string(),
                detail: e.to_string(),
            }
        })?;
        log::info!(
            "trusted the host key of {} ({algorithm} {fingerprint}), stored in {}",
            self.addr,
            path.display()
        );
        Ok(())
    }
}

/// TCP connect, handshake (with the host-key check) and login.
async fn login(
    ssh: &SshProfile,
    opts: &SshOptions,
    handler: Client,
    addr: &str,
) -> Result<Handle<Client>, TunnelError> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((ssh.host.as_str(), ssh.port))
        .await
        .map_err(|e| TunnelError::Dns {
            host: ssh.host.clone(),
            detail: e.to_string(),
        })?
        .collect();
    let mut last = None;
    let mut stream = None;
    for a in addrs {
        match TcpStream::connect(a).await {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let stream = stream.ok_or_else(|| {
        let detail = match last {
            Some(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                "connection refused: no SSH server listens there".to_string()
            }
            Some(e) => e.to_string(),
            None => "the name has no addresses".into(),
        };
        TunnelError::Unreachable {
            addr: addr.into(),
            detail,
        }
    })?;
    let _ = stream.set_nodelay(true);
    let config = client::Config {
        keepalive_interval: Some(opts.keepalive),
        keepalive_max: 3,
        nodelay: true,
        ..Default::default()
    };
    let mut handle = client::connect_stream(Arc::new(config), stream, handler).await?;
    authenticate(&mut handle, ssh, opts, addr).await?;
    log::debug!("logged in to {addr}");
    Ok(handle)
}

async fn authenticate(
    h: &mut Handle<Client>,
    ssh: &SshProfile,
    opts: &SshOptions,
    addr: &str,
) -> Result<(), TunnelError> {
    let failed = |method: &str, r: AuthResult| match r {
        AuthResult::Success => Ok(()),
        AuthResult::Failure { remaining_methods, .. } => Err(TunnelError::AuthFailed {
            addr: addr.into(),
            method: method.into(),
            accepted: remaining_methods
                .iter()
                .map(<&str>::from)
                .collect::<Vec<_>>()
                .join(", "),
        }),
    };
    match &ssh.auth {
        SshAuth::Key { path } => {
            let key = load_key(path, opts.passphrase.as_deref())?;
            let hash = rsa_hash(h, &key.public_key().clone()).await?;
            let r = h
                .authenticate_publickey(&ssh.user, PrivateKeyWithHashAlg::new(Arc::new(key), hash))
                .await?;
            failed(&format!("the key {path}"), r)
        }
        SshAuth::Agent => {
            let agent_err = |detail: String| TunnelError::Agent { detail };
            let sock = opts
                .agent_socket
                .as_ref()
                .ok_or_else(|| agent_err("SSH_AUTH_SOCK is not set: no agent is running".into()))?;
            let mut agent = AgentClient::connect_uds(sock)
                .await
                .map_err(|e| agent_err(format!("{}: {e}", sock.display())))?;
            let ids = agent.request_identities().await.map_err(|e| agent_err(e.to_string()))?;
            if ids.is_empty() {
                return Err(agent_err("the agent holds no keys".into()));
            }
            let mut last = None;
            for id in &ids {
                let key = id.public_key().into_owned();
                let hash = rsa_hash(h, &key).await?;
                match h
                    .authenticate_publickey_with(&ssh.user, key, hash, &mut agent)
                    .await
                    .map_err(|e| agent_err(e.to_string()))?
                {
                    AuthResult::Success => return Ok(()),
                    f => last = Some(f),
                }
            }
            failed(
                &format!("the agent's {} key(s)", ids.len()),
                last.expect("at least one key"),
            )
        }
        SshAuth::Password => {
            let pw = opts
                .password
                .as_deref()
                .ok_or_else(|| TunnelError::PasswordNeeded { addr: addr.into() })?;
            let r = h.authenticate_password(&ssh.user, pw).await?;
            let kbd = matches!(&r, AuthResult::Failure { remaining_methods, .. } if remaining_methods.contains(&MethodKind::KeyboardInteractive));
            if r.success() || !kbd {
                return failed("a password", r);
            }
            // PAM setups often take the password only through keyboard-interactive.
            let mut step = h.authenticate_keyboard_interactive_start(&ssh.user, None).await?;
            for _ in 0..3 {
                match step {
                    KeyboardInteractiveAuthResponse::Success => return Ok(()),
                    KeyboardInteractiveAuthResponse::Failure {
                        remaining_methods,
                        partial_success,
                    } => {
                        return failed(
                            "a password",
                            AuthResult::Failure {
                                remaining_methods,
                                partial_success,
                            },
                        )
                    }
                    KeyboardInteractiveAuthResponse::InfoRequest { prompts, .. } => {
                        let answers = prompts
                            .iter()
                            .map(|p| if p.echo { String::new() } else { pw.to_string() })
                            .collect();
                        step = h.authenticate_keyboard_interactive_respond(answers).await?;
                    }
                }
            }
            failed("a password", r)
        }
    }
}

/// For RSA keys the best signature hash the server accepts (SHA-2 when it does not say).
async fn rsa_hash(h: &Handle<Client>, key: &PublicKey) -> Result<Option<HashAlg>, TunnelError> {
    if !key.algorithm().is_rsa() {
        return Ok(None);
    }
    Ok(h.best_supported_rsa_hash().await?.unwrap_or(Some(HashAlg::Sha256)))
}

fn load_key(path: &str, passphrase: Option<&str>) -> Result<PrivateKey, TunnelError> {
    let text = std::fs::read_to_string(Path::new(path)).map_err(|e| TunnelError::KeyFile {
        path: path.into(),
        detail: e.to_string(),
    })?;
    match russh::keys::decode_secret_key(&text, passphrase) {
        Ok(k) => Ok(k),
        Err(russh::keys::Error::KeyIsEncrypted) if passphrase.is_none() => {
            Err(TunnelError::PassphraseNeeded { path: path.into() })
        }
        Err(_) if passphrase.is_some() && is_encrypted(&text) => {
            Err(TunnelError::WrongPassphrase { path: path.into() })
        }
        Err(e) => Err(TunnelError::KeyFile {
            path: path.into(),
            detail: e.to_string(),
        }),
    }
}

fn is_encrypted(text: &str) -> bool {
    matches!(
        russh::keys::decode_secret_key(text, None),
        Err(russh::keys::Error::KeyIsEncrypted)
    )
}

/// Opens a first channel to `host:port` as the SSH server resolves it; if the server cannot connect
/// and `host` is a name, asks docker there for the container's address. The channel carries the
/// first forwarded connection.
async fn find_target(
    h: &Handle<Client>,
    host: &str,
    port: u16,
    addr: &str,
) -> Result<((String, u16), Channel<Msg>), TunnelError> {
    let target = host_port(host, port);
    match h.channel_open_direct_tcpip(host, port.into(), "127.0.0.1", 0).await {
        Ok(ch) => return Ok(((host.to_string(), port), ch)),
        Err(russh::Error::ChannelOpenFailure(ChannelOpenFailure::AdministrativelyProhibited)) => {
            return Err(TunnelError::ForwardingDisabled {
                addr: addr.into(),
                target,
            })
        }
        Err(russh::Error::ChannelOpenFailure(_)) if host.parse::<IpAddr>().is_err() => {}
        Err(russh::Error::ChannelOpenFailure(_)) => {
            return Err(TunnelError::TargetUnreachable {
                addr: addr.into(),
                target,
                detail: "the connection failed (nothing listens there?)".into(),
            })
        }
        Err(e) => return Err(e.into()),
    }
    log::info!("{target} cannot be reached from {addr} by name; asking docker there");
    let ip = docker_ip(h, host, &target, addr).await?;
    log::info!("docker on {addr}: container {host} has address {ip}");
    match h
        .channel_open_direct_tcpip(ip.as_str(), port.into(), "127.0.0.1", 0)
        .await
    {
        Ok(ch) => Ok(((ip, port), ch)),
        Err(russh::Error::ChannelOpenFailure(_)) => Err(TunnelError::TargetUnreachable {
            addr: addr.into(),
            detail: format!(
                "docker reports the container's address {ip}, but nothing accepts connections on port {port} there"
            ),
            target,
        }),
        Err(e) => Err(e.into()),
    }
}

/// How long `docker inspect` on the SSH server may take.
const DOCKER_TIMEOUT: Duration = Duration::from_secs(20);

/// Runs `docker inspect` (read-only, nothing else) on the SSH server for the container's IP address.
async fn docker_ip(h: &Handle<Client>, name: &str, target: &str, addr: &str) -> Result<String, TunnelError> {
    let unreachable = |detail: String| TunnelError::TargetUnreachable {
        addr: addr.into(),
        target: target.into(),
        detail,
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)) {
        return Err(unreachable(
            "it does not resolve there and is not a container name".into(),
        ));
    }
    let cmd = format!("docker inspect --type container --format '{{{{range .NetworkSettings.Networks}}}}{{{{.IPAddress}}}} {{{{end}}}}' '{name}'");
    let (status, out, err) = tokio::time::timeout(DOCKER_TIMEOUT, exec(h, &cmd))
        .await
        .map_err(|_| {
            unreachable(format!(
                "docker inspect did not answer within {} s",
                DOCKER_TIMEOUT.as_secs()
            ))
        })??;
    let err = err.trim();
    let denied = |detail: String| TunnelError::DockerUnavailable {
        addr: addr.into(),
        name: name.into(),
        detail,
    };
    match status {
        Some(0) => out
            .split_whitespace()
            .find(|ip| ip.parse::<IpAddr>().is_ok())
            .map(str::to_string)
            .ok_or_else(|| {
                unreachable(
                    "it does not resolve there, and docker reports no network address for that container".into(),
                )
            }),
        Some(127) => Err(denied(
            "docker is not installed there (or not on the SSH user's PATH)".into(),
        )),
        _ if err.to_lowercase().contains("permission denied") => {
            Err(denied(format!("the SSH user may not use docker: {err}")))
        }
        _ if err.contains("No such") => Err(unreachable(
            "it does not resolve there, and docker knows no container of that name".into(),
        )),
        _ => Err(denied(if err.is_empty() {
            format!("docker inspect failed (exit status {status:?})")
        } else {
            err.to_string()
        })),
    }
}

/// Commands on the SSH server (exec channels of the tunnel's session; the session lives while a
/// `Remote` does).
#[derive(Clone)]
pub struct Remote {
    handle: Arc<Handle<Client>>,
    addr: String,
}

impl Remote {
    /// `user@host:port` of the SSH server.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Runs `cmd` (a shell command line) with `stdin`, handing each piece of its standard output to
    /// `sink`. Returns the exit status (`None`: the channel closed without one, i.e. the link dropped
    /// or the command was killed) and the standard error; a failing `sink` stops it (inner `Err`).
    pub async fn exec(
        &self,
        cmd: &str,
        stdin: &[u8],
        sink: &mut (dyn FnMut(&[u8]) -> std::io::Result<()> + Send),
    ) -> Result<std::io::Result<(Option<u32>, Vec<u8>)>, TunnelError> {
        log::debug!("ssh exec on {}: {cmd}", self.addr);
        let mut ch = self.handle.channel_open_session().await?;
        ch.exec(true, cmd).await?;
        if !stdin.is_empty() {
            ch.data(stdin).await?;
        }
        ch.eof().await?;
        let (mut err, mut status) = (Vec::new(), None);
        while let Some(msg) = ch.wait().await {
            match msg {
                ChannelMsg::Data { data } => {
                    if let Err(e) = sink(&data) {
                        let _ = ch.close().await;
                        return Ok(Err(e));
                    }
                }
                ChannelMsg::ExtendedData { data, .. } => err.extend_from_slice(&data),
                ChannelMsg::ExitStatus { exit_status } => status = Some(exit_status),
                ChannelMsg::Close => break,
                _ => {}
            }
        }
        Ok(Ok((status, err)))
    }
}

/// Runs one command on the SSH server: (exit status, stdout, stderr).
async fn exec(h: &Handle<Client>, cmd: &str) -> Result<(Option<u32>, String, String), TunnelError> {
    log::debug!("ssh exec: {cmd}");
    let mut ch = h.channel_open_session().await?;
    ch.exec(true, cmd).await?;
    let (mut out, mut err, mut status) = (Vec::new(), Vec::new(), None);
    while let Some(msg) = ch.wait().await {
        match msg {
            ChannelMsg::Data { data } => out.extend_from_slice(&data),
            ChannelMsg::ExtendedData { data, .. } => err.extend_from_slice(&data),
            ChannelMsg::ExitStatus { exit_status } => status = Some(exit_status),
            ChannelMsg::Close => break,
            _ => {}
        }
    }
    Ok((
        status,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    ))
}

/// Accepts local connections and forwards each over its own channel, until the tunnel is dropped or
/// the SSH link dies (then every forwarded connection is closed and the reason logged).
async fn serve(
    listener: TcpListener,
    handle: Arc<Handle<Client>>,
    target: (String, u16),
    first: Channel<Msg>,
    mut alive: watch::Receiver<()>,
    dropped: Arc<Mutex<Option<String>>>,
    addr: String,
) {
    let mut first = Some(first);
    let mut conns = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = alive.changed() => break,
            accepted = listener.accept() => {
                let (tcp, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        log::warn!("SSH tunnel: accept failed: {e}");
                        continue;
                    }
                };
                let ready = first.take();
                let (handle, target) = (handle.clone(), target.clone());
                conns.spawn(async move {
                    let ch = match ready {
                        Some(ch) => ch,
                        None => match handle.channel_open_direct_tcpip(target.0.as_str(), target.1.into(), "127.0.0.1", peer.port().into()).await {
                            Ok(ch) => ch,
                            Err(e) => {
                                log::warn!("SSH tunnel: cannot open a channel to {}: {}", host_port(&target.0, target.1), describe(&e));
                                return;
                            }
                        },
                    };
                    forward(tcp, ch).await;
                });
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    let reason = dropped
        .lock()
        .ok()
        .and_then(|r| r.clone())
        .unwrap_or_else(|| "the SSH session ended".into());
    log::error!(
        "the SSH tunnel to {addr} dropped ({reason}): an operation in progress fails; it is safe to run it again"
    );
}

async fn forward(mut tcp: TcpStream, ch: Channel<Msg>) {
    let mut stream = ch.into_stream();
    match tokio::io::copy_bidirectional(&mut tcp, &mut stream).await {
        Ok((up, down)) => log::debug!("SSH tunnel: connection closed ({up} bytes sent, {down} received)"),
        Err(e) => log::debug!("SSH tunnel: connection ended: {e}"),
    }
}
