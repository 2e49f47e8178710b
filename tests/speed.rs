//! The shortcuts of an upgrade leave exactly the database the long way leaves: a batched statement
//! whose `skip-when` holds is not walked, index builds run without CONCURRENTLY while Dawarich is
//! stopped, consecutive job work the catalog fuses is walked once, and a walk that rewrites most
//! rows while Dawarich is stopped sets the table's indexes aside (but the primary key) and builds
//! them again. Each comparison runs the same upgrade on copies of one database and compares every
//! row, the schema, every recorded version and the order of the bookkeeping.

mod common;

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Mutex;

use common::*;
use dawarich_doctor::catalog::catalog;
use dawarich_doctor::connect::Db;
use dawarich_doctor::diagnose::{diagnose, DiagnoseOptions};
use dawarich_doctor::migrate::{upgrade, UpgradeOptions};
use dawarich_doctor::progress::{Cancel, ProgressEvent, Silent};
use dawarich_doctor_model::{CheckId, CheckStatus, Diagnosis, MigrationKind};

/// A 0.11.1 → newest run takes the skip here (`countries` is created empty in it).
const COUNTRY_IDS: &str = "Job work of 20250516180933 set_points_country_ids";
/// … and walks this one (every point lacks lonlat at 0.11.1) …
const LATLON: &str = "Job work of 20250222213848 migrate_points_latlon";
/// … in one walk with the jobs of its group the job phase runs before it, when fused (the jobs
/// between them run before the walk: the users' and the imports' points counts, which read points but
/// no column the walk writes, and the jobs on users and tracks).
const FUSED: &str = "Job work of 20250728191359 add_country_name_to_points + 20260217000001 backfill_motion_data_from_raw_data + 20260323000002 backfill_altitude_from_raw_data + 20241202125248 set_reverse_geocoded_at_for_points + 20250222213848 migrate_points_latlon, in one walk over points.id";
/// Two of its members, walked on their own.
const ALTITUDE: &str = "Job work of 20260323000002 backfill_altitude_from_raw_data";
const REVERSE_GEOCODED: &str = "Job work of 20241202125248 set_reverse_geocoded_at_for_points";
/// The same walk from 1.4.0, which has the motion-data backfill applied.
const FUSED_SINCE_1_4_0: &str = "Job work of 20260323000002 backfill_altitude_from_raw_data + 20241202125248 set_reverse_geocoded_at_for_points + 20250222213848 migrate_points_latlon, in one walk over points.id";
const SKIPPED: &str = "no row can change: ";
const ASIDE: &str = " index(es) of points set aside for the walk, built again after it";

/// How a run goes: the catalog's skips taken or not, Dawarich stopped or not, fusable job work
/// walked once or each on its own, indexes set aside or not.
#[derive(Debug, Clone, Copy)]
struct Way {
    walk_always: bool,
    dawarich_stopped: bool,
    walk_separately: bool,
    /// Set the indexes aside while Dawarich is stopped at any table size (else never).
    aside: bool,
}

const LONG: Way = Way {
    walk_always: true,
    dawarich_stopped: false,
    walk_separately: true,
    aside: false,
};

const SHORT: [Way; 5] = [
    Way {
        walk_always: true,
        dawarich_stopped: false,
        walk_separately: false,
        aside: false,
    },
    Way {
        walk_always: false,
        dawarich_stopped: false,
        walk_separately: true,
        aside: false,
    },
    Way {
        walk_always: true,
        dawarich_stopped: true,
        walk_separately: true,
        aside: true,
    },
    Way {
        walk_always: false,
        dawarich_stopped: true,
        walk_separately: false,
        aside: true,
    },
    Way {
        walk_always: false,
        dawarich_stopped: true,
        walk_separately: false,
        aside: false,
    },
];

/// What an upgrade left (`EndState`: every table, run times and run ids masked, our own tables but
/// the audit log, the schema, the recorded versions) and its bookkeeping: Rails' versions recorded
/// and the jobs taken off our queue, each in the order it was done (a fused walk runs a job on
/// another table before the walk, and takes it off the queue then).
#[derive(Debug)]
struct Left {
    state: EndState,
    recorded: Vec<String>,
    dequeued: Vec<String>,
}

