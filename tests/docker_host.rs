//! The Docker host against the docker double (dawarich_doctor_testkit::docker) behind a real OpenSSH
//! server: the install found and its status, backups through the SSH channel that restore to an
//! equal database, a link dropped mid-backup, quoting, docker's own failures, and the incident
//! upgraded end to end with the containers stopped and started around it.

mod common;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use common::*;
use dawarich_doctor::backup;
use dawarich_doctor::connect::connect;
use dawarich_doctor::containers::find;
use dawarich_doctor::diagnose::{diagnose, DiagnoseOptions};
use dawarich_doctor::docker::DockerError;
use dawarich_doctor::locks::{migration_lock_key, release, ReleaseOptions};
use dawarich_doctor::migrate::{upgrade_on_host, OnHost, UpgradeOptions};
use dawarich_doctor::progress::{Cancel, ProgressEvent, Silent};
use dawarich_doctor::repair::{repair, RepairOptions};
use dawarich_doctor_model::{CheckId, ContainerRole, ErrorKind, StrategyId};
use dawarich_doctor_testkit::docker::DockerDouble;
use dawarich_doctor_testkit::sshd::Sshd;

fn temp_dir(name: &str) -> PathBuf {
    static N: OnceLock<PathBuf> = OnceLock::new();
    let base = N.get_or_init(|| {
        tempfile::Builder::new()
            .prefix("dawarich-doctor-backups-")
            .tempdir()
            .unwrap()
            .keep()
    });
    let d = base.join(name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[tokio::test]
async fn the_install_is_found_with_state_release_and_environment() {
    let (name, _db) = dawarich_db("1.7.5", 1, 10).await;
    let double = DockerDouble::stock(cluster().port, &name, "1.7.5");
    let sshd = Sshd::start_with_path(double.bin_dir());
    let db = connect(&via_ssh(&sshd, &name)).await.unwrap();
    let install = find(&db).await.unwrap();
    assert_eq!(
        (install.app.as_str(), install.sidekiq.as_deref(), install.db.as_deref()),
        ("dawarich_app", Some("dawarich_sidekiq"), Some("dawarich_db"))
    );
    let s = install.status().await.unwrap();
    let app = s.container(ContainerRole::App).unwrap();
    assert_eq!((app.state.as_str(), app.release.as_deref()), ("exited", Some("1.7.5")));
    assert_eq!(s.container(ContainerRole::Database).unwrap().state, "running");
    let env = install.app_environment().await.unwrap();
    assert_eq!(env["DATABASE_NAME"], name);
    assert_eq!(env["TIME_ZONE"], "Europe/London");
    // a renamed install is found by its image and compose labels
    double.rename("dawarich_app", "home-dawarich-app-1");
    let renamed = find(&db).await.unwrap();
    assert_eq!(renamed.app, "home-dawarich-app-1");
}

#[tokio::test]
async fn a_backup_through_ssh_restores_to_an_equal_database() {
    let (name, db) = dawarich_db("1.7.5", 2, 300).await;
    db.batch_execute("CREATE SCHEMA other; CREATE TABLE other.\"odd name's\" (v text); INSERT INTO other.\"odd name's\" VALUES ('x')")
        .await
        .unwrap();
    let double = DockerDouble::stock(cluster().port, &name, "1.7.5");
    let sshd = Sshd::start_with_path(double.bin_dir());
    let path = temp_dir("equal").join("b.dump");
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let progress = move |e: ProgressEvent| seen.lock().unwrap().push(e);
    let b = backup::run(&via_ssh(&sshd, &name), Some(path.clone()), &progress)
        .await
        .unwrap();
    assert_eq!(b.path, path.display().to_string());
    assert!(path.exists() && !path.with_extension("dump.part").exists());
    assert!(b.tables >= 30, "{b:?}");
    assert!(b
        .restore_command
        .starts_with("docker exec -i dawarich_db pg_restore --clean --if-exists -U postgres -d "));
    // pg_dump ran in the database container, through the SSH session
    assert!(double
        .calls()
        .iter()
        .any(|c| c[..4] == ["exec", "-i", "dawarich_db", "pg_dump"]));
    assert!(events
        .lock()
        .unwrap()
        .iter()
        .any(|e| matches!(e, ProgressEvent::Transfer { bytes, .. } if *bytes > 0)));
    // restored into a fresh database, every table is equal
    let copy = new_db("restored", false).await;
    let out = std::process::Command::new(cluster().bin().join("pg_restore"))
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &cluster().port.to_string(),
            "-U",
            "postgres",
            "-d",
            &copy,
        ])
        .arg(&path)
        .env("PGPASSWORD", "postgres")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let restored = connect_url(&cluster().url(&copy)).await;
    assert_eq!(
        table_checksums(&restored, "public", None).await,
        table_checksums(&db, "public", None).await
    );
    let odd: String = restored
        .query_one("SELECT v FROM other.\"odd name's\"", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(odd, "x");
}

#[tokio::test]
async fn a_link_dropped_mid_backup_leaves_no_file_and_says_so() {
    let (name, db) = dawarich_db("1.7.5", 1, 10).await;
    // enough incompressible data that pg_dump is still writing when the link goes
    db.batch_execute(
        "CREATE TABLE bulk AS SELECT g, md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text) AS t FROM generate_series(1, 300000) g",
    )
    .await
    .unwrap();
    let double = DockerDouble::stock(cluster().port, &name, "1.7.5");
    let sshd = Arc::new(Sshd::start_with_path(double.bin_dir()));
    let path = temp_dir("dropped").join("b.dump");
    let killer = sshd.clone();
    let progress = move |e: ProgressEvent| {
        // the first piece has arrived: the SSH session dies (its processes killed)
        if matches!(e, ProgressEvent::Transfer { .. }) {
            for pid in killer.session_pids() {
                // SAFETY: kill has no memory preconditions
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    };
    // the upgrade's first step is the backup: it stops there, before the containers or the database
    let conn = via_ssh(&sshd, &name);
    let install = find(&connect(&conn).await.unwrap()).await.unwrap();
    let before: i64 = db
        .query_one("SELECT count(*) FROM schema_migrations", &[])
        .await
        .unwrap()
        .get(0);
    let host = OnHost {
        install: Some(install),
        backup: Some(path.clone()),
        manage_containers: true,
        follow_ups: true,
        start_timeout: Duration::from_secs(60),
    };
    let opts = UpgradeOptions {
        audit_file: None,
        ..Default::default()
    };
    let e = upgrade_on_host(&conn, &opts, &host, &progress, &Cancel::new())
        .await
        .unwrap_err();
    assert_eq!(e.report().kind, ErrorKind::Backup, "{e}");
    assert!(e.to_string().contains("dropped during the backup"), "{e}");
    let after: i64 = db
        .query_one("SELECT count(*) FROM schema_migrations", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(after, before);
    assert!(
        !double.calls().iter().any(|c| c[0] == "stop"),
        "the containers were not touched"
    );
    assert!(!path.exists() && !path.with_extension("dump.part").exists());
}

#[tokio::test]
async fn names_reach_docker_as_single_arguments() {
    let (name, _db) = dawarich_db("1.7.5", 1, 5).await;
    let double = DockerDouble::stock(cluster().port, &name, "1.7.5");
    // the SSH user's shell starts in its home: a `touch` that ran would leave the file there
    let home = std::path::PathBuf::from(
        String::from_utf8(
            std::process::Command::new("sh")
                .args(["-c", "getent passwd dawarich-doctor-ssh | cut -d: -f6"])
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap()
        .trim(),
    );
    let marker = home.join("pwned");
    let evil = "my app 'x' \"y\" $(touch pwned) `touch pwned`".to_string();
    double.rename("dawarich_app", &evil);
    double.run(&["start", &evil]);
    let sshd = Sshd::start_with_path(double.bin_dir());
    let db = connect(&via_ssh(&sshd, &name)).await.unwrap();
    let install = find(&db).await.unwrap();
    assert_eq!(install.app, evil);
    install.stop().await.unwrap();
    let stop = double.calls().into_iter().rfind(|c| c[0] == "stop").unwrap();
    assert_eq!(stop, ["stop", "dawarich_sidekiq", evil.as_str()]);
    assert!(!marker.exists(), "the shell ran part of a container name");
    assert_eq!(double.get(&evil).state, "exited");
    assert!(!home.as_os_str().is_empty());
}

#[tokio::test]
async fn docker_refused_or_no_install_are_named_with_the_fix() {
    let (name, _db) = dawarich_db("1.7.5", 1, 5).await;
    let double = DockerDouble::stock(cluster().port, &name, "1.7.5");
    let sshd = Sshd::start_with_path(double.bin_dir());
    let db = connect(&via_ssh(&sshd, &name)).await.unwrap();
    double.set_denied(true);
    let e = find(&db).await.unwrap_err();
    assert!(matches!(e, DockerError::Denied { .. }), "{e}");
    assert!(
        e.report().fix.contains("usermod -aG docker dawarich-doctor-ssh"),
        "{}",
        e.report().fix
    );
    double.set_denied(false);
    // the only Dawarich there uses another database: its containers are left alone
    double.set_env("dawarich_app", "DATABASE_NAME", "someone_elses");
    let e = find(&db).await.unwrap_err();
    assert!(matches!(e, DockerError::OtherDatabase { .. }), "{e}");
    assert!(e.to_string().contains("\"someone_elses\""), "{e}");
    double.update(|st| {
        st.containers
            .retain(|c| c.name != "dawarich_app" && c.name != "dawarich_sidekiq")
    });
    let e = find(&db).await.unwrap_err();
    assert!(matches!(e, DockerError::NotFound { .. }), "{e}");
    assert!(e.to_string().contains("dawarich_db (postgis/postgis"), "{e}");
    // the backup still works without the app: pg_dump falls back to this computer's
    let path = temp_dir("fallback").join("b.dump");
    let b = backup::run(&via_ssh(&sshd, &name), Some(path), &Silent).await.unwrap();
    assert!(b.restore_command.contains("pg_restore"), "{b:?}");
}

#[tokio::test]
async fn the_incident_is_upgraded_with_backup_and_containers_and_dawarich_comes_up() {
    // 0.9.11 with ownerless points; its app image is 1.7.5 and crash-loops on the pending migrations
    let (name, db) = dawarich_db("0.9.11", 1, 200).await;
    db.batch_execute("UPDATE points SET user_id = NULL WHERE id % 4 = 0")
        .await
        .unwrap();
    let double = DockerDouble::stock(cluster().port, &name, "1.7.5");
    double.run(&["start", "dawarich_app"]);
    double.wait_until("dawarich_app", "the app crash-loops", Duration::from_secs(30), |c| {
        c.restart_count >= 1
    });
    // a dead migrator's session still holds Rails' lock
    let stale = connect_url(&cluster().url(&name)).await;
    stale
        .query_one("SELECT pg_try_advisory_lock($1)", &[&migration_lock_key(&name)])
        .await
        .unwrap();
    let sshd = Sshd::start_with_path(double.bin_dir());
    let conn = via_ssh(&sshd, &name);
    let session = connect(&conn).await.unwrap();
    let install = find(&session).await.unwrap();
    let status = install.status().await.unwrap();
    assert!(
        status.container(ContainerRole::App).unwrap().crash_looping(),
        "{status:?}"
    );

    // the desktop app's order: backup, stop, lock, repair, then the upgrade that starts Dawarich
    let path = temp_dir("incident").join("b.dump");
    let b = backup::run(&conn, Some(path.clone()), &Silent).await.unwrap();
    assert!(path.exists(), "{b:?}");
    install.stop().await.unwrap();
    assert_eq!(double.get("dawarich_app").state, "exited");
    let failed_starts = double.app_log("dawarich_app").matches("Migrations are pending").count();
    assert!(failed_starts >= 1);
    release(
        &session,
        &ReleaseOptions {
            pid: stale.backend_pid,
            force_active: false,
            stale_after_secs: 0.0,
            cancel_grace: Duration::from_secs(1),
        },
        None,
    )
    .await
    .unwrap();
    repair(
        &conn,
        &RepairOptions {
            check: CheckId::PointsWithoutUser,
            strategy: StrategyId::Quarantine,
            user: None,
            batch_size: 1000,
            audit_file: None,
        },
        &Silent,
        &Cancel::new(),
    )
    .await
    .unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let progress = move |e: ProgressEvent| seen.lock().unwrap().push(e);
    let opts = UpgradeOptions {
        target: Some("1.7.5".into()),
        audit_file: None,
        ..Default::default()
    };
    let host = OnHost {
        install: Some(install.clone()),
        backup: None,
        manage_containers: true,
        follow_ups: true,
        start_timeout: Duration::from_secs(60),
    };
    let outcome = upgrade_on_host(&conn, &opts, &host, &progress, &Cancel::new())
        .await
        .unwrap();
    assert_eq!(outcome.dawarich_up.as_deref(), Some("Dawarich 1.7.5 is up"));
    assert!(
        outcome.dawarich_log.iter().any(|l| l.contains("Listening on")),
        "{:?}",
        outcome.dawarich_log
    );
    // the stand-in entrypoint found nothing pending and is healthy; sidekiq runs too
    let app = double.get("dawarich_app");
    assert_eq!(
        (app.state.as_str(), app.health.as_deref(), app.restart_count),
        ("running", Some("healthy"), 0)
    );
    assert_eq!(double.get("dawarich_sidekiq").state, "running");
    assert_eq!(
        double.app_log("dawarich_app").matches("Migrations are pending").count(),
        failed_starts,
        "the start after the upgrade found something pending: {}",
        double.app_log("dawarich_app")
    );
    // follow-ups ran in the app container, each once; those whose condition is false did not
    assert!(!outcome.follow_ups_run.is_empty());
    let runners: Vec<Vec<String>> = double
        .calls()
        .into_iter()
        .filter(|c| c.len() == 5 && c[0] == "exec" && c[2] == "bin/rails")
        .collect();
    assert_eq!(runners.len(), outcome.follow_ups_run.len());
    assert!(runners.iter().all(|c| c[1] == "dawarich_app" && c[3] == "runner"));
    assert!(
        !outcome
            .follow_ups_run
            .iter()
            .any(|f| f.runner.contains("RawDataArchive")),
        "no archives: that follow-up is not needed"
    );
    // the steps were announced around the plan's and every docker command was shown first
    let events = events.lock().unwrap().clone();
    let ProgressEvent::Plan { steps } = &events[0] else {
        panic!("{:?}", events[0])
    };
    assert!(steps[0].title.starts_with("Stop Dawarich"), "{:?}", steps[0]);
    assert!(steps.last().unwrap().title.starts_with("Run the follow-ups"));
    assert!(events
        .iter()
        .any(|e| matches!(e, ProgressEvent::Output { line, .. } if line.starts_with("$ docker start dawarich_app"))));
    // and written to the audit log
    let audited: i64 = session
        .query_one(
            "SELECT count(*) FROM dawarich_doctor.audit_log WHERE action = 'docker'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(audited >= 3, "{audited}");

    // nothing left for Dawarich itself
    let d = diagnose(&session, &DiagnoseOptions::default(), &Silent).await.unwrap();
    assert!(d.dawarich.pending_schema.is_empty() && d.dawarich.pending_data.is_empty());
}
