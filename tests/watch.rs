//! Watching Dawarich migrate a release the catalog does not know (the docker double's app migrates
//! the synthetic release in tests/future/ like Rails), behind a real OpenSSH server: a clean run to
//! the end, and failures recognised from its log with what fixes them.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use dawarich_doctor::connect::{connect, ConnectOptions};
use dawarich_doctor::containers::{find, Install};
use dawarich_doctor::diagnose::{diagnose, DiagnoseOptions};
use dawarich_doctor::locks::migration_lock_key;
use dawarich_doctor::progress::{Cancel, ProgressEvent, Silent};
use dawarich_doctor::repair::{repair, undo, RepairOptions};
use dawarich_doctor::unique::Keep;
use dawarich_doctor::watch::fix::fix;
use dawarich_doctor::watch::{follow, hand_over};
use dawarich_doctor_model::{CheckId, Failure, StrategyId};
use dawarich_doctor_testkit::docker::{future, DockerDouble};
use dawarich_doctor_testkit::sshd::Sshd;

const FUTURE: [&str; 4] = ["20270101000001", "20270101000002", "20270101000003", "20270101000004"];

async fn versions(db: &tokio_postgres::Client) -> Vec<String> {
    column(
        db,
        "SELECT version FROM schema_migrations UNION ALL SELECT version FROM data_migrations ORDER BY 1",
    )
    .await
}

/// A start after a half-applied attempt fails on the index that attempt left; the fix drops it (0
/// rows quarantined) and the next start is up with the rest of the release recorded. Returns the
/// fix's run.
async fn the_index_left_behind_is_dropped_and_dawarich_comes_up(conn: &ConnectOptions, install: &Install) -> String {
    let report = hand_over(conn, install, true, Duration::from_secs(120), &Silent, &Cancel::new())
        .await
        .unwrap();
    let Some(failure @ Failure::AlreadyExists { name: index, .. }) = &report.failure else {
        panic!("{report:?}")
    };
    assert_eq!(index, "index_points_on_user_timestamp_future");
    assert_eq!(report.advice.as_ref().unwrap().check, None);
    install.stop().await.unwrap();
    let fixed = fix(conn, failure, Keep::Highest, None).await.unwrap();
    assert_eq!(
        (fixed.quarantined, fixed.dropped.as_deref()),
        (0, Some("index_points_on_user_timestamp_future"))
    );
    let again = hand_over(conn, install, true, Duration::from_secs(120), &Silent, &Cancel::new())
        .await
        .unwrap();
    assert_eq!(again.failure, None, "{again:?}");
    assert_eq!(again.recorded, FUTURE[2..]);
    fixed.run_id
}

/// Two points of the first user at the same time: the synthetic unique index fails on them.
async fn plant_duplicate(db: &tokio_postgres::Client) {
    db.batch_execute(
        "UPDATE points SET \"timestamp\" = (SELECT min(\"timestamp\") FROM points) WHERE id = (SELECT max(id) FROM points)",
    )
    .await
    .unwrap();
}

/// The docker double whose app is the synthetic release 9.0.0 (its migrations in `dir`) of
/// database `name`, behind an sshd, and the install found through it.
async fn future_host(name: &str, dir: &std::path::Path) -> (DockerDouble, Sshd, ConnectOptions, Install) {
    let double = DockerDouble::stock(cluster().port, name, "1.7.5").with_future_release("9.0.0", dir);
    let sshd = Sshd::start_with_path(double.bin_dir());
    let conn = via_ssh(&sshd, name);
    let install = find(&connect(&conn).await.unwrap()).await.unwrap();
    (double, sshd, conn, install)
}

