//! Opening a session to the Dawarich database: TLS via rustls in libpq's sslmodes, a connect
//! timeout, TCP keepalives and the server's client connection check (so our own sessions never
//! linger as stale lock holders, nor keep running once we are gone), an optional SSH tunnel (when
//! the profile says so), and errors that say which step failed and what fixes it.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use dawarich_doctor_model::{ErrorKind, ErrorReport, Profile, SslMode};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use thiserror::Error;
use tokio_postgres::error::SqlState;

use crate::tunnel::{SshOptions, Tunnel, TunnelError};

/// Everything needed to connect; the password is held only in memory.
#[derive(Clone)]
pub struct ConnectOptions {
    pub profile: Profile,
    pub password: Option<String>,
    pub connect_timeout: Duration,
    /// Secrets and host-key settings for the profile's `ssh` hop; `None` means the defaults.
    pub ssh: Option<SshOptions>,
}

impl std::fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("profile", &self.profile)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("connect_timeout", &self.connect_timeout)
            .field("ssh", &self.ssh)
            .finish()
    }
}

impl ConnectOptions {
    /// Options with the default 10 s connect timeout.
    pub fn new(profile: Profile, password: Option<String>) -> Self {
        ConnectOptions {
            profile,
            password,
            connect_timeout: Duration::from_secs(10),
            ssh: None,
        }
    }
}

/// Why a connection could not be opened. Each variant names the step and the fix.
#[derive(Debug, Error)]
pub enum ConnectError {
    #[error("cannot resolve host name {host:?}: {detail}")]
    Dns { host: String, detail: String },
    #[error("connection refused by {host}:{port}: nothing is listening there")]
    Refused { host: String, port: u16 },
    #[error("no answer from {host}:{port} within {secs} s")]
    Timeout { host: String, port: u16, secs: u64 },
    #[error("cannot reach {host}:{port}: {detail}")]
    Network { host: String, port: u16, detail: String },
    #[error("TLS failed: {detail}")]
    Tls { detail: String, fix: String },
    #[error("authentication failed for user {user:?}: {detail}")]
    Auth { user: String, detail: String },
    #[error("the server asks for a password for user {user:?} and none was given")]
    NoPassword { user: String },
    #[error("database {database:?} does not exist on this server{others}")]
    DatabaseMissing { database: String, others: String },
    #[error("the server is a read-only replica (pg_is_in_recovery() is true)")]
    ReadOnlyReplica,
    #[error("the CA file {path:?} cannot be used: {detail}")]
    CaFile { path: String, detail: String },
    #[error(transparent)]
    Tunnel(#[from] TunnelError),
    #[error("connection failed: {0}")]
    Other(String),
}

impl ConnectError {
    /// The error as shown to the user, with the fix.
    pub fn report(&self) -> ErrorReport {
        let (kind, fix) = match self {
            ConnectError::Dns { .. } => (ErrorKind::DnsFailure, "Check the host name. The stock compose's `dawarich_db` only resolves inside the Docker network: use the server's address (and publish the port) or connect via SSH.".to_string()),
            ConnectError::Refused { .. } => (ErrorKind::ConnectionRefused, "Check the port and that PostgreSQL is running. The stock compose does not publish port 5432: add `ports: [\"127.0.0.1:5432:5432\"]` to dawarich_db or connect via SSH.".into()),
            ConnectError::Timeout { .. } => (ErrorKind::Timeout, "Check the address, firewalls and that the server is up; a wrong IP often just times out.".into()),
            ConnectError::Network { .. } => (ErrorKind::ConnectionRefused, "Check the address and your network.".into()),
            ConnectError::Tls { fix, .. } => (ErrorKind::Tls, fix.clone()),
            ConnectError::Auth { .. } => (ErrorKind::AuthenticationFailed, "Check the user name and password (the stock compose uses POSTGRES_USER / POSTGRES_PASSWORD from its .env).".into()),
            ConnectError::NoPassword { .. } => (ErrorKind::AuthenticationFailed, "Give the password (in the URL, or you will be asked).".into()),
            ConnectError::DatabaseMissing { .. } => (ErrorKind::DatabaseMissing, "Use the DATABASE_NAME of your Dawarich .env (stock: dawarich_development; older production compose: dawarich_production).".into()),
            ConnectError::ReadOnlyReplica => (ErrorKind::ReadOnlyReplica, "Connect to the primary server: a replica cannot be repaired or migrated, and its locks are not the primary's.".into()),
            ConnectError::CaFile { .. } => (ErrorKind::Tls, "Give a readable PEM file with the server's CA certificate.".into()),
            ConnectError::Tunnel(t) => return t.report(),
            ConnectError::Other(_) => (ErrorKind::Database, "See the message; the server log may say more.".into()),
        };
        ErrorReport {
            kind,
            message: self.to_string(),
            fix,
        }
    }
}

/// An open session. The connection task (and the SSH tunnel, if any) ends when this is dropped.
pub struct Db {
    pub client: tokio_postgres::Client,
    pub backend_pid: i32,
    pub database: String,
    conn_task: tokio::task::JoinHandle<()>,
    tunnel: Option<Tunnel>,
    warnings: Warnings,
}

/// WARNING messages the server sent (e.g. rows a migration had to leave alone), not yet taken.
type Warnings = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

impl Db {
    /// Takes the WARNING messages the server sent since the last call.
    pub fn take_warnings(&self) -> Vec<String> {
        self.warnings
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default()
    }

