//! "Test connection", step by step: TCP, TLS, authentication, PostGIS, Dawarich. Each step reports
//! its own result and, when it fails, the same error report (message + fix) a real connection gives.
//! Read-only: the only statements are catalog reads.

use std::time::{Duration, Instant};

use dawarich_doctor_model::{ErrorKind, ErrorReport, ProbeReport, ProbeStatus, ProbeStep, ProbeStepId, SslMode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::applied;
use crate::connect::{connect, ConnectError, ConnectOptions, Db};
use crate::tunnel::Tunnel;

/// Runs every step in order and calls `on_step` as each one finishes (the app streams them).
/// A failed step skips the ones after it.
pub async fn probe(opts: &ConnectOptions, on_step: &(dyn Fn(&ProbeStep) + Send + Sync)) -> ProbeReport {
    let mut steps: Vec<ProbeStep> = Vec::new();
    let mut push = |s: ProbeStep| {
        on_step(&s);
        steps.push(s);
    };
    let p = &opts.profile;
    let unix_socket = p.host.starts_with('/') && p.ssh.is_none();

    // 1. TCP (or the Unix socket, or through the SSH tunnel), and whether the server offers TLS.
    let t = Instant::now();
    let offers_tls = match open(opts, unix_socket).await {
        Ok((offers, what)) => {
            push(step(
                ProbeStepId::Tcp,
                ProbeStatus::Ok,
                format!("{what} answers"),
                None,
                t,
            ));
            offers
        }
        Err(r) => {
            push(step(
                ProbeStepId::Tcp,
                ProbeStatus::Failed,
                r.message.clone(),
                Some(r),
                t,
            ));
            return finish(steps, ProbeStepId::Tls, on_step);
        }
    };

    // 2. TLS as far as it can be judged before logging in.
    let t = Instant::now();
    let tls_required = matches!(p.sslmode, SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull);
    if !unix_socket && tls_required && offers_tls == Some(false) {
        let e = ConnectError::Tls {
            detail: format!("the server does not offer TLS but sslmode is {}", p.sslmode.as_str()),
            fix: "Enable ssl on the server, or use sslmode=prefer / disable on a trusted network.".into(),
        };
        push(step(
            ProbeStepId::Tls,
            ProbeStatus::Failed,
            e.to_string(),
            Some(e.report()),
            t,
        ));
        return finish(steps, ProbeStepId::Authentication, on_step);
    }
    let tls_elapsed = t.elapsed();

    // 3. Log in: the real connection, with the same TLS verification as every other command.
    let t = Instant::now();
    let db = connect(opts).await;
    let login = t.elapsed();
    let db = match db {
        Ok(db) => db,
        Err(e @ (ConnectError::Tls { .. } | ConnectError::CaFile { .. })) => {
            push(timed(
                ProbeStepId::Tls,
                ProbeStatus::Failed,
                e.to_string(),
                Some(e.report()),
                tls_elapsed + login,
            ));
            return finish(steps, ProbeStepId::Authentication, on_step);
        }
        Err(ConnectError::ReadOnlyReplica) => {
            let (status, detail) = tls_before_login(p.sslmode, offers_tls, unix_socket);
            push(timed(ProbeStepId::Tls, status, detail, None, tls_elapsed));
            push(timed(
                ProbeStepId::Authentication,
                ProbeStatus::Ok,
                format!("logged in to {} as {}", p.database, p.user),
                None,
                login,
            ));
            push(step(
                ProbeStepId::Postgis,
                ProbeStatus::Skipped,
                "not checked on a replica".into(),
                None,
                Instant::now(),
            ));
            let e = ConnectError::ReadOnlyReplica;
            push(step(
                ProbeStepId::Dawarich,
                ProbeStatus::Failed,
                e.to_string(),
                Some(e.report()),
                Instant::now(),
            ));
            return report(steps);
        }
        Err(e) => {
            let (status, detail) = tls_before_login(p.sslmode, offers_tls, unix_socket);
            push(timed(ProbeStepId::Tls, status, detail, None, tls_elapsed));
            push(timed(
                ProbeStepId::Authentication,
                ProbeStatus::Failed,
                e.to_string(),
                Some(e.report()),
                login,
            ));
            return finish(steps, ProbeStepId::Postgis, on_step);
        }
    };
    let (status, detail) = tls_in_session(&db, p.sslmode, p.ca_file.is_some(), unix_socket).await;
    push(timed(ProbeStepId::Tls, status, detail, None, tls_elapsed));
    let t = Instant::now();
    let who = db
        .query_one("SELECT rolsuper FROM pg_roles WHERE rolname = current_user", &[])
        .await
        .map(|r| if r.get::<_, bool>(0) { " (superuser)" } else { "" })
        .unwrap_or("");
    push(timed(
        ProbeStepId::Authentication,
        ProbeStatus::Ok,
        format!("logged in to {} as {}{who}", db.database, p.user),
        None,
        login + t.elapsed(),
    ));

    // 4. PostGIS.
    let t = Instant::now();
    match postgis(&db).await {
        Ok((Some(v), _)) => push(step(ProbeStepId::Postgis, ProbeStatus::Ok, format!("PostGIS {v} installed"), None, t)),
        Ok((None, true)) => push(step(ProbeStepId::Postgis, ProbeStatus::Warning, "PostGIS is available but not installed in this database; Dawarich's migration 20250123145155 installs it (as a superuser).".into(), None, t)),
        Ok((None, false)) => {
            let r = ErrorReport {
                kind: ErrorKind::PostgisMissing,
                message: "this server has no PostGIS (no postgis extension available)".into(),
                fix: "Dawarich needs PostGIS from 0.23 on: switch the dawarich_db image to postgis/postgis (e.g. postgis/postgis:17-3.5-alpine, or 14-3.5 for a PostgreSQL 14 data directory).".into(),
            };
            push(step(ProbeStepId::Postgis, ProbeStatus::Warning, r.message.clone(), Some(r), t));
        }
        Err(e) => {
            let r = crate::Error::from(e).report();
            push(step(ProbeStepId::Postgis, ProbeStatus::Failed, r.message.clone(), Some(r), t));
            return finish(steps, ProbeStepId::Dawarich, on_step);
        }
    }

    // 5. Dawarich: the bookkeeping tables and the release they match.
    let t = Instant::now();
    let found = match applied::read_applied(&db, &db.database).await {
        Ok(applied) => applied::describe(&applied, None),
        Err(e) => Err(e),
    };
    match found {
        Ok(d) => {
            let release = match (&d.release, &d.release_range) {
                (Some(r), Some((a, b))) if a != b => format!("Dawarich {r} (same migrations as {a} – {b})"),
                (Some(r), _) => format!("Dawarich {r}"),
                _ => "Dawarich (release not recognised)".into(),
            };
            let pending = d.pending_schema.len() + d.pending_data.len();
            let (status, detail) = if !d.unknown_newer_versions.is_empty() {
                (
                    ProbeStatus::Warning,
                    format!(
                        "{release}; migrations newer than this Dawarich Doctor knows: {}",
                        d.unknown_newer_versions.join(", ")
                    ),
                )
            } else if pending == 0 {
                (
                    ProbeStatus::Ok,
                    format!("{release}, up to date with {}", d.newest_known_release),
                )
            } else {
                (
                    ProbeStatus::Ok,
                    format!("{release}, {pending} migrations pending for {}", d.newest_known_release),
                )
            };
            push(step(ProbeStepId::Dawarich, status, detail, None, t));
        }
        Err(e) => {
            let r = e.report();
            push(step(
                ProbeStepId::Dawarich,
                ProbeStatus::Failed,
                r.message.clone(),
                Some(r),
                t,
            ));
        }
    }
    report(steps)
}

/// Opens the transport and, unless sslmode is `disable`, asks whether the server speaks TLS.
/// Returns `Some(offers)` when asked, and what was reached.
async fn open(opts: &ConnectOptions, unix_socket: bool) -> Result<(Option<bool>, String), ErrorReport> {
    let p = &opts.profile;
    let secs = opts.connect_timeout.as_secs().max(1);
    if unix_socket {
        let path = format!("{}/.s.PGSQL.{}", p.host, p.port);
        return match tokio::time::timeout(opts.connect_timeout, tokio::net::UnixStream::connect(&path)).await {
            Ok(Ok(_)) => Ok((None, format!("socket {path}"))),
            Ok(Err(e)) => Err(io_error(e, p.host.clone(), p.port, secs).report()),
            Err(_) => Err(ConnectError::Timeout {
                host: p.host.clone(),
                port: p.port,
                secs,
            }
            .report()),
        };
    }
    if let Some(ssh) = &p.ssh {
        // The same tunnel a connection opens; the TLS question goes through it.
        let tunnel = Tunnel::open(
            ssh,
            &opts.ssh.clone().unwrap_or_default(),
            &p.host,
            p.port,
            opts.connect_timeout,
        )
        .await
        .map_err(|e| e.report())?;
        let what = format!("{}:{} through SSH {}@{}", p.host, p.port, ssh.user, ssh.host);
        return match tokio::time::timeout(
            opts.connect_timeout,
            tokio::net::TcpStream::connect(tunnel.local_addr()),
        )
        .await
        {
            Ok(Ok(mut s)) => Ok((
                if p.sslmode == SslMode::Disable {
                    None
                } else {
                    ssl_request(&mut s).await
                },
                what,
            )),
            Ok(Err(e)) => Err(io_error(e, p.host.clone(), p.port, secs).report()),
            Err(_) => Err(ConnectError::Timeout {
                host: p.host.clone(),
                port: p.port,
                secs,
            }
            .report()),
        };
    }
    let addrs: Vec<_> = match tokio::net::lookup_host((p.host.as_str(), p.port)).await {
        Ok(a) => a.collect(),
        Err(e) => {
            return Err(ConnectError::Dns {
                host: p.host.clone(),
                detail: e.to_string(),
            }
            .report())
        }
    };
    if addrs.is_empty() {
        return Err(ConnectError::Dns {
            host: p.host.clone(),
            detail: "no addresses".into(),
        }
        .report());
    }
    let what = format!("{}:{}", p.host, p.port);
    let mut last = None;
    for addr in addrs {
        match tokio::time::timeout(opts.connect_timeout, tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(mut s)) => {
                if p.sslmode == SslMode::Disable {
                    return Ok((None, what));
                }
                return Ok((ssl_request(&mut s).await, what));
            }
            Ok(Err(e)) => last = Some(io_error(e, p.host.clone(), p.port, secs)),
            Err(_) => {
                last = Some(ConnectError::Timeout {
                    host: p.host.clone(),
                    port: p.port,
                    secs,
                })
            }
        }
    }
    Err(last.expect("at least one address").report())
}

