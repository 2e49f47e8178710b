//! The database server stopped at once (`pg_ctl -m immediate`, as a crash or a killed container)
//! in the middle of an upgrade step. A test binary of its own: it stops its cluster.

use std::process::{Command, Stdio};

use dawarich_doctor_testkit::compare::{end_state, run_start, until};
use dawarich_doctor_testkit::shared::{cluster, connect_url, copy_of, dawarich_db};

fn upgrade(url: &str, home: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dawarich-doctor"));
    c.args(["upgrade", "--url", url, "--yes", "--no-backup", "--batch-size", "50"])
        .env("HOME", home)
        .env("DAWARICH_DOCTOR_AUDIT_FILE", home.join("audit.log"))
        .env_remove("DAWARICH_DOCTOR_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

async fn run(mut c: Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || c.output().unwrap()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_stopped_at_once_mid_step() {
    let home = tempfile::tempdir().unwrap();
    let (base, db) = dawarich_db("0.9.5", 2, 300).await;
    drop(db);
    let reference = copy_of(&base).await;
    let db = connect_url(&cluster().url(&reference)).await;
    let since = run_start(&db).await;
    let out = run(upgrade(&cluster().url(&reference), home.path())).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let want = end_state(&db, &since).await;
    drop(db);

    let name = copy_of(&base).await;
    let url = cluster().url(&name);
    let db = connect_url(&url).await;
    let since = run_start(&db).await;
    // A test session holds visits, so the upgrade's ALTER TABLE visits (an early schema migration)
    // waits; the server is stopped while it does.
    let blocker = connect_url(&url).await;
    blocker
        .batch_execute("BEGIN; LOCK TABLE visits IN ACCESS SHARE MODE")
        .await
        .unwrap();
    let cli = upgrade(&url, home.path()).spawn().unwrap();
    until("the upgrade waits for the test's lock", || async {
        db.query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'dawarich-doctor' AND $1 = ANY(pg_blocking_pids(pid))",
            &[&blocker.backend_pid],
        )
        .await
        .unwrap()
        .get::<_, i64>(0)
            > 0
    })
    .await;
    let applied_before: i64 = db
        .query_one("SELECT count(*) FROM schema_migrations", &[])
        .await
        .unwrap()
        .get(0);
    // Test clusters run without synchronous commit; a real server has every commit on disk before
    // it answers, which a checkpoint gives here.
    db.batch_execute("CHECKPOINT").await.unwrap();
    cluster().crash();
    let out = tokio::task::spawn_blocking(move || cli.wait_with_output().unwrap())
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("The database server went away"), "{err}");
    assert!(err.contains("Rerunning is safe"), "{err}");

    cluster().restart();
    let db = connect_url(&url).await;
    let applied_after: i64 = db
        .query_one("SELECT count(*) FROM schema_migrations", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        applied_after, applied_before,
        "nothing recorded past the step the crash hit"
    );
    let out = run(upgrade(&url, home.path())).await;
    assert!(
        out.status.success(),
        "the rerun: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(end_state(&db, &since).await, want);
}
