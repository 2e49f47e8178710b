//! The SSH transport against a real OpenSSH server on 127.0.0.1 (dawarich_doctor_testkit::sshd): every way to
//! log in, host-key trust, resolving the database on the SSH host, and a link that dies mid-query.

mod common;

use std::net::Ipv4Addr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::*;
use dawarich_doctor::connect::{connect, ConnectError, ConnectOptions};
use dawarich_doctor::tunnel::{SshOptions, TunnelError};
use dawarich_doctor_model::{ErrorKind, SshAuth};
use dawarich_doctor_testkit::sshd::{Agent, Sshd, PASSPHRASE, USER};

static SSHD: OnceLock<Sshd> = OnceLock::new();

/// The binary's shared server.
fn sshd() -> &'static Sshd {
    SSHD.get_or_init(Sshd::start)
}

fn key(s: &Sshd, name: &str) -> SshAuth {
    SshAuth::Key { path: s.key(name) }
}

/// Connect options for the cluster's `postgres` database as `db_host` through `s`.
fn via(s: &Sshd, auth: SshAuth, ssh: SshOptions, db_host: &str) -> ConnectOptions {
    via_db(s, auth, ssh, db_host, "postgres")
}

fn via_db(s: &Sshd, auth: SshAuth, ssh: SshOptions, db_host: &str, database: &str) -> ConnectOptions {
    let mut o = options(&format!(
        "postgres://postgres:postgres@{db_host}:{}/{database}",
        cluster().port
    ));
    o.profile.ssh = Some(s.profile(auth));
    o.ssh = Some(ssh);
    o
}

async fn fails(o: &ConnectOptions) -> TunnelError {
    match connect(o).await {
        Ok(_) => panic!("connected although it should fail"),
        Err(ConnectError::Tunnel(t)) => t,
        Err(e) => panic!("not a tunnel error: {e:?}"),
    }
}

async fn works(o: &ConnectOptions) -> dawarich_doctor::connect::Db {
    let db = connect(o)
        .await
        .unwrap_or_else(|e| panic!("{e}\nsshd log:\n{}", sshd().log()));
    let one: i32 = db.query_one("SELECT 1", &[]).await.unwrap().get(0);
    assert_eq!(one, 1);
    db
}

#[tokio::test]
async fn a_container_name_is_resolved_with_docker_inspect_on_the_ssh_host() {
    let s = sshd();
    let db = works(&via(s, key(s, "ed25519"), s.options(), "dawarich_db")).await;
    let t = db.tunnel().expect("a tunnel");
    assert_eq!(t.local_addr().ip(), Ipv4Addr::LOCALHOST);
    assert_ne!(t.local_addr().port(), cluster().port);
    assert_eq!(
        t.target(),
        ("127.0.0.1", cluster().port),
        "docker's answer is the target"
    );
    assert!(t.dropped().is_none());
    let calls = s.docker_calls();
    assert!(calls.lines().any(|l| l.ends_with("dawarich_db")), "{calls}");
    assert!(
        calls
            .lines()
            .all(|l| l.starts_with("inspect --type container --format ")),
        "only the read-only inspect runs: {calls}"
    );
}

#[tokio::test]
async fn names_the_ssh_host_resolves_and_its_published_loopback_port_need_no_docker() {
    let s = sshd();
    for host in ["localhost", "db_on_host", "127.0.0.1"] {
        let db = works(&via(s, key(s, "ed25519"), s.options(), host)).await;
        assert_eq!(db.tunnel().unwrap().target(), (host, cluster().port));
    }
}

#[tokio::test]
async fn ecdsa_and_rsa_keys_log_in() {
    let s = sshd();
    for k in ["ecdsa", "rsa"] {
        works(&via(s, key(s, k), s.options(), "localhost")).await;
    }
}

#[tokio::test]
async fn an_encrypted_key_needs_its_passphrase() {
    let s = sshd();
    let o = |passphrase: Option<&str>| {
        via(
            s,
            key(s, "encrypted"),
            SshOptions {
                passphrase: passphrase.map(str::to_string),
                ..s.options()
            },
            "localhost",
        )
    };
    let e = fails(&o(None)).await;
    assert!(matches!(e, TunnelError::PassphraseNeeded { .. }), "{e:?}");
    let e = fails(&o(Some("not the passphrase"))).await;
    assert!(matches!(e, TunnelError::WrongPassphrase { .. }), "{e:?}");
    assert!(!format!("{e} {}", e.report().fix).contains("not the passphrase"));
    works(&o(Some(PASSPHRASE))).await;
}