/// PostgreSQL's SSLRequest: length 8, code 80877103; the server answers `S` or `N`.
async fn ssl_request(s: &mut tokio::net::TcpStream) -> Option<bool> {
    let ask = async {
        s.write_all(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]).await?;
        let mut b = [0u8; 1];
        s.read_exact(&mut b).await?;
        Ok::<u8, std::io::Error>(b[0])
    };
    match tokio::time::timeout(Duration::from_secs(5), ask).await {
        Ok(Ok(b'S')) => Some(true),
        Ok(Ok(b'N')) => Some(false),
        _ => None,
    }
}

fn io_error(e: std::io::Error, host: String, port: u16, secs: u64) -> ConnectError {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::NotFound => ConnectError::Refused { host, port },
        std::io::ErrorKind::TimedOut => ConnectError::Timeout { host, port, secs },
        _ => ConnectError::Network {
            host,
            port,
            detail: e.to_string(),
        },
    }
}

/// What can be said about TLS when the login did not complete.
fn tls_before_login(mode: SslMode, offers: Option<bool>, unix_socket: bool) -> (ProbeStatus, String) {
    if unix_socket {
        return (ProbeStatus::Skipped, "Unix socket: TLS is not used".into());
    }
    match (mode, offers) {
        (SslMode::Disable, _) => (
            ProbeStatus::Skipped,
            "sslmode=disable: the connection is not encrypted".into(),
        ),
        (_, Some(true)) => (
            ProbeStatus::Ok,
            format!("the server offers TLS (sslmode={})", mode.as_str()),
        ),
        (_, Some(false)) => (
            ProbeStatus::Warning,
            "the server does not offer TLS: the connection is not encrypted".into(),
        ),
        (_, None) => (ProbeStatus::Skipped, "the server did not answer the TLS request".into()),
    }
}