    /// The SSH tunnel the session runs through; its `dropped()` says whether a failure was the link's.
    pub fn tunnel(&self) -> Option<&Tunnel> {
        self.tunnel.as_ref()
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        self.conn_task.abort();
    }
}

impl std::ops::Deref for Db {
    type Target = tokio_postgres::Client;
    fn deref(&self) -> &Self::Target {
        &self.client
    }
}

/// Makes the server poll our end of the connection while running a statement.
const CLIENT_CHECK: &str = "SET client_connection_check_interval = '2s'";

/// Connects and refuses read-only replicas (every use of the doctor concerns the primary).
pub async fn connect(opts: &ConnectOptions) -> Result<Db, ConnectError> {
    let p = &opts.profile;
    let secs = opts.connect_timeout.as_secs().max(1);
    let tunnel = match &p.ssh {
        Some(ssh) => Some(
            Tunnel::open(
                ssh,
                &opts.ssh.clone().unwrap_or_default(),
                &p.host,
                p.port,
                opts.connect_timeout,
            )
            .await?,
        ),
        None => None,
    };
    let unix_socket = p.host.starts_with('/') && tunnel.is_none();
    if !unix_socket && tunnel.is_none() {
        resolve(&p.host, p.port).await?;
    }
    let mut cfg = tokio_postgres::Config::new();
    // Through a tunnel, connect to its local end; the host name still serves TLS verification.
    cfg.host(&p.host)
        .port(tunnel.as_ref().map_or(p.port, |t| t.local_addr().port()));
    if tunnel.is_some() {
        cfg.hostaddr(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    cfg.user(&p.user)
        .dbname(&p.database)
        .application_name(&p.application_name)
        .connect_timeout(opts.connect_timeout)
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(30))
        .keepalives_interval(Duration::from_secs(10))
        .keepalives_retries(3);
    if let Some(pw) = &opts.password {
        cfg.password(pw);
    }
    let warnings = Warnings::default();
    let fut = async {
        if p.sslmode == SslMode::Disable || unix_socket {
            cfg.ssl_mode(tokio_postgres::config::SslMode::Disable);
            let (client, conn) = cfg.connect(tokio_postgres::NoTls).await.map_err(Err)?;
            Ok((client, spawn_conn(conn, warnings.clone())))
        } else {
            cfg.ssl_mode(if p.sslmode == SslMode::Prefer {
                tokio_postgres::config::SslMode::Prefer
            } else {
                tokio_postgres::config::SslMode::Require
            });
            let tls = tls_connector(p.sslmode, p.ca_file.as_deref()).map_err(Ok)?;
            let (client, conn) = cfg.connect(tls).await.map_err(Err)?;
            Ok((client, spawn_conn(conn, warnings.clone())))
        }
    };
    let result: Result<_, Result<ConnectError, tokio_postgres::Error>> =
        match tokio::time::timeout(opts.connect_timeout + Duration::from_secs(1), fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(e),
            Err(_) => {
                return Err(ConnectError::Timeout {
                    host: p.host.clone(),
                    port: p.port,
                    secs,
                })
            }
        };
    let (client, conn_task) = match result {
        Ok(v) => v,
        Err(Ok(e)) => return Err(e),
        Err(Err(e)) => return Err(classify(e, p, secs, opts).await),
    };
    let row = client
        .query_one(
            "SELECT pg_backend_pid(), current_database()::text, pg_is_in_recovery()",
            &[],
        )
        .await
        .map_err(|e| ConnectError::Other(e.to_string()))?;
    if row.get::<_, bool>(2) {
        return Err(ConnectError::ReadOnlyReplica);
    }
    // PostgreSQL 14+ on Linux: a statement of ours stops within seconds once our end of the
    // connection is gone (killed, SSH link dropped) instead of running, and holding its locks, to the
    // end. Older servers and other platforms refuse the setting; they only lose this safeguard.
    if let Err(e) = client.batch_execute(CLIENT_CHECK).await {
        log::debug!("client connection check not available: {e}");
    }
    log::debug!("connected to {}:{}/{} as {}", p.host, p.port, p.database, p.user);
    Ok(Db {
        client,
        backend_pid: row.get(0),
        database: row.get(1),
        conn_task,
        tunnel,
        warnings,
    })
}

fn spawn_conn<S, T>(mut conn: tokio_postgres::Connection<S, T>, warnings: Warnings) -> tokio::task::JoinHandle<()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| conn.poll_message(cx)).await {
                Some(Ok(tokio_postgres::AsyncMessage::Notice(n))) => {
                    if n.severity() == "WARNING" {
                        log::warn!("server: {}", n.message());
                        if let Ok(mut w) = warnings.lock() {
                            w.push(n.message().to_string());
                        }
                    } else {
                        log::debug!("server {}: {}", n.severity(), n.message());
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    log::warn!("database connection closed: {e}");
                    break;
                }
                None => break,
            }
        }
    })
}