#[tokio::test]
async fn a_clean_run_is_watched_to_the_end_with_every_version() {
    let (name, _db) = dawarich_db("1.7.5", 1, 300).await;
    let (double, _sshd, conn, install) = future_host(&name, &future::workspace_dir()).await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let progress = move |e: ProgressEvent| seen.lock().unwrap().push(e);
    let report = hand_over(
        &conn,
        &install,
        true,
        Duration::from_secs(120),
        &progress,
        &Cancel::new(),
    )
    .await
    .unwrap();
    assert_eq!(report.failure, None, "{report:?}");
    assert_eq!(report.recorded, FUTURE);
    let events = events.lock().unwrap().clone();
    let started: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            ProgressEvent::StepStarted { title, .. } => Some(title.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        started,
        [
            "20270101000001 AddDoctorFutureNote",
            "20270101000002 BackfillDoctorFutureNote",
            "20270101000003 AddUniqueIndexToPointsUserTimestamp",
            "20270101000004 MarkUsersDoctorFuture",
        ]
    );
    // versions are named from the container's db/migrate and db/data
    assert!(events.iter().any(
        |e| matches!(e, ProgressEvent::Output { line, .. } if line == "recorded 20270101000004 MarkUsersDoctorFuture")
    ));
    let app = double.get("dawarich_app");
    assert_eq!(app.health.as_deref(), Some("healthy"));
    // a database newer than the catalog: diagnose, the lock report, a repair, its undo and the
    // audit log still work
    let db = connect(&conn).await.unwrap();
    db.batch_execute("UPDATE users SET settings = NULL").await.unwrap();
    let d = diagnose(&db, &DiagnoseOptions::default(), &Silent).await.unwrap();
    assert_eq!(d.dawarich.unknown_newer_versions, FUTURE);
    assert!(!d.lock.held);
    let nulls = d.checks.iter().find(|c| c.id == CheckId::UsersNullSettings).unwrap();
    assert_eq!(nulls.count, Some(1));
    let repaired = repair(
        &conn,
        &RepairOptions {
            check: CheckId::UsersNullSettings,
            strategy: StrategyId::parse("default").unwrap(),
            user: None,
            batch_size: 100,
            audit_file: None,
        },
        &Silent,
        &Cancel::new(),
    )
    .await
    .unwrap();
    let null_settings = "SELECT count(*) FROM users WHERE settings IS NULL";
    assert_eq!(db.query_one(null_settings, &[]).await.unwrap().get::<_, i64>(0), 0);
    undo(&conn, &repaired.run_id, None).await.unwrap();
    assert_eq!(db.query_one(null_settings, &[]).await.unwrap().get::<_, i64>(0), 1);
    let audit = dawarich_doctor::audit::read(&db, None).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "undo"), "{audit:?}");
}