/// TLS as the server sees our session (`pg_stat_ssl`), plus what was verified.
async fn tls_in_session(db: &Db, mode: SslMode, has_ca: bool, unix_socket: bool) -> (ProbeStatus, String) {
    if unix_socket {
        return (ProbeStatus::Skipped, "Unix socket: TLS is not used".into());
    }
    let row = db
        .query_opt(
            "SELECT ssl, version, cipher FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .ok()
        .flatten();
    let (ssl, version, cipher) = match row {
        Some(r) => (
            r.get::<_, bool>(0),
            r.get::<_, Option<String>>(1).unwrap_or_default(),
            r.get::<_, Option<String>>(2).unwrap_or_default(),
        ),
        None => (false, String::new(), String::new()),
    };
    if !ssl {
        return match mode {
            SslMode::Disable => (
                ProbeStatus::Skipped,
                "sslmode=disable: the connection is not encrypted".into(),
            ),
            _ => (
                ProbeStatus::Warning,
                "the server does not offer TLS: the connection is not encrypted".into(),
            ),
        };
    }
    let verified = match mode {
        SslMode::VerifyFull => "certificate chain and host name verified",
        SslMode::VerifyCa => "certificate chain verified",
        _ if has_ca => "certificate chain verified against the CA file",
        _ => "encrypted, certificate not verified",
    };
    (
        ProbeStatus::Ok,
        format!("{version} ({cipher}), {verified} (sslmode={})", mode.as_str()),
    )
}

async fn postgis(db: &Db) -> Result<(Option<String>, bool), tokio_postgres::Error> {
    let r = db
        .query_one(
            "SELECT (SELECT extversion::text FROM pg_extension WHERE extname = 'postgis'),
                    EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgis')",
            &[],
        )
        .await?;
    Ok((r.get(0), r.get(1)))
}

fn step(
    id: ProbeStepId,
    status: ProbeStatus,
    detail: String,
    error: Option<ErrorReport>,
    started: Instant,
) -> ProbeStep {
    timed(id, status, detail, error, started.elapsed())
}

fn timed(
    id: ProbeStepId,
    status: ProbeStatus,
    detail: String,
    error: Option<ErrorReport>,
    elapsed: Duration,
) -> ProbeStep {
    ProbeStep {
        id,
        status,
        detail,
        error,
        elapsed_ms: elapsed.as_millis() as u64,
    }
}

/// Marks `from` and every later step as skipped.
fn finish(mut steps: Vec<ProbeStep>, from: ProbeStepId, on_step: &(dyn Fn(&ProbeStep) + Send + Sync)) -> ProbeReport {
    let start = ProbeStepId::ALL
        .iter()
        .position(|s| *s == from)
        .unwrap_or(ProbeStepId::ALL.len());
    for id in &ProbeStepId::ALL[start..] {
        let s = ProbeStep {
            id: *id,
            status: ProbeStatus::Skipped,
            detail: "not run: an earlier step failed".into(),
            error: None,
            elapsed_ms: 0,
        };
        on_step(&s);
        steps.push(s);
    }
    report(steps)
}

fn report(steps: Vec<ProbeStep>) -> ProbeReport {
    let ok = steps.iter().all(|s| s.status != ProbeStatus::Failed);
    ProbeReport { steps, ok }
}