async fn resolve(host: &str, port: u16) -> Result<(), ConnectError> {
    match tokio::net::lookup_host((host, port)).await.map(|a| a.count()) {
        Ok(n) if n > 0 => Ok(()),
        Ok(_) => Err(ConnectError::Dns {
            host: host.into(),
            detail: "no addresses".into(),
        }),
        Err(e) => Err(ConnectError::Dns {
            host: host.into(),
            detail: e.to_string(),
        }),
    }
}

async fn classify(e: tokio_postgres::Error, p: &Profile, secs: u64, opts: &ConnectOptions) -> ConnectError {
    if let Some(db) = e.as_db_error() {
        if *db.code() == SqlState::INVALID_CATALOG_NAME {
            return ConnectError::DatabaseMissing {
                database: p.database.clone(),
                others: other_databases(opts).await,
            };
        }
        return server_refusal(db.code(), db.message(), p);
    }
    // Walk the source chain for IO and TLS causes.
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if let Some(inner) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                return tls_error(inner, p);
            }
            return match io.kind() {
                std::io::ErrorKind::ConnectionRefused => ConnectError::Refused {
                    host: p.host.clone(),
                    port: p.port,
                },
                std::io::ErrorKind::TimedOut => ConnectError::Timeout {
                    host: p.host.clone(),
                    port: p.port,
                    secs,
                },
                _ => ConnectError::Network {
                    host: p.host.clone(),
                    port: p.port,
                    detail: io.to_string(),
                },
            };
        }
        if let Some(t) = s.downcast_ref::<rustls::Error>() {
            return tls_error(t, p);
        }
        src = s.source();
    }
    let mut msg = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        msg = format!("{msg}: {c}");
        cause = c.source();
    }
    client_failure(msg, p, secs)
}