#[tokio::test]
async fn the_agent_logs_in_with_the_first_key_the_server_accepts() {
    let s = sshd();
    let agent = Agent::start(s);
    let o = || {
        via(
            s,
            SshAuth::Agent,
            SshOptions {
                agent_socket: Some(agent.socket.clone()),
                ..s.options()
            },
            "localhost",
        )
    };
    let e = fails(&o()).await;
    assert!(
        matches!(&e, TunnelError::Agent { detail } if detail.contains("no keys")),
        "{e:?}"
    );
    agent.add(&s.key("stranger"));
    agent.add(&s.key("rsa"));
    works(&o()).await;
    let e = fails(&via(s, SshAuth::Agent, s.options(), "localhost")).await;
    assert!(
        matches!(&e, TunnelError::Agent { detail } if detail.contains("SSH_AUTH_SOCK")),
        "{e:?}"
    );
}

#[tokio::test]
async fn password_login_and_a_wrong_or_missing_password() {
    let s = sshd();
    let o = |pw: Option<String>| {
        via(
            s,
            SshAuth::Password,
            SshOptions {
                password: pw,
                ..s.options()
            },
            "dawarich_db",
        )
    };
    works(&o(Some(Sshd::password()))).await;
    let e = fails(&o(Some("wrong-secret".into()))).await;
    assert!(
        matches!(&e, TunnelError::AuthFailed { method, .. } if method == "a password"),
        "{e:?}"
    );
    let r = e.report();
    assert_eq!(r.kind, ErrorKind::Ssh);
    assert!(
        !format!("{} {}", r.message, r.fix).contains("wrong-secret"),
        "secrets never appear in errors"
    );
    let e = fails(&o(None)).await;
    assert!(matches!(e, TunnelError::PasswordNeeded { .. }), "{e:?}");
}

#[tokio::test]
async fn a_key_the_server_does_not_know_is_refused() {
    let s = sshd();
    let e = fails(&via(s, key(s, "stranger"), s.options(), "localhost")).await;
    match &e {
        TunnelError::AuthFailed { method, accepted, addr } => {
            assert!(method.contains("stranger"), "{method}");
            assert!(
                accepted.contains("publickey") && accepted.contains("password"),
                "{accepted}"
            );
            assert_eq!(addr, &format!("{USER}@127.0.0.1:{}", s.port));
        }
        other => panic!("{other:?}"),
    }
    assert!(e.report().fix.contains("authorized_keys"));
    let e = fails(&via(
        s,
        SshAuth::Key {
            path: "/nonexistent/id_ed25519".into(),
        },
        s.options(),
        "localhost",
    ))
    .await;
    assert!(matches!(e, TunnelError::KeyFile { .. }), "{e:?}");
}

