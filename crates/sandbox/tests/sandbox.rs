//! The demo database reproduces the incident the tool exists for.

use dawarich_doctor::connect::{connect, ConnectOptions};
use dawarich_doctor::diagnose::{diagnose, DiagnoseOptions};
use dawarich_doctor::profile::parse_url;
use dawarich_doctor::progress::Silent;

#[tokio::test]
async fn the_sandbox_reproduces_the_incident() {
    let sandbox = dawarich_doctor_sandbox::start(200).await.unwrap();
    let p = parse_url(&sandbox.url).unwrap();
    let db = connect(&ConnectOptions::new(p.profile, p.password)).await.unwrap();
    let d = diagnose(&db, &DiagnoseOptions::default(), &Silent).await.unwrap();
    assert!(d.lock.held);
    assert_eq!(d.lock.holders[0].pid, sandbox.lock_holder.backend_pid);
    assert_eq!(
        d.checks
            .iter()
            .find(|c| c.id.as_str() == "points-without-user")
            .unwrap()
            .count,
        Some(40)
    );
    assert_eq!(
        d.dawarich.release.as_deref(),
        Some(dawarich_doctor_sandbox::DEMO_RELEASE)
    );
    assert!(!d.dawarich.pending_schema.is_empty());
    drop(db);
    tokio::task::spawn_blocking(move || sandbox.stop()).await.unwrap();
}
