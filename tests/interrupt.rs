//! Interruptions: our backend is terminated in the middle of each kind of step; running the
//! upgrade again converges to the same schema, row counts and checksums as an uninterrupted run.
//! Every interruption is placed by a condition (a Waiting event while a test session holds a lock),
//! never by timing.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

use common::*;
use dawarich_doctor::locks::migration_lock_key;
use dawarich_doctor::migrate::{upgrade, UpgradeOptions};
use dawarich_doctor::progress::{Cancel, ProgressEvent, Silent};
use dawarich_doctor::schema::verify;

fn opts() -> UpgradeOptions {
    UpgradeOptions {
        audit_file: None,
        batch_size: Some(50),
        lock_retries: 0,
        workers: 2,
        ..Default::default()
    }
}

/// `opts()` with every job walked on its own (the motion-data backfill is otherwise fused).
fn on_its_own() -> UpgradeOptions {
    UpgradeOptions {
        walk_separately: true,
        ..opts()
    }
}

/// Nothing to check after the interruption beyond convergence.
const NO_CHECK: &str = "SELECT true";

/// Runs `tag` → newest on two copies of one database with `o`: once straight, once interrupted as `blocker_sql`/`on_event`
/// decide (then `interrupted`, a query returning one boolean, must hold), then again.
async fn converges(
    tag: &str,
    o: &UpgradeOptions,
    blocker_sql: Option<&str>,
    interrupted: &str,
    on_event: impl Fn(&ProgressEvent, &Ctl) + Send + Sync,
) {
    let (base, db) = dawarich_db(tag, 2, 300).await;
    drop(db);
    let straight_name = copy_of(&base).await;
    let straight = connect_url(&cluster().url(&straight_name)).await;
    let since = run_start(&straight).await;
    upgrade(&options(&cluster().url(&straight_name)), o, &Silent, &Cancel::new())
        .await
        .unwrap();
    let want = end_state(&straight, &since).await;

    let name = copy_of(&base).await;
    let url = cluster().url(&name);
    let db = connect_url(&url).await;
    let since = run_start(&db).await;
    let blocker = connect_url(&url).await;
    if let Some(sql) = blocker_sql {
        blocker.batch_execute(sql).await.unwrap();
    }
    let ctl = Mutex::new(controller(url.clone(), name.clone()));
    let first = upgrade(
        &options(&url),
        o,
        &|e: ProgressEvent| on_event(&e, &ctl),
        &Cancel::new(),
    )
    .await;
    let err = first.expect_err("the run was interrupted");
    let msg = err.to_string();
    assert!(err.session_ended(), "{msg}");
    blocker.batch_execute("ROLLBACK").await.ok();
    drop(ctl);
    assert!(
        db.query_one(interrupted, &[]).await.unwrap().get::<_, bool>(0),
        "after the interruption: {interrupted}"
    );

    upgrade(&options(&url), o, &Silent, &Cancel::new()).await.unwrap();
    let diffs: Vec<_> = verify(&db, "1.7.5")
        .await
        .unwrap()
        .into_iter()
        .filter(|d| d.change != dawarich_doctor_model::Change::Extra)
        .collect();
    assert!(diffs.is_empty(), "{diffs:#?}");
    assert_eq!(end_state(&db, &since).await, want);
    let invalid: i64 = db
        .query_one("SELECT count(*) FROM pg_index WHERE NOT indisvalid", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(invalid, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminated_inside_a_transactional_migration() {
    // add_place_id_to_visits (ALTER TABLE visits) waits behind our lock on visits: terminate it there.
    converges(
        "0.9.5",
        &opts(),
        Some("BEGIN; LOCK TABLE visits IN ACCESS SHARE MODE"),
        NO_CHECK,
        |e, ctl| {
            if matches!(e, ProgressEvent::Waiting { .. }) {
                send(ctl, Cmd::Terminate);
            }
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminated_inside_a_concurrent_index_build() {
    // add_started_at_index_to_visits (CREATE INDEX CONCURRENTLY, no transaction) waits for our writer
    // on visits; terminating it leaves an INVALID index that the rerun rebuilds.
    converges(
        "0.19.4",
        &opts(),
        Some("BEGIN; LOCK TABLE visits IN ROW EXCLUSIVE MODE"),
        NO_CHECK,
        |e, ctl| {
            if matches!(e, ProgressEvent::Waiting { .. }) {
                send(ctl, Cmd::Terminate);
            }
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminated_inside_a_plain_index_build_while_dawarich_is_stopped() {
    // With Dawarich stopped, add_started_at_index_to_visits builds without CONCURRENTLY: it waits for
    // its lock behind our writer on visits and is terminated there. A plain build is rolled back
    // whole, so no index of that name is left (a concurrent one leaves it INVALID); the rerun builds it.
    let o = UpgradeOptions {
        dawarich_stopped: true,
        ..opts()
    };
    let nothing_left = "SELECT to_regclass('index_visits_on_started_at') IS NULL
                        AND NOT EXISTS (SELECT 1 FROM schema_migrations WHERE version = '20241211113119')";
    let running = Mutex::new(String::new());
    converges(
        "0.19.4",
        &o,
        Some("BEGIN; LOCK TABLE visits IN ROW EXCLUSIVE MODE"),
        nothing_left,
        |e, ctl| match e {
            ProgressEvent::StepProgress {
                statement: Some(sql), ..
            } => *running.lock().unwrap() = sql.clone(),
            ProgressEvent::Waiting { .. } => {
                let sql = running.lock().unwrap().clone();
                assert!(
                    sql.starts_with("CREATE INDEX IF NOT EXISTS index_visits_on_started_at "),
                    "waiting in {sql}"
                );
                send(ctl, Cmd::Terminate);
            }
            _ => {}
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminated_inside_a_batched_backfill() {
    // The motion-data backfill (job work: every point changes), walked on its own, runs in ranges of
    // 50 on two sessions, the locking one from the lowest id, the helper from the middle; a test
    // session holds a row of the locking session's third range, so it waits there while the helper
    // finishes the upper half; it is terminated while waiting. The checkpoint must not pass the
    // unfinished range, and only that backfill's checkpoint is left (finished migrations delete
    // theirs).
    // ... and the helper's finished ranges above that gap are recorded, so a rerun does not redo them.
    let checkpoint = "SELECT array_agg(version) = '{20260217000001}' AND max(next_id) <= 101 AND max(done[array_upper(done, 1)]) = 301
                      FROM dawarich_doctor.backfill_checkpoint";
    converges("0.9.5", &on_its_own(), None, checkpoint, |e, ctl| match e {
        ProgressEvent::StepStarted { title, .. } if title.starts_with("Job work of 20260217000001") => {
            send(ctl, Cmd::LockRow(125))
        }
        ProgressEvent::Waiting { .. } => send(ctl, Cmd::Terminate),
        _ => {}
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminated_inside_a_fused_walk() {
    // From 0.9.5 the country-name, motion-data, altitude, reverse-geocoding and latlon jobs run as one
    // walk, ranges of 50 on two sessions; a test session holds a row of the locking session's third
    // range, so it waits there while the helper finishes the upper half; it is terminated while
    // waiting. What is left is the fused walk's checkpoint: the same intervals for each of the five
    // (none past the unfinished range, the helper's above it), no other, and all five jobs still
    // queued.
    let checkpoint = "SELECT array_agg(version ORDER BY version) = '{20241202125248,20250222213848,20250728191359,20260217000001,20260323000002}'
                             AND count(DISTINCT (next_id, done)) = 1 AND max(next_id) <= 101 AND max(done[array_upper(done, 1)]) = 301
                             AND (SELECT array_agg(version ORDER BY version) FROM dawarich_doctor.job_queue)
                                 @> '{20241202125248,20250222213848,20250728191359,20260217000001,20260323000002}'
                      FROM dawarich_doctor.backfill_checkpoint";
    converges("0.9.5", &opts(), None, checkpoint, |e, ctl| match e {
        ProgressEvent::StepStarted { title, .. }
            if title.starts_with("Job work of 20250728191359 add_country_name_to_points + ") =>
        {
            send(ctl, Cmd::LockRow(125))
        }
        ProgressEvent::Waiting { .. } => send(ctl, Cmd::Terminate),
        _ => {}
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminated_inside_a_walk_with_the_indexes_set_aside() {
    // With Dawarich stopped, the fused walk changes every row of its first range (committed), so it
    // sets the plain indexes of points aside (dropped, and recorded, in a transaction of its own): it
    // is terminated right after that. The 15 plain indexes of the 1.7.5 schema stay set aside with
    // their records, the unique one and the primary key in place; the first range is done and the
    // five jobs are still queued. The next run finishes the walk and builds them again.
    let o = UpgradeOptions {
        dawarich_stopped: true,
        aside_from_rows: 0,
        ..opts()
    };
    let left_aside = "SELECT (SELECT count(*) FILTER (WHERE NOT indisunique) = 0 AND count(*) = 2
                             FROM pg_index WHERE indrelid = 'points'::regclass AND indisvalid)
                            AND (SELECT count(*) FROM dawarich_doctor.index_aside WHERE table_name = 'points') = 15
                            AND EXISTS (SELECT 1 FROM points WHERE lonlat IS NOT NULL)
                            AND EXISTS (SELECT 1 FROM dawarich_doctor.backfill_checkpoint WHERE done <> '{}')
                            AND (SELECT array_agg(version ORDER BY version) FROM dawarich_doctor.job_queue)
                                @> '{20241202125248,20250222213848,20250728191359,20260217000001,20260323000002}'";
    let set_aside = AtomicBool::new(false);
    let step = Mutex::new(String::new());
    converges("0.9.5", &o, None, left_aside, |e, ctl| match e {
        ProgressEvent::StepStarted { title, .. } => *step.lock().unwrap() = title.clone(),
        ProgressEvent::Output { line, .. }
            if line.contains(" index(es) of points set aside for the walk")
                && step
                    .lock()
                    .unwrap()
                    .starts_with("Job work of 20250728191359 add_country_name_to_points + ") =>
        {
            set_aside.store(true, SeqCst);
            send(ctl, Cmd::Terminate);
        }
        _ => {}
    })
    .await;
    assert!(set_aside.load(SeqCst));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminated_once_an_index_build_is_set_aside_before_it_is_built() {
    // With Dawarich stopped, 20250728191359's concurrent build of index_points_on_country_name is only
    // recorded (a later migration drops that index again): terminated right after, the record stays,
    // the index does not exist and the version is not recorded. The next run records it again,
    // 20251228000000 forgets it, and nothing of it is left.
    let o = UpgradeOptions {
        dawarich_stopped: true,
        aside_from_rows: 0,
        ..opts()
    };
    let left = "SELECT EXISTS (SELECT 1 FROM dawarich_doctor.index_aside WHERE name = 'index_points_on_country_name')
                       AND to_regclass('index_points_on_country_name') IS NULL
                       AND NOT EXISTS (SELECT 1 FROM schema_migrations WHERE version = '20250728191359')";
    let set_aside = AtomicBool::new(false);
    converges("0.9.5", &o, None, left, |e, ctl| match e {
        ProgressEvent::Output { line, .. }
            if line.starts_with("index index_points_on_country_name of points set aside before it is built") =>
        {
            set_aside.store(true, SeqCst);
            send(ctl, Cmd::Terminate);
        }
        _ => {}
    })
    .await;
    assert!(set_aside.load(SeqCst));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_helper_session_starts_nothing_once_the_locking_session_is_gone() {
    // The motion-data backfill (every point changes), walked on its own, runs in ranges of 50 on two
    // sessions: the first range of the locking session waits on a row the test holds, the helper
    // commits its first range, and then the locking session is terminated. The helper must not commit
    // another range.
    let step = AtomicUsize::new(usize::MAX);
    let one_range = "SELECT count(*) = 50 FROM points WHERE motion_data <> '{}'";
    converges("0.9.5", &on_its_own(), None, one_range, move |e, ctl| match e {
        ProgressEvent::StepStarted { step: s, title } if title.starts_with("Job work of 20260217000001") => {
            step.store(*s, SeqCst);
            send(ctl, Cmd::LockRow(25));
        }
        ProgressEvent::StepProgress {
            step: s,
            total: Some(_),
            done,
            ..
        } if *s == step.load(SeqCst) && *done > 0 => send(ctl, Cmd::Terminate),
        _ => {}
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_looping_client_never_gets_the_lock_while_an_upgrade_runs() {
    // A Dawarich container restarting over and over tries Rails' lock every 100 ms for the whole run
    // (pg_try_advisory_lock, let go at once when it gets it). The run is from the Plan event (the
    // lock is taken before it) to the end of the last step (the lock is let go after it).
    let (name, _db) = dawarich_db("0.9.5", 2, 300).await;
    let url = cluster().url(&name);
    let key = migration_lock_key(&name);
    let client = connect_url(&url).await;
    let (in_run, stop) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
    let looping = tokio::spawn({
        let (in_run, stop) = (in_run.clone(), stop.clone());
        async move {
            let (mut tries, mut got) = (0u32, 0u32);
            let mut every = tokio::time::interval(std::time::Duration::from_millis(100));
            while !stop.load(SeqCst) {
                every.tick().await;
                let running = in_run.load(SeqCst);
                let row = client
                    .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
                    .await
                    .unwrap();
                if row.get::<_, bool>(0) {
                    // holding it, the upgrade cannot be between Plan and its last step
                    got += u32::from(in_run.load(SeqCst));
                    client
                        .query_one("SELECT pg_advisory_unlock($1)", &[&key])
                        .await
                        .unwrap();
                }
                tries += u32::from(running && in_run.load(SeqCst));
            }
            (tries, got)
        }
    });
    let steps = AtomicUsize::new(0);
    let progress = |e: ProgressEvent| match e {
        ProgressEvent::Plan { steps: s } => {
            steps.store(s.len(), SeqCst);
            in_run.store(true, SeqCst);
        }
        ProgressEvent::StepFinished { step, .. } if step + 1 == steps.load(SeqCst) => in_run.store(false, SeqCst),
        _ => {}
    };
    upgrade(&options(&url), &opts(), &progress, &Cancel::new())
        .await
        .unwrap();
    stop.store(true, SeqCst);
    let (tries, got) = looping.await.unwrap();
    assert!(tries >= 10, "the client tried {tries} times during the run");
    assert_eq!(got, 0, "the client got the lock during the run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_in_the_middle_of_an_attempt_is_waited_for() {
    // The lock is held when the upgrade starts; the holder lets go once the upgrade says it waits.
    let (name, _db) = dawarich_db("0.9.5", 1, 10).await;
    let url = cluster().url(&name);
    let key = migration_lock_key(&name);
    let holder = connect_url(&url).await;
    let held: bool = holder
        .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
        .await
        .unwrap()
        .get(0);
    assert!(held);
    let holder_pid = holder.backend_pid;
    let (said, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let lets_go = tokio::spawn(async move {
        let line: String = heard.recv().await.unwrap();
        holder
            .query_one("SELECT pg_advisory_unlock($1)", &[&key])
            .await
            .unwrap();
        line
    });
    let progress = |e: ProgressEvent| {
        if let ProgressEvent::Output { step: None, line } = e {
            if line.starts_with("Rails' migration lock is held by") {
                said.send(line).unwrap();
            }
        }
    };
    upgrade(&options(&url), &opts(), &progress, &Cancel::new())
        .await
        .unwrap();
    let line = lets_go.await.unwrap();
    assert!(line.contains(&format!("pid {holder_pid} ")), "{line}");
    assert!(line.ends_with("waiting up to 20 s for it"), "{line}");
}

#[tokio::test]
async fn a_held_rails_lock_stops_the_upgrade_before_any_change() {
    let (name, db) = dawarich_db("0.9.5", 1, 10).await;
    let holder = connect_url(&cluster().url(&name)).await;
    holder
        .query_one("SELECT pg_try_advisory_lock($1)", &[&migration_lock_key(&name)])
        .await
        .unwrap();
    let before: i64 = db
        .query_one("SELECT count(*) FROM schema_migrations", &[])
        .await
        .unwrap()
        .get(0);
    let o = UpgradeOptions {
        lock_wait: std::time::Duration::from_secs(1),
        ..opts()
    };
    let e = upgrade(&options(&cluster().url(&name)), &o, &Silent, &Cancel::new())
        .await
        .unwrap_err();
    assert!(matches!(e, dawarich_doctor::Error::LockHeld { .. }), "{e}");
    assert!(e.to_string().contains(&format!("pid {}", holder.backend_pid)), "{e}");
    assert!(e.to_string().ends_with("(still, after waiting 1 s)"), "{e}");
    let after: i64 = db
        .query_one("SELECT count(*) FROM schema_migrations", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(before, after);
    let ours: bool = db
        .query_one("SELECT to_regnamespace('dawarich_doctor') IS NULL", &[])
        .await
        .unwrap()
        .get(0);
    assert!(ours, "not even our own schema may be created");
}