/// What the server's refusal at connect time means (a missing database is looked up apart).
fn server_refusal(code: &SqlState, message: &str, p: &Profile) -> ConnectError {
    if *code == SqlState::INVALID_PASSWORD || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION {
        return ConnectError::Auth {
            user: p.user.clone(),
            detail: message.to_string(),
        };
    }
    ConnectError::Other(message.to_string())
}

/// What a client-side failure without an IO or TLS cause attached means, from its message chain.
fn client_failure(msg: String, p: &Profile, secs: u64) -> ConnectError {
    if msg.contains("does not support TLS") {
        return ConnectError::Tls {
            detail: format!("the server does not offer TLS but sslmode is {}", p.sslmode.as_str()),
            fix: "Enable ssl on the server, or use sslmode=prefer / disable on a trusted network.".into(),
        };
    }
    if msg.contains("password missing") {
        return ConnectError::NoPassword { user: p.user.clone() };
    }
    if msg.contains("timeout") || msg.contains("timed out") {
        return ConnectError::Timeout {
            host: p.host.clone(),
            port: p.port,
            secs,
        };
    }
    ConnectError::Other(msg)
}

/// Lists the databases the same credentials can see, for a "did you mean" hint.
async fn other_databases(opts: &ConnectOptions) -> String {
    let mut o = opts.clone();
    o.profile.database = "postgres".into();
    o.connect_timeout = Duration::from_secs(3);
    let Ok(db) = Box::pin(connect(&o)).await else {
        return String::new();
    };
    match db
        .query(
            "SELECT datname::text FROM pg_database WHERE NOT datistemplate AND datname <> 'postgres' ORDER BY 1",
            &[],
        )
        .await
    {
        Ok(rows) if !rows.is_empty() => {
            let names: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
            format!(" (it has: {})", names.join(", "))
        }
        _ => String::new(),
    }
}

fn tls_error(e: &rustls::Error, p: &Profile) -> ConnectError {
    use rustls::CertificateError as C;
    let (detail, fix) = match e {
        rustls::Error::InvalidCertificate(C::UnknownIssuer) | rustls::Error::InvalidCertificate(C::BadSignature) => (
            "the server certificate is not signed by a trusted CA (chain check)".to_string(),
            "Give the server's CA certificate with --ca-file (sslrootcert), or use sslmode=require to encrypt without verifying.".to_string(),
        ),
        rustls::Error::InvalidCertificate(C::NotValidForName) | rustls::Error::InvalidCertificate(C::NotValidForNameContext { .. }) => (
            format!("the server certificate is not valid for the host name {:?} (host name check of verify-full)", p.host),
            "Connect with the host name the certificate was issued for, or use sslmode=verify-ca.".to_string(),
        ),
        rustls::Error::InvalidCertificate(C::Expired) | rustls::Error::InvalidCertificate(C::ExpiredContext { .. }) => (
            "the server certificate has expired (validity check)".to_string(),
            "Renew the server certificate.".to_string(),
        ),
        other => (format!("{other}"), "Check the server's TLS configuration and the sslmode.".to_string()),
    };
    ConnectError::Tls { detail, fix }
}