/// What one run did: its end state, the steps with their output lines and rows, and the index
/// builds it ran.
struct Ran {
    left: Left,
    steps: Vec<Step>,
    concurrent_builds: i64,
    plain_builds: i64,
    /// Indexes of points dropped for walks, built again from their definitions, and still recorded as
    /// set aside at the end.
    aside: (i64, i64, i64),
    /// Index builds set aside before they were built: in all, never built (a later migration dropped
    /// the index), built later on points.
    deferred: (i64, i64, i64),
    /// The plain (not unique) indexes of points at the end.
    indexes: i64,
    /// The comment on the self-hoster's index of points at the end, if any.
    own_index_comment: Option<String>,
}

#[derive(Default)]
struct Step {
    title: String,
    output: Vec<String>,
    rows: Option<u64>,
}

impl Ran {
    fn step(&self, title: &str) -> &Step {
        self.steps.iter().find(|s| s.title == title).unwrap_or_else(|| {
            panic!(
                "no step {title} in {:?}",
                self.steps.iter().map(|s| &s.title).collect::<Vec<_>>()
            )
        })
    }

    fn skipped(&self) -> Vec<&str> {
        self.steps
            .iter()
            .filter(|s| s.output.iter().any(|l| l.starts_with(SKIPPED)))
            .map(|s| s.title.as_str())
            .collect()
    }
}

