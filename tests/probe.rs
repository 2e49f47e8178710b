//! "Test connection" step by step, against a real throwaway server.

mod common;

use common::*;
use dawarich_doctor::probe::probe;
use dawarich_doctor_model::{ErrorKind, ProbeReport, ProbeStatus, ProbeStep, ProbeStepId, SslMode};

fn status(r: &ProbeReport, id: ProbeStepId) -> &ProbeStep {
    r.steps.iter().find(|s| s.id == id).unwrap()
}

async fn run(
    url: &str,
    edit: impl FnOnce(&mut dawarich_doctor::connect::ConnectOptions),
) -> (ProbeReport, Vec<ProbeStepId>) {
    let mut opts = options(url);
    edit(&mut opts);
    let seen = std::sync::Mutex::new(Vec::new());
    let r = probe(&opts, &|s: &ProbeStep| seen.lock().unwrap().push(s.id)).await;
    (r, seen.into_inner().unwrap())
}

#[tokio::test]
async fn every_step_passes_on_a_dawarich_database_and_streams_in_order() {
    let (name, _db) = dawarich_db("1.3.1", 1, 10).await;
    let (r, seen) = run(&cluster().url(&name), |_| {}).await;
    assert!(r.ok, "{r:#?}");
    assert_eq!(
        seen,
        ProbeStepId::ALL.to_vec(),
        "each step is reported as it finishes, in order"
    );
    assert_eq!(status(&r, ProbeStepId::Tcp).status, ProbeStatus::Ok);
    let tls = status(&r, ProbeStepId::Tls);
    assert_eq!(
        tls.status,
        ProbeStatus::Warning,
        "the throwaway server has no TLS and sslmode is prefer"
    );
    assert!(tls.detail.contains("not encrypted"));
    assert!(status(&r, ProbeStepId::Authentication).detail.contains("superuser"));
    assert!(status(&r, ProbeStepId::Postgis).detail.starts_with("PostGIS 3"));
    let d = status(&r, ProbeStepId::Dawarich);
    assert!(
        d.detail.starts_with("Dawarich 1.3.1") && d.detail.contains("pending"),
        "{}",
        d.detail
    );
}

#[tokio::test]
async fn a_wrong_password_fails_authentication_and_skips_the_rest() {
    let (name, _db) = dawarich_db("0.9.12", 0, 0).await;
    let (r, _) = run(&cluster().url_as("postgres", "wrong", &name), |_| {}).await;
    assert!(!r.ok);
    let a = status(&r, ProbeStepId::Authentication);
    assert_eq!(a.status, ProbeStatus::Failed);
    assert_eq!(a.error.as_ref().unwrap().kind, ErrorKind::AuthenticationFailed);
    assert!(!a.error.as_ref().unwrap().fix.is_empty());
    assert_eq!(status(&r, ProbeStepId::Postgis).status, ProbeStatus::Skipped);
    assert_eq!(status(&r, ProbeStepId::Dawarich).status, ProbeStatus::Skipped);
}

#[tokio::test]
async fn a_closed_port_fails_at_tcp() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (r, seen) = run(&format!("postgres://postgres:x@127.0.0.1:{port}/d"), |_| {}).await;
    let t = status(&r, ProbeStepId::Tcp);
    assert_eq!(
        (t.status, t.error.as_ref().unwrap().kind),
        (ProbeStatus::Failed, ErrorKind::ConnectionRefused)
    );
    assert_eq!(seen.len(), 5);
    assert!(r.steps[1..].iter().all(|s| s.status == ProbeStatus::Skipped));
}

#[tokio::test]
async fn tls_required_on_a_server_without_tls_fails_at_the_tls_step() {
    let (name, _db) = dawarich_db("0.9.12", 0, 0).await;
    let (r, _) = run(&cluster().url(&name), |o| o.profile.sslmode = SslMode::Require).await;
    let t = status(&r, ProbeStepId::Tls);
    assert_eq!(
        (t.status, t.error.as_ref().unwrap().kind),
        (ProbeStatus::Failed, ErrorKind::Tls)
    );
    assert_eq!(status(&r, ProbeStepId::Authentication).status, ProbeStatus::Skipped);
}

#[tokio::test]
async fn a_database_that_is_not_dawarich_fails_at_the_last_step() {
    let name = new_db("plain", true).await;
    let (r, _) = run(&cluster().url(&name), |_| {}).await;
    assert_eq!(status(&r, ProbeStepId::Authentication).status, ProbeStatus::Ok);
    let d = status(&r, ProbeStepId::Dawarich);
    assert_eq!(
        (d.status, d.error.as_ref().unwrap().kind),
        (ProbeStatus::Failed, ErrorKind::NotDawarich)
    );
    let name = new_db("nogis", false).await;
    let (r, _) = run(&cluster().url(&name), |_| {}).await;
    assert_eq!(
        status(&r, ProbeStepId::Postgis).status,
        ProbeStatus::Warning,
        "installable but not installed"
    );
}