fn tls_connector(
    mode: SslMode,
    ca_file: Option<&str>,
) -> Result<tokio_postgres_rustls::MakeRustlsConnect, ConnectError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    if let Some(path) = ca_file {
        let bad = |detail: String| ConnectError::CaFile {
            path: path.into(),
            detail,
        };
        let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        let certs: Vec<_> = rustls_pemfile::certs(&mut pem.as_slice())
            .collect::<Result<_, _>>()
            .map_err(|e| bad(e.to_string()))?;
        if certs.is_empty() {
            return Err(bad("no certificate in it".into()));
        }
        for c in certs {
            roots.add(c).map_err(|e| bad(e.to_string()))?;
        }
    } else if matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull) {
        for c in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(c);
        }
    }
    let webpki = if roots.is_empty() {
        None
    } else {
        Some(
            rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| ConnectError::Tls {
                    detail: e.to_string(),
                    fix: "Check the CA file.".into(),
                })?,
        )
    };
    // libpq: prefer/require do not verify unless a root certificate is given (then like verify-ca).
    let policy = match (mode, &webpki) {
        (SslMode::VerifyFull, _) => Policy::Full,
        (SslMode::VerifyCa, _) => Policy::ChainOnly,
        (_, Some(_)) => Policy::ChainOnly,
        _ => Policy::None,
    };
    let verifier = Arc::new(Verifier {
        inner: webpki,
        policy,
        provider: provider.clone(),
    });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ConnectError::Tls {
            detail: e.to_string(),
            fix: String::new(),
        })?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

#[derive(Debug, Clone, Copy)]
enum Policy {
    None,
    ChainOnly,
    Full,
}

#[derive(Debug)]
struct Verifier {
    inner: Option<Arc<rustls::client::WebPkiServerVerifier>>,
    policy: Policy,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let no_roots = || rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        match self.policy {
            Policy::None => Ok(ServerCertVerified::assertion()),
            Policy::Full => self.inner.as_ref().ok_or_else(no_roots)?.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp,
                now,
            ),
            Policy::ChainOnly => {
                match self.inner.as_ref().ok_or_else(no_roots)?.verify_server_cert(
                    end_entity,
                    intermediates,
                    server_name,
                    ocsp,
                    now,
                ) {
                    Err(rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName))
                    | Err(rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForNameContext {
                        ..
                    })) => Ok(ServerCertVerified::assertion()),
                    other => other,
                }
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> Profile {
        Profile {
            user: "dawarich".into(),
            host: "db".into(),
            port: 5433,
            sslmode: dawarich_doctor_model::SslMode::Require,
            ..Profile::default()
        }
    }

    #[test]
    fn a_wrong_password_or_role_is_an_authentication_error_naming_the_user() {
        for code in [
            SqlState::INVALID_PASSWORD,
            SqlState::INVALID_AUTHORIZATION_SPECIFICATION,
        ] {
            match server_refusal(
                &code,
                "password authentication failed for user \"dawarich\"",
                &profile(),
            ) {
                ConnectError::Auth { user, detail } => assert_eq!(
                    (user.as_str(), detail.contains("password authentication")),
                    ("dawarich", true)
                ),
                other => panic!("{other:?}"),
            }
        }
        assert!(
            matches!(server_refusal(&SqlState::TOO_MANY_CONNECTIONS, "too many clients", &profile()), ConnectError::Other(m) if m == "too many clients")
        );
    }

    #[test]
    fn client_failures_are_told_apart_by_their_message_chain() {
        let p = profile();
        assert!(
            matches!(client_failure("error performing TLS handshake: server does not support TLS".into(), &p, 10), ConnectError::Tls { detail, .. } if detail.contains("sslmode is require"))
        );
        assert!(
            matches!(client_failure("invalid configuration: password missing".into(), &p, 10), ConnectError::NoPassword { user } if user == "dawarich")
        );
        assert!(
            matches!(client_failure("connection timed out".into(), &p, 7), ConnectError::Timeout { host, port: 5433, secs: 7 } if host == "db")
        );
        assert!(
            matches!(client_failure("something else".into(), &p, 7), ConnectError::Other(m) if m == "something else")
        );
    }
}
