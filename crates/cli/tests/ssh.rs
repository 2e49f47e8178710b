//! The CLI through a real OpenSSH server on 127.0.0.1 (dawarich_doctor_testkit::sshd): host-key
//! trust on the command line, a password from standard input.

use std::process::{Command, Stdio};

use dawarich_doctor_testkit::shared::{cluster, dawarich_db};
use dawarich_doctor_testkit::sshd::{Sshd, USER};

/// Runs the CLI with a fresh HOME (no ~/.ssh, no agent) and optional standard input.
async fn doctor(args: Vec<String>, home: std::path::PathBuf, stdin: Option<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dawarich-doctor"))
            .args(&args)
            .env("HOME", &home)
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("SSH_AUTH_SOCK")
            .env_remove("DAWARICH_DOCTOR_URL")
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(text) = stdin {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        }
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn the_cli_diagnoses_through_ssh() {
    let s = Sshd::start();
    let (name, _db) = dawarich_db("1.7.5", 1, 5).await;
    let home = tempfile::tempdir().unwrap();
    let url = format!("postgres://postgres:postgres@dawarich_db:{}/{name}", cluster().port);
    let dest = format!("{USER}@127.0.0.1:{}", s.port);
    let run = |extra: &[&str], stdin: Option<&str>| {
        let mut args: Vec<String> = ["diagnose", "--json", "--url", &url, "--ssh", &dest]
            .iter()
            .map(|a| a.to_string())
            .collect();
        args.extend(extra.iter().map(|a| a.to_string()));
        doctor(args, home.path().to_path_buf(), stdin.map(str::to_string))
    };
    let k = s.key("ed25519");
    let out = run(&["--ssh-key", &k], None).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&s.host_fingerprint()) && err.contains("--ssh-trust-new-host"),
        "{err}"
    );

    let out = run(&["--ssh-key", &k, "--ssh-trust-new-host"], None).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["dawarich"]["release"], "1.7.5");
    assert!(home.path().join(".config/dawarich-doctor/known_hosts").exists());

    // the host is remembered; a password from stdin works too
    let out = run(&["--ssh-password-stdin"], Some(&format!("{}\n", Sshd::password()))).await;
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(&["--ssh-password-stdin"], Some("hunter2-wrong\n")).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("refused the login") && !err.contains("hunter2"), "{err}");
}
