//! The CLI binary: exit codes, stderr messages, JSON shape.

use std::process::{Command, Stdio};

use dawarich_doctor_testkit::shared::{cluster, dawarich_db};

/// Runs the CLI with a home of its own (backups go to its Documents folder) and no `docker`.
fn doctor(args: &[&str]) -> std::process::Output {
    doctor_with_docker(args, None)
}

/// The same, with the docker double's `bin` first on PATH when given.
fn doctor_with_docker(args: &[&str], docker: Option<&std::path::Path>) -> std::process::Output {
    let home = std::env::temp_dir().join(format!("dawarich-doctor-cli-home-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let path = match docker {
        Some(bin) => {
            std::env::join_paths(std::iter::once(bin.to_path_buf()).chain(std::env::split_paths(&path))).unwrap()
        }
        None => path,
    };
    Command::new(env!("CARGO_BIN_EXE_dawarich-doctor"))
        .args(args)
        .env_remove("DAWARICH_DOCTOR_URL")
        .env_remove("XDG_DOCUMENTS_DIR")
        .env("PATH", path)
        .env("HOME", &home)
        .output()
        .unwrap()
}

#[test]
fn connection_errors_exit_2_with_the_fix_on_stderr() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = doctor(&[
        "diagnose",
        "--url",
        &format!("postgres://postgres:secret@127.0.0.1:{port}/x"),
    ]);
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

/// A URL to a port nothing listens on: a command that tried to connect would say so.
fn closed_port_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("postgres://postgres:secret@127.0.0.1:{port}/x")
}

/// Runs the CLI and answers its stderr, checked to be a usage error (exit 2) that never tried to
/// connect.
fn refused_before_connecting(args: &[&str]) -> String {
    let url = closed_port_url();
    let out = doctor(&[args, &["--url", &url]].concat());
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.to_lowercase().contains("connect"), "{err}");
    assert!(!err.contains("secret"), "{err}");
    assert!(out.stdout.is_empty());
    err
}

#[test]
fn an_unknown_release_is_refused_before_connecting_with_the_known_ones() {
    for args in [
        &["plan", "--to", "1.7.9"][..],
        &["upgrade", "--to", "1.7.9"],
        &["verify", "--release", "1.7.9"],
    ] {
        let err = refused_before_connecting(args);
        assert!(err.contains("\"1.7.9\""), "{err}");
        assert!(err.contains("1.7.0, 1.7.1, 1.7.2, 1.7.3, 1.7.4, 1.7.5"), "{err}");
    }
    let err = refused_before_connecting(&["plan", "--to", "latest"]);
    assert!(err.contains("\"latest\"") && err.contains("1.7.5"), "{err}");
}

#[test]
fn an_unknown_or_unrepairable_check_is_refused_before_connecting_with_the_repairable_ones() {
    let err = refused_before_connecting(&["repair", "--check", "points-everywhere"]);
    assert!(err.contains("unknown check \"points-everywhere\""), "{err}");
    assert!(
        err.contains("points-without-user") && err.contains("duplicate-stats"),
        "{err}"
    );
    let err = refused_before_connecting(&["repair", "--check", "blocking-sessions"]);
    assert!(err.contains("check \"blocking-sessions\" has no repair"), "{err}");
    assert!(err.contains("repairable checks: points-without-user"), "{err}");
}

