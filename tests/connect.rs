//! Every connection error path against real servers: each gets its own kind, message and fix.

mod common;

use std::time::Duration;

use common::*;
use dawarich_doctor::connect::{connect, ConnectError, ConnectOptions};
use dawarich_doctor_model::ErrorKind;
use dawarich_doctor_testkit::cluster::{Cluster, ClusterOptions};

async fn fails(opts: ConnectOptions) -> ConnectError {
    match connect(&opts).await {
        Ok(_) => panic!("connected although it should fail: {opts:?}"),
        Err(e) => e,
    }
}

fn with(url: &str, f: impl FnOnce(&mut ConnectOptions)) -> ConnectOptions {
    let mut o = options(url);
    f(&mut o);
    o
}

#[tokio::test]
async fn wrong_password_is_an_authentication_failure() {
    let url = cluster().url_as("postgres", "not-the-password", "postgres");
    let e = fails(options(&url)).await;
    assert!(matches!(e, ConnectError::Auth { .. }), "{e:?}");
    assert_eq!(e.report().kind, ErrorKind::AuthenticationFailed);
    assert!(
        !e.report().message.contains("not-the-password"),
        "the password must never appear in errors"
    );
}

#[tokio::test]
async fn missing_password_is_named() {
    let url = format!("postgres://postgres@127.0.0.1:{}/postgres", cluster().port);
    let e = fails(options(&url)).await;
    assert!(matches!(e, ConnectError::NoPassword { .. }), "{e:?}");
}

#[tokio::test]
async fn a_closed_port_is_connection_refused() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let e = fails(options(&format!("postgres://postgres:x@127.0.0.1:{port}/postgres"))).await;
    assert!(matches!(e, ConnectError::Refused { .. }), "{e:?}");
    assert!(e.report().fix.contains("publish"));
}

#[tokio::test]
async fn an_unknown_host_is_a_dns_failure() {
    let e = fails(options("postgres://postgres:x@dawarich-db.invalid:5432/postgres")).await;
    assert!(matches!(e, ConnectError::Dns { .. }), "{e:?}");
    assert_eq!(e.report().kind, ErrorKind::DnsFailure);
}

#[tokio::test]
async fn a_silent_server_times_out() {
    // accepts TCP and never answers
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let o = with(
        &format!("postgres://postgres:x@127.0.0.1:{port}/postgres?sslmode=disable"),
        |o| o.connect_timeout = Duration::from_secs(1),
    );
    let e = fails(o).await;
    assert!(matches!(e, ConnectError::Timeout { .. }), "{e:?}");
    hold.abort();
}

#[tokio::test]
async fn a_missing_database_lists_the_existing_ones() {
    let e = fails(options(&cluster().url("dawarich_devlopment"))).await;
    match &e {
        ConnectError::DatabaseMissing { database, others } => {
            assert_eq!(database, "dawarich_devlopment");
            assert!(others.contains("template_postgis"), "{others}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn tls_required_but_the_server_has_none() {
    let e = fails(options(&format!("{}?sslmode=require", cluster().url("postgres")))).await;
    assert!(matches!(e, ConnectError::Tls { .. }), "{e:?}");
    assert!(e.to_string().contains("does not offer TLS"), "{e}");
    // prefer falls back to plain text
    connect(&options(&format!("{}?sslmode=prefer", cluster().url("postgres"))))
        .await
        .unwrap();
}

struct Pki {
    ca_pem: String,
    dir: tempfile::TempDir,
}

/// A CA and a server certificate for `localhost` signed by it.
fn pki() -> (Pki, String, String) {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "test CA");
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    let dir = tempfile::tempdir().unwrap();
    (Pki { ca_pem: ca.pem(), dir }, cert.pem(), key.serialize_pem())
}

#[tokio::test]
async fn verify_modes_against_a_tls_server() {
    let (pki, cert, key) = pki();
    let tls = tokio::task::spawn_blocking(move || {
        Cluster::start(&ClusterOptions {
            tls: Some((cert, key)),
            ..Default::default()
        })
        .unwrap()
    })
    .await
    .unwrap();
    let ca_file = pki.dir.path().join("ca.pem");
    std::fs::write(&ca_file, &pki.ca_pem).unwrap();
    let by_ip = tls.url("postgres");
    let by_name = by_ip.replace("127.0.0.1", "localhost");

    // require encrypts without verifying: works with the self-signed chain
    connect(&options(&format!("{by_ip}?sslmode=require"))).await.unwrap();
    // verify-full without our CA: the chain check fails
    let e = fails(options(&format!("{by_name}?sslmode=verify-full"))).await;
    assert!(
        matches!(&e, ConnectError::Tls { detail, .. } if detail.contains("not signed by a trusted CA")),
        "{e:?}"
    );
    assert!(e.report().fix.contains("--ca-file"));
    // with the CA, verify-full works for the certificate's name …
    let ca = ca_file.display().to_string();
    connect(&with(&format!("{by_name}?sslmode=verify-full"), |o| {
        o.profile.ca_file = Some(ca.clone())
    }))
    .await
    .unwrap();
    // … and fails for another one (the host name check), while verify-ca accepts it
    let e = fails(with(&format!("{by_ip}?sslmode=verify-full"), |o| {
        o.profile.ca_file = Some(ca.clone())
    }))
    .await;
    assert!(
        matches!(&e, ConnectError::Tls { detail, .. } if detail.contains("host name")),
        "{e:?}"
    );
    connect(&with(&format!("{by_ip}?sslmode=verify-ca"), |o| {
        o.profile.ca_file = Some(ca.clone())
    }))
    .await
    .unwrap();
    // the connection really is encrypted
    let db = connect(&options(&format!("{by_ip}?sslmode=require"))).await.unwrap();
    let ssl: bool = db
        .query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    assert!(ssl);
    drop(db);
    tokio::task::spawn_blocking(move || tls.stop()).await.unwrap();
}

#[tokio::test]
async fn a_read_only_replica_is_refused() {
    let standby = tokio::task::spawn_blocking(|| cluster().start_standby().unwrap())
        .await
        .unwrap();
    let e = fails(options(&standby.url("postgres"))).await;
    assert!(matches!(e, ConnectError::ReadOnlyReplica), "{e:?}");
    assert!(e.report().fix.contains("primary"));
    tokio::task::spawn_blocking(move || standby.stop()).await.unwrap();
}

#[tokio::test]
async fn our_sessions_have_keepalives_and_our_application_name() {
    let db = connect_url(&cluster().url("postgres")).await;
    let r = db
        .query_one(
            "SELECT application_name, client_port FROM pg_stat_activity WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.get::<_, String>(0), "dawarich-doctor");
    // the kernel shows a keepalive timer on our end of the socket (idle 30 s)
    let port: i32 = r.get(1);
    let out = std::process::Command::new("ss")
        .args(["-tno", "state", "established"])
        .arg(format!("( sport = :{port} )"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("timer:(keepalive"), "{text}");
}