async fn left(db: &Db, since: &str) -> Left {
    let bookkeeping = |like: &str| format!("SELECT statement FROM dawarich_doctor.audit_log WHERE {like} ORDER BY id");
    let dequeued = column(
        db,
        &bookkeeping("starts_with(statement, 'DELETE FROM dawarich_doctor.job_queue ')"),
    )
    .await;
    Left {
        state: end_state(db, since).await,
        recorded: column(
            db,
            &bookkeeping(r#"starts_with(statement, 'INSERT INTO "schema_migrations"') OR starts_with(statement, 'INSERT INTO "data_migrations"')"#),
        )
        .await,
        dequeued,
    }
}

/// Upgrades a copy of `template` to the newest release the given way.
async fn run(template: &str, way: Way) -> Ran {
    let name = copy_of(template).await;
    let db = connect_url(&cluster().url(&name)).await;
    let since = run_start(&db).await;
    let steps: Mutex<Vec<Step>> = Mutex::default();
    let progress = |e: ProgressEvent| {
        let mut steps = steps.lock().unwrap();
        match e {
            ProgressEvent::StepStarted { title, .. } => steps.push(Step {
                title,
                ..Default::default()
            }),
            ProgressEvent::Output { step: Some(_), line } => steps.last_mut().unwrap().output.push(line),
            ProgressEvent::StepFinished { rows, .. } => steps.last_mut().unwrap().rows = rows,
            _ => {}
        }
    };
    let opts = UpgradeOptions {
        audit_file: None,
        batch_size: Some(500),
        walk_always: way.walk_always,
        dawarich_stopped: way.dawarich_stopped,
        walk_separately: way.walk_separately,
        aside_from_rows: if way.aside { 0 } else { u64::MAX },
        ..Default::default()
    };
    upgrade(&options(&cluster().url(&name)), &opts, &progress, &Cancel::new())
        .await
        .unwrap_or_else(|e| panic!("{way:?}: {e}"));
    // the catalog's concurrent builds as run, and the same without CONCURRENTLY
    let concurrent: Vec<String> = dawarich_doctor::catalog::catalog()
        .migrations
        .iter()
        .flat_map(|m| &m.statements)
        .filter(|s| s.sql.starts_with("CREATE") && s.sql.contains(" CONCURRENTLY "))
        .map(|s| s.sql.clone())
        .collect();
    let plain: Vec<String> = concurrent.iter().map(|s| s.replacen("CONCURRENTLY ", "", 1)).collect();
    let builds = db
        .query_one(
            "SELECT count(*) FILTER (WHERE statement = ANY($1)), count(*) FILTER (WHERE statement = ANY($2)) FROM dawarich_doctor.audit_log",
            &[&concurrent, &plain],
        )
        .await
        .unwrap();
    let (concurrent_builds, plain_builds) = (builds.get(0), builds.get(1));
    let aside = db
        .query_one(
            "SELECT count(*) FILTER (WHERE statement LIKE 'DROP INDEX public.%'),
                    count(*) FILTER (WHERE statement ~ '^CREATE (UNIQUE )?INDEX \\S+ ON public\\.points USING '),
                    (SELECT count(*) FROM pg_index WHERE indrelid = 'points'::regclass AND NOT indisunique),
                    obj_description(to_regclass('self_hosted_points_created_at'), 'pg_class'),
                    (SELECT count(*) FROM dawarich_doctor.index_aside)
             FROM dawarich_doctor.audit_log",
            &[],
        )
        .await
        .unwrap();
    let deferred = db
        .query_one(
            "SELECT count(*), count(*) FILTER (WHERE NOT built), count(*) FILTER (WHERE built AND sql LIKE '% ON points %')
             FROM (SELECT d.sql, EXISTS (SELECT 1 FROM dawarich_doctor.audit_log AS b WHERE b.statement = d.sql) AS built
                   FROM (SELECT substring(statement FROM position(E'\\n' IN statement) + 1) AS sql
                         FROM dawarich_doctor.audit_log WHERE statement LIKE '-- index % set aside before it is built:%') AS d) AS d",
            &[],
        )
        .await
        .unwrap();
    Ran {
        deferred: (deferred.get(0), deferred.get(1), deferred.get(2)),
        left: left(&db, &since).await,
        steps: steps.into_inner().unwrap(),
        concurrent_builds,
        plain_builds,
        aside: (aside.get(0), aside.get(1), aside.get(4)),
        indexes: aside.get(2),
        own_index_comment: aside.get(3),
    }
}

/// Compares each shortcut with the long way on copies of `template`; returns the long run and the
/// runs of `SHORT`.
async fn same_end_state(template: &str) -> (Ran, Vec<Ran>) {
    let long = run(template, LONG).await;
    assert!(long.skipped().is_empty(), "{:?}", long.skipped());
    assert_eq!(long.plain_builds, 0);
    assert!(!long.left.recorded.is_empty(), "no version recorded");
    assert!(!long.left.dequeued.is_empty(), "no job taken off the queue");
    let sorted = |v: &[String]| {
        let mut v = v.to_vec();
        v.sort();
        v
    };
    let mut short = Vec::new();
    for way in SHORT {
        let r = run(template, way).await;
        assert_eq!(r.left.state, long.left.state, "{way:?}");
        assert_eq!(r.left.recorded, long.left.recorded, "{way:?}");
        // the same jobs leave the queue; in the same order unless a walk is fused
        if way.walk_separately {
            assert_eq!(r.left.dequeued, long.left.dequeued, "{way:?}");
        } else {
            assert_eq!(sorted(&r.left.dequeued), sorted(&long.left.dequeued), "{way:?}");
        }
        if way.dawarich_stopped {
            assert_eq!(
                (r.concurrent_builds, r.plain_builds + r.deferred.1),
                (0, long.concurrent_builds),
                "{way:?}: every concurrent build runs plain, or is set aside and dropped before it is built"
            );
        } else {
            assert_eq!(r.plain_builds, 0, "{way:?}");
        }
        short.push(r);
    }
    (long, short)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_0_11_1_the_shortcuts_leave_the_same_database() {
    let (template, db) = dawarich_db("0.11.1", 2, 3000).await;
    // every other point with a country (the country-name job copies it)
    db.batch_execute("UPDATE points SET country = 'Germany' WHERE id % 2 = 0")
        .await
        .unwrap();
    // duplicates (quarantined before the unique index is built) and an INVALID leftover of an index a
    // pending migration builds (dropped and rebuilt)
    dawarich_doctor_testkit::fixtures::duplicate_points(&db, 5)
        .await
        .unwrap();
    dawarich_doctor_testkit::fixtures::invalid_index(&db, "index_visits_on_started_at", "visits", "started_at")
        .await
        .unwrap();
    // an index of the self-hoster's own, with a comment: an index with anything its definition
    // leaves out stays in place during a walk
    db.batch_execute(
        "CREATE INDEX self_hosted_points_created_at ON points (created_at);
         COMMENT ON INDEX self_hosted_points_created_at IS 'ours'",
    )
    .await
    .unwrap();
    drop(db);
    let (long, short) = same_end_state(&template).await;
    assert!(long.concurrent_builds > 20, "{}", long.concurrent_builds);
    let quarantined = long
        .left
        .state
        .ours
        .iter()
        .find(|(t, _, _)| t == "dawarich_doctor.quarantine_points")
        .map(|(_, n, _)| *n);
    assert_eq!(quarantined, Some(5));
    for (way, r) in SHORT.iter().zip(&short) {
        if way.walk_always {
            assert!(r.skipped().is_empty(), "{way:?}: {:?}", r.skipped());
        } else {
            assert_eq!(r.skipped(), vec![COUNTRY_IDS], "{way:?}");
            assert_eq!(
                r.step(COUNTRY_IDS).output,
                vec![format!(
                    "{SKIPPED}countries is empty (Dawarich loads it in db:seed, after its migrations)"
                )]
            );
            assert_eq!(r.step(COUNTRY_IDS).rows, Some(0));
        }
        // the latlon backfill has a skip-when too, but its rows do change (the duplicates are gone);
        // fused, it runs in one walk with the country names (every other point), the motion-data and
        // altitude backfills (every point changes) and the reverse-geocoding timestamps (no point has
        // geodata)
        let walk = if way.walk_separately {
            assert_eq!(r.step(LATLON).rows, Some(3000), "{way:?}");
            assert!(r.steps.iter().all(|s| s.title != FUSED), "{way:?}");
            r.step(LATLON)
        } else {
            assert_eq!(r.step(FUSED).rows, Some(1500 + 3000 + 3000 + 3000), "{way:?}");
            assert!(r.steps.iter().all(|s| s.title != LATLON), "{way:?}");
            r.step(FUSED)
        };
        // while Dawarich is stopped, a walk that changes most rows sets the indexes aside
        let aside: Vec<&String> = walk.output.iter().filter(|l| l.contains(ASIDE)).collect();
        let sets_aside = way.dawarich_stopped && way.aside;
        assert_eq!(aside.len(), usize::from(sets_aside), "{way:?}: {:?}", walk.output);
        assert_eq!(
            (r.aside.0, r.aside.2),
            (r.aside.1, 0),
            "{way:?}: every index set aside is built again"
        );
        assert_eq!(r.own_index_comment.as_deref(), Some("ours"), "{way:?}");
        // every plain build waits while Dawarich is stopped and the indexes go aside at any size;
        // some are dropped by a later migration before they are built (index_points_on_country_name)
        if sets_aside {
            assert!(
                r.deferred.0 > r.deferred.1 && r.deferred.1 > 0,
                "{way:?}: {:?}",
                r.deferred
            );
            // a unique index is set aside only when a later migration drops it again: never built
            let deferred = |title: &str, index: &str| {
                let line = format!("index {index} of points set aside before it is built");
                r.step(title).output.iter().any(|l| l.starts_with(&line))
            };
            assert!(deferred(
                "Schema migration 20250120154555 add_unique_index_to_points",
                "unique_points_lat_long_timestamp_user_id_index"
            ));
            assert!(!deferred(
                "Schema migration 20250221194509 add_unique_lon_lat_index_to_points",
                "index_points_on_lonlat_timestamp_user_id"
            ));
        } else {
            assert_eq!(r.deferred.0, 0, "{way:?}");
        }
        match (sets_aside, way.walk_separately) {
            (false, _) => assert_eq!(r.aside.0, 0, "{way:?}"),
            (true, false) => assert_eq!(
                r.aside.0 + r.deferred.2,
                r.indexes - 1,
                "{way:?}: the plain ones but the commented one, set aside for the walk or before they were built"
            ),
            (true, true) => assert!(r.aside.0 > r.indexes, "{way:?}: {:?}", r.aside),
        }
    }
    assert_eq!(long.step(LATLON).rows, Some(3000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fused_walk_leaves_out_a_member_that_cannot_change_a_row() {
    // 1.4.0 (users' points_count as Dawarich keeps it) with its reverse-geocoding and latlon data
    // migrations pending again: their jobs follow the altitude backfill's in the job phase. Every
    // point has lonlat, so the latlon job cannot change a row: the fused walk runs the other two.
    let (template, db) = dawarich_db("1.4.0", 2, 3000).await;
    db.batch_execute(
        "DELETE FROM data_migrations WHERE version IN ('20241202125248', '20250222213848');
         UPDATE users SET points_count = (SELECT count(*) FROM points WHERE points.user_id = users.id);
         UPDATE points SET geodata = '{\"city\": \"Berlin\"}' WHERE id % 3 = 0",
    )
    .await
    .unwrap();
    drop(db);
    let (long, short) = same_end_state(&template).await;
    assert_eq!(long.step(LATLON).rows, Some(0));
    for (way, r) in SHORT.iter().zip(&short) {
        match (way.walk_always, way.walk_separately) {
            (false, false) => {
                assert_eq!(
                    r.step(FUSED_SINCE_1_4_0).output[0],
                    format!("20250222213848 migrate_points_latlon: {SKIPPED}every point has lonlat"),
                    "{way:?}"
                );
                assert_eq!(r.step(FUSED_SINCE_1_4_0).rows, Some(3000 + 1000), "{way:?}");
            }
            (true, false) => assert_eq!(r.step(FUSED_SINCE_1_4_0).rows, Some(3000 + 1000), "{way:?}"),
            (_, true) => assert!(r.steps.iter().all(|s| s.title != FUSED_SINCE_1_4_0), "{way:?}"),
        }
        // walked on their own with the indexes set aside where it pays: the altitude backfill
        // changes every row of its first range and sets them aside; the reverse-geocoding one
        // changes a third, so it keeps them and walks the rest as usual
        if way.walk_separately && way.dawarich_stopped && way.aside {
            let sets_aside = |title: &str| r.step(title).output.iter().any(|l| l.contains(ASIDE));
            assert!(sets_aside(ALTITUDE), "{way:?}");
            assert!(!sets_aside(REVERSE_GEOCODED), "{way:?}");
            assert_eq!(r.step(REVERSE_GEOCODED).rows, Some(1000), "{way:?}");
        }
    }
}

/// Dawarich stopped, ranges of 50 and the indexes set aside at any size.
fn aside_in_ranges_of_50() -> UpgradeOptions {
    UpgradeOptions {
        audit_file: None,
        batch_size: Some(50),
        dawarich_stopped: true,
        aside_from_rows: 0,
        ..Default::default()
    }
}

/// A unique index stays in place while the plain ones are set aside: a duplicate fails the range
/// that writes it, as in a walk with every index in place. The ranges committed before stay, and the
/// indexes set aside are built again before the error is reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_under_a_unique_index_fails_its_range_and_the_indexes_set_aside_are_built_again() {
    // 0.11.1 with a self-hoster's unique index over whether points past the first range have an
    // altitude (none has one before the walk; the altitude backfill gives every point one)
    let (_, db) = dawarich_db("0.11.1", 2, 300).await;
    db.batch_execute(
        "UPDATE points SET altitude = NULL;
         CREATE UNIQUE INDEX own_unique_altitude ON points ((altitude IS NOT NULL)) WHERE id > 100 AND altitude IS NOT NULL",
    )
    .await
    .unwrap();
    let opts = aside_in_ranges_of_50();
    let url = cluster().url(&db.database);
    let set_aside = AtomicBool::new(false);
    let progress = |e: ProgressEvent| {
        if matches!(&e, ProgressEvent::Output { line, .. } if line.contains(ASIDE)) {
            set_aside.store(true, SeqCst);
        }
    };
    let e = upgrade(&options(&url), &opts, &progress, &Cancel::new())
        .await
        .unwrap_err()
        .to_string();
    assert!(set_aside.load(SeqCst));
    assert!(
        e.contains("duplicate key value violates unique constraint \"own_unique_altitude\""),
        "{e}"
    );
    // the first range (ids 1 to 50, indexes in place) committed; the range that wrote the duplicate
    // did not; nothing is left set aside
    let left = db
        .query_one(
            "SELECT count(*) FILTER (WHERE altitude IS NOT NULL), count(*) FILTER (WHERE lonlat IS NOT NULL),
                    (SELECT count(*) FROM dawarich_doctor.index_aside)
             FROM points",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (left.get::<_, i64>(0), left.get::<_, i64>(1), left.get::<_, i64>(2)),
        (50, 50, 0)
    );
    // every index is as before the walk: the indexes of points once the upgrade is done (without the
    // self-hoster's index), and that one
    let mut after = index_definitions(&db).await;
    let own = after
        .iter()
        .position(|d| d.contains(" own_unique_altitude "))
        .expect("own index kept");
    after.remove(own);
    db.batch_execute("DROP INDEX own_unique_altitude").await.unwrap();
    upgrade(&options(&url), &opts, &Silent, &Cancel::new()).await.unwrap();
    assert_eq!(after, index_definitions(&db).await);
    assert!(after.len() > 15, "{after:?}");
}

/// A walk cancelled once the plain indexes are set aside leaves them recorded and says so; the next
/// run finishes the walk and builds them: the same indexes as a run that was not cancelled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_walk_cancelled_with_the_indexes_set_aside_leaves_them_to_the_next_run() {
    let (template, db) = dawarich_db("0.11.1", 2, 300).await;
    drop(db);
    let opts = aside_in_ranges_of_50();
    let straight = connect_url(&cluster().url(&copy_of(&template).await)).await;
    upgrade(
        &options(&cluster().url(&straight.database)),
        &opts,
        &Silent,
        &Cancel::new(),
    )
    .await
    .unwrap();
    let url = cluster().url(&copy_of(&template).await);
    let cancel = Cancel::new();
    let progress = |e: ProgressEvent| {
        if matches!(&e, ProgressEvent::Output { line, .. } if line.contains(ASIDE)) {
            cancel.cancel();
        }
    };
    let e = upgrade(&options(&url), &opts, &progress, &cancel)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("15 index(es) of points stay set aside"), "{e}");
    let db = connect_url(&url).await;
    // the 15 plain indexes of points at 1.7.5 (set aside for the walk or before they were built),
    // and the builds of other tables set aside for the last step
    let recorded = "SELECT count(*) FILTER (WHERE table_name = 'points'), count(*) FROM dawarich_doctor.index_aside";
    let count = |r: tokio_postgres::Row| (r.get::<_, i64>(0), r.get::<_, i64>(1));
    let (points, all) = count(db.query_one(recorded, &[]).await.unwrap());
    assert_eq!(points, 15);
    assert!(all > points, "{all}");
    // diagnose names them, and says what to do
    let set_aside = |d: Diagnosis| d.checks.into_iter().find(|c| c.id == CheckId::IndexesSetAside).unwrap();
    let c = set_aside(diagnose(&db, &DiagnoseOptions::default(), &Silent).await.unwrap());
    assert_eq!((c.status, c.count), (CheckStatus::Warning, Some(all)));
    assert!(c.detail.contains("Run the upgrade again"), "{}", c.detail);
    assert_eq!(c.sample.len(), 10);
    upgrade(&options(&url), &opts, &Silent, &Cancel::new()).await.unwrap();
    assert_eq!(count(db.query_one(recorded, &[]).await.unwrap()), (0, 0));
    let c = set_aside(diagnose(&db, &DiagnoseOptions::default(), &Silent).await.unwrap());
    assert_eq!((c.status, c.count), (CheckStatus::Ok, Some(0)));
    assert_eq!(index_definitions(&db).await, index_definitions(&straight).await);
}

/// The definitions of the valid indexes of points, in order.
async fn index_definitions(db: &Db) -> Vec<String> {
    let sql = "SELECT pg_get_indexdef(indexrelid) FROM pg_index
               WHERE indrelid = 'points'::regclass AND indisvalid ORDER BY 1";
    let rows = db.query(sql, &[]).await.unwrap();
    rows.iter().map(|r| r.get(0)).collect()
}

/// Runs `sql` on `db` for ids `[1, 1000000)` (and `$3`, the versions, for a combined statement);
/// returns the rows it changed, per member.
async fn whole_range(db: &Db, sql: &str, versions: Option<&[&str]>) -> Vec<i64> {
    let (lo, hi) = (1i64, 1_000_000i64);
    match versions {
        None => vec![db.execute(sql, &[&lo, &hi]).await.unwrap() as i64],
        Some(v) => {
            let row = db.query_one(sql, &[&lo, &hi, &v]).await.unwrap();
            v.iter().map(|v| row.get(*v)).collect()
        }
    }
}

/// The combined statement of each fuse group changes exactly what its members change one after
/// another (in the job phase's order), for every set of at least two of them, on points of every
/// kind the members tell apart.
#[tokio::test]
async fn a_combined_statement_does_what_its_members_do_one_after_another() {
    let (_, db) = dawarich_db("1.7.5", 3, 600).await;
    db.batch_execute(
        "INSERT INTO countries (name, iso_a2, iso_a3, geom, created_at, updated_at)
         VALUES ('Testland', 'TL', 'TST', ST_Multi(ST_MakeEnvelope(0, 0, 1, 1, 4326)), now(), now()),
                (' ', 'BL', 'BLK', ST_Multi(ST_MakeEnvelope(2, 2, 3, 3, 4326)), now(), now());
         UPDATE users SET points_count = (SELECT count(*) FROM points WHERE points.user_id = users.id);
         UPDATE users SET points_count = 0 WHERE id = (SELECT min(id) + 1 FROM users);
         UPDATE users SET deleted_at = now() WHERE id = (SELECT max(id) FROM users);
         UPDATE points SET raw_data = CASE id % 12
             WHEN 0 THEN '{\"alt\": 41.237}'
             WHEN 1 THEN '{\"properties\": {\"altitude\": \" 12.5m\"}}'
             WHEN 2 THEN '{\"properties\": {\"altitude\": \"\"}, \"geometry\": {\"coordinates\": [13.1, 52.1, 99.9]}}'
             WHEN 3 THEN '{\"altitudeMeters\": null}'
             WHEN 4 THEN '{\"ele\": \"abc\"}'
             WHEN 5 THEN '{\"altitude\": [1]}'
             WHEN 6 THEN '{}'
             WHEN 7 THEN '[1, 2]'
             WHEN 8 THEN '{\"alt\": 1e12}'
             WHEN 9 THEN '{\"alt\": 7}'
             WHEN 10 THEN '{\"properties\": {\"motion\": [\"walking\"], \"action\": null}, \"activity\": \"still\", \"m\": 2}'
             ELSE raw_data END,
           motion_data = CASE WHEN id % 7 = 0 THEN '{\"m\": 2}'::jsonb ELSE '{}' END,
           altitude = CASE WHEN id % 12 = 9 THEN 7 WHEN id % 5 = 0 THEN 41 END,
           altitude_decimal = CASE WHEN id % 10 = 0 THEN 41.24 END,
           geodata = CASE WHEN id % 4 = 0 THEN '{\"city\": \"Berlin\"}'::jsonb ELSE '{}' END,
           reverse_geocoded_at = CASE WHEN id % 8 = 0 THEN now() - interval '1 day' END,
           lonlat = CASE WHEN id % 3 = 0 THEN NULL ELSE lonlat END,
           latitude = CASE WHEN id % 9 = 0 THEN NULL ELSE latitude END,
           country = CASE id % 6 WHEN 1 THEN 'Germany' WHEN 2 THEN '  ' WHEN 3 THEN '' END,
           country_id = CASE id % 5
             WHEN 1 THEN (SELECT min(id) FROM countries) WHEN 2 THEN (SELECT max(id) FROM countries) WHEN 3 THEN -1 END,
           country_name = CASE WHEN id % 11 = 1 THEN 'Already named' END;
         UPDATE points SET user_id = NULL WHERE id % 17 = 0;",
    )
    .await
    .unwrap();
    let since = run_start(&db).await;
    let c = catalog();
    let mut compared = 0;
    for f in &c.fused {
        // the members in the job phase's order: schema migrations' jobs first, then by version
        let mut members: Vec<_> = c
            .migrations
            .iter()
            .filter(|m| {
                m.fusable_job()
                    .is_some_and(|(_, _, b)| b.fuse.as_deref() == Some(f.group.as_str()))
            })
            .collect();
        members.sort_by_key(|m| (m.kind != MigrationKind::Schema, m.version.clone()));
        for set in 1..(1u32 << members.len()) {
            if set.count_ones() < 2 {
                continue;
            }
            let chosen: Vec<_> = members
                .iter()
                .enumerate()
                .filter(|(i, _)| set & (1 << i) != 0)
                .map(|(_, m)| *m)
                .collect();
            let versions: Vec<&str> = chosen.iter().map(|m| m.version.as_str()).collect();
            db.batch_execute("BEGIN").await.unwrap();
            let mut one_by_one = Vec::new();
            for m in &chosen {
                one_by_one.extend(whole_range(&db, &m.fusable_job().unwrap().1.sql, None).await);
            }
            let want = table_checksums(&db, "public", Some(&since)).await;
            db.batch_execute("ROLLBACK; BEGIN").await.unwrap();
            let combined = whole_range(&db, &f.sql, Some(&versions)).await;
            let got = table_checksums(&db, "public", Some(&since)).await;
            db.batch_execute("ROLLBACK").await.unwrap();
            assert_eq!(combined, one_by_one, "{}: {versions:?}", f.group);
            assert_eq!(got, want, "{}: {versions:?}", f.group);
            assert!(
                one_by_one.iter().all(|n| *n > 0),
                "{versions:?}: {one_by_one:?}: every member changes rows here"
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 26);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_whose_rows_match_is_walked() {
    // 0.26.1 with its country data migration pending and one country holding the first 1000 points
    let (template, db) = dawarich_db("0.26.1", 2, 3000).await;
    db.batch_execute(
        "DELETE FROM data_migrations WHERE version = '20250516180933';
         INSERT INTO countries (name, iso_a2, iso_a3, geom, created_at, updated_at)
         VALUES ('Testland', 'TL', 'TST', ST_Multi(ST_MakeEnvelope(12.9, 51.9, 13.1, 52.010005, 4326)), now(), now())",
    )
    .await
    .unwrap();
    drop(db);
    let (_, short) = same_end_state(&template).await;
    for (way, r) in SHORT.iter().zip(&short) {
        assert!(r.skipped().is_empty(), "{way:?}: {:?}", r.skipped());
        assert_eq!(r.step(COUNTRY_IDS).rows, Some(1000), "{way:?}");
    }
}

/// Every `skip-when` of the catalog is valid at the newest release and answered without reading
/// points from start to end (an index or a small table).
#[tokio::test]
async fn every_skip_condition_is_cheap() {
    let (_, db) = dawarich_db("1.7.5", 2, 100).await;
    db.batch_execute("SET enable_seqscan = off").await.unwrap();
    let mut n = 0;
    for m in &dawarich_doctor::catalog::catalog().migrations {
        for b in m.statements.iter().filter_map(|s| s.batch.as_ref()) {
            for c in &b.skip_when {
                let plan: Vec<String> = db
                    .query(&format!("EXPLAIN SELECT ({})::bool", c.sql), &[])
                    .await
                    .unwrap_or_else(|e| panic!("{}: {}: {e}", m.label(), c.sql))
                    .iter()
                    .map(|r| r.get(0))
                    .collect();
                assert!(
                    !plan.iter().any(|l| l.contains("Seq Scan on points")),
                    "{}: {} scans points:\n{}",
                    m.label(),
                    c.sql,
                    plan.join("\n")
                );
                n += 1;
            }
        }
    }
    assert!(n >= 7, "{n} skip-when conditions");
}