#[test]
fn a_closed_pipe_ends_quietly() {
    // the reader is gone before the first write, as with `dawarich-doctor releases | head -0`
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_dawarich-doctor"))
        .arg("releases")
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
async fn diagnose_json_has_the_documented_fields_and_exit_1_on_problems() {
    // 0.9.11: AddOwntracksPointsData, which fails on ownerless points, is still pending
    let (name, db) = dawarich_db("0.9.11", 1, 20).await;
    dawarich_doctor_testkit::fixtures::orphan_points(&db, 2).await.unwrap();
    let url = cluster().url(&name);
    let out = tokio::task::spawn_blocking(move || doctor(&["diagnose", "--json", "--url", &url]))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["lock"]["held"], false);
    assert!(v["lock"]["holders"].as_array().unwrap().is_empty());
    assert_eq!(v["dawarich"]["release"], "0.9.11");
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
    let out = tokio::task::spawn_blocking(move || {
        doctor(&["diagnose", "--color", "never", "--env-file", env.to_str().unwrap()])
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("release 1.7.5"), "{text}");
    assert!(text.contains("Migration lock free"), "{text}");
}

#[tokio::test]
async fn plan_upgrade_and_verify_from_the_command_line() {
    let (name, _db) = dawarich_db("0.25.0", 1, 50).await;
    let url = cluster().url(&name);
    let (plan, up, verify, again) = tokio::task::spawn_blocking(move || {
        let plan = doctor(&["plan", "--json", "--url", &url]);
        let up = doctor(&[
            "upgrade",
            "--yes",
            "--dawarich-stopped",
            "--color",
            "never",
            "--url",
            &url,
        ]);
        let verify = doctor(&["verify", "--url", &url]);
        let again = doctor(&["plan", "--json", "--url", &url]);
        (plan, up, verify, again)
    })
    .await
    .unwrap();
    assert_eq!(plan.status.code(), Some(0), "{}", String::from_utf8_lossy(&plan.stderr));
    let v: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    // 0.25.0 – 0.25.3 ship the same migrations: the newest of them is reported
    assert_eq!(v["fromRelease"], "0.25.3");
    assert!(v["steps"].as_array().unwrap().len() > 50);
    assert_eq!(
        up.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&up.stdout),
        String::from_utf8_lossy(&up.stderr)
    );
    assert!(String::from_utf8_lossy(&up.stdout).contains("Upgrade finished"));
    let err = String::from_utf8_lossy(&up.stderr);
    assert!(
        err.contains("Dawarich is stopped: indexes are built without CONCURRENTLY"),
        "{err}"
    );
    let text = String::from_utf8_lossy(&verify.stdout);
    assert_eq!(verify.status.code(), Some(0), "{text}");
    assert!(text.contains("exactly what 1.7.5 expects"), "{text}");
    // 0.25.0's schema.rb leaked a unique index that no migration ever dropped: reported, kept
    assert!(text.contains("index_places_on_name_and_lonlat"), "{text}");
    let v: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert!(v["steps"].as_array().unwrap().iter().all(|s| s["version"].is_null()));
}

#[tokio::test]
async fn upgrade_without_yes_and_without_a_terminal_changes_nothing() {
    let (name, db) = dawarich_db("0.25.0", 1, 10).await;
    let url = cluster().url(&name);
    let out = tokio::task::spawn_blocking(move || doctor(&["upgrade", "--url", &url]))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    let ours: bool = db
        .query_one("SELECT to_regnamespace('dawarich_doctor') IS NULL", &[])
        .await
        .unwrap()
        .get(0);
    assert!(ours);
}

