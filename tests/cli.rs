//! The CLI binary: exit codes, stderr messages, JSON shape.

mod common;

use std::process::Command;

use common::*;

fn doctor(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dawarich-doctor")).args(args).env_remove("DAWARICH_DOCTOR_URL").output().unwrap()
}

#[test]
fn connection_errors_exit_2_with_the_fix_on_stderr() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = doctor(&["diagnose", "--url", &format!("postgres://postgres:secret@127.0.0.1:{port}/x")]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("connection refused") && err.contains("fix:"), "{err}");
    assert!(!err.contains("secret"));
    assert!(out.stdout.is_empty());
}

#[test]
fn a_bad_url_is_a_clear_error() {
    let out = doctor(&["diagnose", "--url", "mysql://u:pw@h/d"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a PostgreSQL URL"));
}

#[tokio::test]
async fn diagnose_json_has_the_documented_fields_and_exit_1_on_problems() {
    let (name, db) = dawarich_db("0.11.1", 1, 20).await;
    dawarich_doctor::fixtures::orphan_points(&db, 2).await.unwrap();
    let url = cluster().url(&name);
    let out = tokio::task::spawn_blocking(move || doctor(&["diagnose", "--json", "--url", &url])).await.unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["lock"]["held"], false);
    assert!(v["lock"]["holders"].as_array().unwrap().is_empty());
    assert_eq!(v["dawarich"]["release"], "0.11.1");
    let checks = v["checks"].as_array().unwrap();
    let orphan = checks.iter().find(|c| c["id"] == "points-without-user").unwrap();
    assert_eq!(orphan["count"], 2);
}

#[tokio::test]
async fn diagnose_from_a_dawarich_env_file() {
    let (name, _db) = dawarich_db("1.7.5", 1, 5).await;
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join(".env");
    std::fs::write(&env, format!("DATABASE_HOST=127.0.0.1\nDATABASE_PORT={}\nDATABASE_USERNAME=postgres\nDATABASE_PASSWORD=postgres\nDATABASE_NAME={name}\n", cluster().port)).unwrap();
    let out = tokio::task::spawn_blocking(move || doctor(&["diagnose", "--color", "never", "--env-file", env.to_str().unwrap()])).await.unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("release 1.7.5"), "{text}");
    assert!(text.contains("Migration lock free"), "{text}");
}