#[tokio::test]
async fn an_unknown_host_key_is_refused_until_the_user_trusts_its_fingerprint() {
    let s = sshd();
    let mut ssh = SshOptions {
        known_hosts: vec![],
        ..s.options()
    };
    let e = fails(&via(s, key(s, "ed25519"), ssh.clone(), "localhost")).await;
    let fingerprint = match &e {
        TunnelError::HostKeyUnknown {
            fingerprint, algorithm, ..
        } => {
            assert_eq!(algorithm, "ssh-ed25519");
            fingerprint.clone()
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(fingerprint, s.host_fingerprint());
    assert_eq!(e.report().kind, ErrorKind::HostKeyUnknown);
    assert!(!ssh.trusted_hosts.exists());
    // confirming another fingerprint trusts nothing
    ssh.accept_host_key = Some("SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU".into());
    assert!(matches!(
        fails(&via(s, key(s, "ed25519"), ssh.clone(), "localhost")).await,
        TunnelError::HostKeyUnknown { .. }
    ));
    ssh.accept_host_key = Some(fingerprint);
    works(&via(s, key(s, "ed25519"), ssh.clone(), "localhost")).await;
    let stored = std::fs::read_to_string(&ssh.trusted_hosts).unwrap();
    assert!(
        stored.contains(&format!("[127.0.0.1]:{} {}", s.port, s.host_key())),
        "{stored}"
    );
    // remembered
    ssh.accept_host_key = None;
    works(&via(s, key(s, "ed25519"), ssh, "localhost")).await;
}

#[tokio::test]
async fn a_changed_host_key_is_refused_with_a_warning() {
    let s = sshd();
    let other = std::fs::read_to_string(format!("{}.pub", s.key("stranger"))).unwrap();
    let other: String = other.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
    let known = s.known_hosts_with(&[format!("# recorded long ago\n[127.0.0.1]:{} {other}", s.port)]);
    // even a confirmation of the new fingerprint does not override a recorded key
    let ssh = SshOptions {
        known_hosts: vec![known.clone()],
        accept_host_key: Some(s.host_fingerprint()),
        ..s.options()
    };
    let e = fails(&via(s, key(s, "ed25519"), ssh.clone(), "localhost")).await;
    match &e {
        TunnelError::HostKeyChanged {
            fingerprint,
            file,
            line,
            ..
        } => {
            assert_eq!(fingerprint, &s.host_fingerprint());
            assert_eq!((file.as_str(), *line), (known.to_str().unwrap(), 1));
        }
        other => panic!("{other:?}"),
    }
    let r = e.report();
    assert_eq!(r.kind, ErrorKind::HostKeyChanged);
    assert!(
        r.message.contains("CHANGED") && r.fix.contains("ssh-keygen -R"),
        "{r:?}"
    );
    assert!(!ssh.trusted_hosts.exists());
}

#[tokio::test]
async fn an_unreachable_ssh_server_is_named_as_such() {
    let s = sshd();
    let mut o = via(s, key(s, "ed25519"), s.options(), "localhost");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    o.profile.ssh.as_mut().unwrap().port = port;
    let e = fails(&o).await;
    assert!(
        matches!(&e, TunnelError::Unreachable { detail, .. } if detail.contains("connection refused")),
        "{e:?}"
    );
    assert_eq!(e.report().kind, ErrorKind::Ssh);
    assert!(e.report().fix.contains("sshd"));
}

#[tokio::test]
async fn a_database_the_ssh_host_cannot_find_is_explained() {
    let s = sshd();
    let e = fails(&via(s, key(s, "ed25519"), s.options(), "locked_db")).await;
    assert!(
        matches!(&e, TunnelError::DockerUnavailable { detail, .. } if detail.contains("permission denied")),
        "{e:?}"
    );
    assert!(e.report().fix.contains("docker"));
    let e = fails(&via(s, key(s, "ed25519"), s.options(), "missing_db")).await;
    assert!(
        matches!(&e, TunnelError::TargetUnreachable { detail, .. } if detail.contains("no container")),
        "{e:?}"
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut o = via(s, key(s, "ed25519"), s.options(), "127.0.0.1");
    o.profile.port = closed;
    let e = fails(&o).await;
    assert!(matches!(e, TunnelError::TargetUnreachable { .. }), "{e:?}");
}

#[tokio::test]
async fn database_errors_behind_the_tunnel_keep_their_meaning() {
    let s = sshd();
    let mut o = via_db(s, key(s, "ed25519"), s.options(), "dawarich_db", "dawarich_devlopment");
    match connect(&o).await {
        Err(ConnectError::DatabaseMissing { others, .. }) => assert!(others.contains("template_postgis"), "{others}"),
        other => panic!("{:?}", other.map(|_| ())),
    }
    o.profile.database = "postgres".into();
    o.password = Some("not-the-password".into());
    assert!(matches!(connect(&o).await, Err(ConnectError::Auth { .. })));
}

#[tokio::test]
async fn the_tunnel_closes_with_the_connection() {
    let s = tokio::task::spawn_blocking(Sshd::start).await.unwrap();
    let db = works(&via(&s, key(&s, "ed25519"), s.options(), "dawarich_db")).await;
    let local = db.tunnel().unwrap().local_addr();
    assert!(!s.session_pids().is_empty());
    drop(db);
    let deadline = Instant::now() + Duration::from_secs(5);
    while (tokio::net::TcpStream::connect(local).await.is_ok() || !s.session_pids().is_empty())
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        tokio::net::TcpStream::connect(local).await.is_err(),
        "the local end still listens"
    );
    assert!(s.session_pids().is_empty(), "the SSH session is still open");
}

#[tokio::test]
async fn a_link_dying_mid_query_fails_clearly_and_a_rerun_works() {
    let s = tokio::task::spawn_blocking(Sshd::start).await.unwrap();
    let o = via(&s, key(&s, "ed25519"), s.options(), "dawarich_db");
    let db = works(&o).await;
    let sessions = s.session_pids();
    assert!(!sessions.is_empty());
    let started = Instant::now();
    let freeze = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        // The server side of our connection stops answering, as when the network goes away.
        for pid in &sessions {
            // SAFETY: kill has no memory preconditions; the pids are our sshd's children.
            unsafe { libc::kill(*pid, libc::SIGSTOP) };
        }
    };
    let (result, ()) = tokio::join!(db.query_one("SELECT pg_sleep(60)", &[]), freeze);
    let err = result.expect_err("the query cannot finish over a dead link");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "keepalives found the dead link late: {:?}",
        started.elapsed()
    );
    let report = dawarich_doctor::Error::Db(err).report();
    assert!(report.fix.contains("run the command again"), "{report:?}");
    let dropped = db.tunnel().unwrap().dropped().expect("the tunnel knows it dropped");
    assert!(
        matches!(&dropped, TunnelError::Dropped { reason, .. } if reason.contains("keepalive")),
        "{dropped:?}"
    );
    assert!(dropped.report().fix.contains("run the command again"));
    for pid in &sessions {
        // SAFETY: as above.
        unsafe { libc::kill(*pid, libc::SIGKILL) };
    }
    drop(db);
    let db = works(&o).await;
    db.query_one("SELECT pg_sleep(0.1)", &[]).await.unwrap();
}