#[tokio::test]
async fn containers_and_the_upgrade_on_this_docker_host() {
    use dawarich_doctor_testkit::docker::DockerDouble;
    let (name, _db) = dawarich_db("1.7.2", 1, 30).await;
    let url = cluster().url(&name);
    let double = DockerDouble::stock(cluster().port, &name, "1.7.5");
    let bin = double.bin_dir().to_path_buf();
    // the app image is 1.7.5 and the database 1.7.2: the app crash-loops on the pending migrations
    double.run(&["start", "dawarich_app"]);
    double.wait_until(
        "dawarich_app",
        "the app crash-loops",
        std::time::Duration::from_secs(30),
        |c| c.restart_count >= 1,
    );
    let (status, up) = tokio::task::spawn_blocking(move || {
        let status = doctor_with_docker(&["containers", "status", "--json", "--url", &url], Some(&bin));
        let up = doctor_with_docker(&["upgrade", "--yes", "--color", "never", "--url", &url], Some(&bin));
        (status, up)
    })
    .await
    .unwrap();
    assert_eq!(
        status.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(v["containers"][0]["role"], "app");
    assert_eq!(v["containers"][0]["name"], "dawarich_app");
    assert_eq!(v["containers"][0]["release"], "1.7.5");
    assert!(v["containers"][0]["restartCount"].as_u64().unwrap() >= 1, "{v}");
    assert_eq!(v["containers"][2]["role"], "database");
    let (out, err) = (String::from_utf8_lossy(&up.stdout), String::from_utf8_lossy(&up.stderr));
    assert_eq!(up.status.code(), Some(0), "{out}{err}");
    assert!(
        err.contains("The app image holds Dawarich 1.7.5: upgrading to it."),
        "{err}"
    );
    assert!(
        out.contains("Backup written:") && out.contains("docker exec -i dawarich_db pg_restore"),
        "{out}"
    );
    assert!(out.contains("Dawarich 1.7.5 is up"), "{out}");
    assert!(err.contains("$ docker stop dawarich_sidekiq dawarich_app"), "{err}");
    // stopped by the upgrade itself: indexes are built plain
    assert!(
        err.contains("Dawarich is stopped: indexes are built without CONCURRENTLY"),
        "{err}"
    );
    let app = double.get("dawarich_app");
    assert_eq!(
        (app.state.as_str(), app.health.as_deref()),
        ("running", Some("healthy"))
    );
}

#[tokio::test]
async fn watch_fixes_duplicates_and_sees_dawarich_up() {
    use dawarich_doctor_testkit::docker::{future, DockerDouble};
    let (name, db) = dawarich_db("1.7.5", 1, 40).await;
    db.batch_execute(
        "UPDATE points SET \"timestamp\" = (SELECT min(\"timestamp\") FROM points) WHERE id = (SELECT max(id) FROM points)",
    )
    .await
    .unwrap();
    let url = cluster().url(&name);
    let double =
        DockerDouble::stock(cluster().port, &name, "1.7.5").with_future_release("9.0.0", &future::workspace_dir());
    let bin = double.bin_dir().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        doctor_with_docker(
            &[
                "watch",
                "--start",
                "--fix",
                "--yes",
                "--timeout",
                "120",
                "--color",
                "never",
                "--url",
                &url,
            ],
            Some(&bin),
        )
    })
    .await
    .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stderr.contains("PG::UniqueViolation") && stderr.contains("Fixed (run"),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 rows quarantined, index index_points_on_user_timestamp_future dropped"),
        "{stderr}"
    );
    assert!(stdout.contains("Dawarich is up"), "{stdout}");
    assert_eq!(double.get("dawarich_app").health.as_deref(), Some("healthy"));
}

#[tokio::test]
async fn upgrade_via_dawarich_backs_up_and_watches_a_release_the_catalog_does_not_know() {
    use dawarich_doctor_testkit::docker::{future, DockerDouble};
    let (name, _db) = dawarich_db("1.7.5", 1, 40).await;
    let url = cluster().url(&name);
    let double =
        DockerDouble::stock(cluster().port, &name, "1.7.5").with_future_release("9.0.0", &future::workspace_dir());
    let bin = double.bin_dir().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        doctor_with_docker(
            &["upgrade", "--via-dawarich", "--yes", "--color", "never", "--url", &url],
            Some(&bin),
        )
    })
    .await
    .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("Backup written:"), "{stdout}");
    assert!(
        stdout.contains(
            "4 versions recorded while watching: 20270101000001, 20270101000002, 20270101000003, 20270101000004"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("Dawarich is up"), "{stdout}");
    assert!(stderr.contains("20270101000002 BackfillDoctorFutureNote"), "{stderr}");
}

#[tokio::test]
async fn watch_without_a_docker_host_follows_the_database_only() {
    let (name, _db) = dawarich_db("1.7.5", 1, 5).await;
    let url = cluster().url(&name);
    let (watched, started) = tokio::task::spawn_blocking(move || {
        (
            doctor(&["watch", "--timeout", "1", "--color", "never", "--url", &url]),
            doctor(&["watch", "--start", "--color", "never", "--url", &url]),
        )
    })
    .await
    .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&watched.stdout),
        String::from_utf8_lossy(&watched.stderr),
    );
    assert_eq!(watched.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stderr.contains("No Docker host:"), "{stderr}");
    assert!(stderr.contains("Watching the database only"), "{stderr}");
    assert!(stdout.starts_with("0 versions recorded while watching"), "{stdout}");
    // starting Dawarich needs the Docker host
    let stderr = String::from_utf8_lossy(&started.stderr);
    assert_eq!(started.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("Watching the database only"), "{stderr}");
}