#[tokio::test]
async fn duplicates_under_the_new_unique_index_are_recognised() {
    let (name, db) = dawarich_db("1.7.5", 1, 50).await;
    // two points of the user at the same time
    plant_duplicate(&db).await;
    let (_double, _sshd, conn, install) = future_host(&name, &future::workspace_dir()).await;
    let report = hand_over(&conn, &install, true, Duration::from_secs(120), &Silent, &Cancel::new())
        .await
        .unwrap();
    let Some(Failure::UniqueViolation {
        index,
        columns,
        migration,
        ..
    }) = &report.failure
    else {
        panic!("{report:?}")
    };
    assert_eq!(index.as_deref(), Some("index_points_on_user_timestamp_future"));
    assert_eq!(columns, &["user_id", "timestamp"]);
    assert_eq!(
        migration.as_deref(),
        Some("20270101000003 AddUniqueIndexToPointsUserTimestamp")
    );
    assert_eq!(report.recorded, FUTURE[..2]);
    let advice = report.advice.unwrap();
    assert!(
        advice.message.contains("index_points_on_user_timestamp_future"),
        "{advice:?}"
    );
    assert_eq!(advice.check, Some(CheckId::InvalidIndexes));
    // the fix: the older duplicate quarantined (Dawarich keeps the newest), the INVALID index the
    // failed build left dropped; restarted, Dawarich finishes and is up
    let points_before: i64 = db.query_one("SELECT count(*) FROM points", &[]).await.unwrap().get(0);
    let lower: i64 = db
        .query_one(
            "SELECT min(id) FROM points WHERE \"timestamp\" = (SELECT min(\"timestamp\") FROM points)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    install.stop().await.unwrap();
    let failure = report.failure.clone().unwrap();
    let fixed = fix(&conn, &failure, Keep::Highest, None).await.unwrap();
    assert_eq!(fixed.quarantined, 1);
    assert_eq!(fixed.dropped.as_deref(), Some("index_points_on_user_timestamp_future"));
    let quarantined: i64 = db
        .query_one(
            "SELECT min(id) FROM dawarich_doctor.quarantine_points WHERE _run_id = $1",
            &[&fixed.run_id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        quarantined, lower,
        "the lower id of the pair went aside, the highest stays"
    );
    let again = hand_over(&conn, &install, true, Duration::from_secs(120), &Silent, &Cancel::new())
        .await
        .unwrap();
    assert_eq!(again.failure, None, "{again:?}");
    assert_eq!(again.recorded, FUTURE[2..]);
    let points_after: i64 = db.query_one("SELECT count(*) FROM points", &[]).await.unwrap().get(0);
    assert_eq!(points_after + 1, points_before, "one row moved aside, nothing else");
}

#[tokio::test]
async fn an_index_left_by_a_half_applied_migration_is_recognised_and_dropped() {
    let (name, db) = dawarich_db("1.7.5", 1, 50).await;
    // a first attempt died in the no-transaction migration: its unique index is left INVALID (as a
    // failed concurrent build leaves it) and the version is not recorded
    plant_duplicate(&db).await;
    let double =
        DockerDouble::stock(cluster().port, &name, "1.7.5").with_future_release("9.0.0", &future::workspace_dir());
    double.run(&["start", "dawarich_app"]);
    double.wait_until(
        "dawarich_app",
        "the first attempt fails",
        Duration::from_secs(60),
        |c| c.restart_count >= 1,
    );
    double.run(&["stop", "dawarich_app"]);
    db.batch_execute("DELETE FROM points WHERE id = (SELECT max(id) FROM points)")
        .await
        .unwrap();
    let sshd = Sshd::start_with_path(double.bin_dir());
    let conn = via_ssh(&sshd, &name);
    let install = find(&connect(&conn).await.unwrap()).await.unwrap();
    let run_id = the_index_left_behind_is_dropped_and_dawarich_comes_up(&conn, &install).await;
    let audited: String = db
        .query_one(
            "SELECT statement FROM dawarich_doctor.audit_log WHERE run_id = $1 AND statement LIKE 'DROP INDEX%'",
            &[&run_id],
        )
        .await
        .unwrap()
        .get(0);
    assert!(
        audited.contains("-- was: CREATE UNIQUE INDEX index_points_on_user_timestamp_future"),
        "{audited}"
    );
    // a table is never dropped
    let table = Failure::AlreadyExists {
        migration: None,
        kind: dawarich_doctor_model::ExistingKind::Table,
        name: "points".into(),
        table: None,
    };
    assert!(fix(&conn, &table, Keep::Highest, None).await.is_err());
}

#[tokio::test]
async fn a_held_lock_is_recognised_and_its_holder_named() {
    let (name, _db) = dawarich_db("1.7.5", 1, 10).await;
    let stale = connect_url(&cluster().url(&name)).await;
    stale
        .query_one("SELECT pg_try_advisory_lock($1)", &[&migration_lock_key(&name)])
        .await
        .unwrap();
    let (double, _sshd, conn, install) = future_host(&name, &future::workspace_dir()).await;
    let report = hand_over(&conn, &install, true, Duration::from_secs(120), &Silent, &Cancel::new())
        .await
        .unwrap();
    assert_eq!(report.failure, Some(Failure::LockHeld), "{report:?}");
    let advice = report.advice.unwrap();
    assert!(advice.message.contains(&stale.backend_pid.to_string()), "{advice:?}");
    assert!(report.recorded.is_empty());
    double.run(&["stop", "dawarich_app"]);
}

#[tokio::test]
async fn an_unknown_error_is_reported_verbatim_and_nothing_is_changed() {
    let (name, db) = dawarich_db("1.7.5", 1, 10).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("20270101000001_divide_by_zero.sql"),
        "-- kind: schema\n-- transaction: true\nSELECT 1 / (SELECT count(*) - count(*) FROM users)\n",
    )
    .unwrap();
    let before = versions(&db).await;
    let (double, _sshd, conn, install) = future_host(&name, dir.path()).await;
    let report = hand_over(&conn, &install, true, Duration::from_secs(120), &Silent, &Cancel::new())
        .await
        .unwrap();
    let Some(Failure::Unknown {
        error,
        migration,
        excerpt,
        ..
    }) = &report.failure
    else {
        panic!("{report:?}")
    };
    assert!(
        error.contains("PG::DivisionByZero") && error.contains("division by zero"),
        "{error}"
    );
    assert_eq!(migration.as_deref(), Some("20270101000001 DivideByZero"));
    assert!(!excerpt.is_empty() && excerpt.len() <= 20);
    assert_eq!(report.advice.unwrap().check, None, "no guess presented as a fix");
    assert_eq!(versions(&db).await, before);
    double.run(&["stop", "dawarich_app"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_killed_half_way_leaves_its_index_which_is_recognised_and_dropped() {
    let (name, db) = dawarich_db("1.7.5", 1, 50).await;
    let (double, _sshd, conn, install) = future_host(&name, &future::workspace_dir()).await;
    // an old snapshot holds the concurrent build in its last wait, its index already in the catalog
    let reader = connect_url(&cluster().url(&name)).await;
    reader
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM users;")
        .await
        .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let progress = move |e: ProgressEvent| {
        let _ = tx.send(e);
    };
    let cancel = Cancel::new();
    let watching = {
        let (conn, install, cancel) = (conn.clone(), install.clone(), cancel.clone());
        tokio::spawn(
            async move { hand_over(&conn, &install, true, Duration::from_secs(120), &progress, &cancel).await },
        )
    };
    // the watch shows the build and what it waits for
    let waiting = tokio::time::timeout(Duration::from_secs(90), async {
        while let Some(e) = rx.recv().await {
            if let ProgressEvent::StepProgress { statement: Some(s), .. } = e {
                // the holder and the build are read a moment apart: both the statement and its phase
                if s.contains("waiting for old snapshots")
                    && s.contains("CREATE UNIQUE INDEX CONCURRENTLY index_points_on_user_timestamp_future")
                {
                    return s;
                }
            }
        }
        panic!("the watch ended before the build waited")
    })
    .await
    .expect("the build waits for the old snapshot");
    assert!(
        waiting.starts_with("CREATE INDEX CONCURRENTLY, waiting for old snapshots — session "),
        "{waiting}"
    );
    cancel.cancel();
    assert!(matches!(
        watching.await.unwrap(),
        Err(dawarich_doctor::Error::Cancelled(_))
    ));
    // the container is killed and the database restarts with it: the build dies half-way
    double.run(&["stop", "-t", "0", "dawarich_app"]);
    db.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'CREATE UNIQUE INDEX CONCURRENTLY%' AND pid <> pg_backend_pid()",
        &[],
    )
    .await
    .unwrap();
    reader.batch_execute("COMMIT").await.unwrap();
    let valid: bool = db
        .query_one(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'index_points_on_user_timestamp_future'::regclass",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(!valid, "the build left its index INVALID");
    let future: Vec<String> = column(
        &db,
        "SELECT version FROM schema_migrations WHERE version LIKE '2027%' ORDER BY 1",
    )
    .await;
    assert_eq!(future, FUTURE[..2], "the killed migration is not recorded");
    // the rerun fails on what the first attempt left, the fix drops it, the next start is up
    the_index_left_behind_is_dropped_and_dawarich_comes_up(&conn, &install).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_alone_shows_the_lock_holder_and_the_versions_it_records() {
    let (name, db) = dawarich_db("1.7.5", 1, 5).await;
    let conn = options(&cluster().url(&name));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let progress = move |e: ProgressEvent| {
        let _ = tx.send(e);
    };
    let cancel = Cancel::new();
    let following = {
        let (conn, cancel) = (conn.clone(), cancel.clone());
        tokio::spawn(async move { follow(&conn, Duration::from_secs(120), &progress, &cancel).await })
    };
    assert!(matches!(
        rx.recv().await,
        Some(ProgressEvent::StepStarted { step: 0, .. })
    ));
    // a migrating session: Rails' lock, a statement under way, then a version recorded
    let rails = connect_url(&cluster().url(&name)).await;
    rails
        .query_one("SELECT pg_try_advisory_lock($1)", &[&migration_lock_key(&name)])
        .await
        .unwrap();
    rails
        .batch_execute("INSERT INTO schema_migrations (version) VALUES ('20270101000001')")
        .await
        .unwrap();
    let statement = tokio::spawn(async move { rails.batch_execute("SELECT pg_sleep(30) /* backfill */").await });
    let mut seen = (false, false);
    while seen != (true, true) {
        match rx.recv().await.expect("following until cancelled") {
            ProgressEvent::Output { line, .. } if line == "recorded 20270101000001" => seen.0 = true,
            ProgressEvent::StepProgress { statement: Some(s), .. }
                if s.contains("SELECT pg_sleep(30) /* backfill */") =>
            {
                seen.1 = true
            }
            _ => {}
        }
    }
    cancel.cancel();
    assert_eq!(following.await.unwrap().unwrap(), ["20270101000001"]);
    db.execute(
        "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%'",
        &[],
    )
    .await
    .unwrap();
    assert!(statement.await.unwrap().is_err(), "the statement was cancelled");
}
