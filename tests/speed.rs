//! The shortcuts of an upgrade leave exactly the database the long way leaves: a batched statement
//! whose `skip-when` holds is not walked, and index builds run without CONCURRENTLY while Dawarich is
//! stopped. Each comparison runs the same upgrade on copies of one database and compares every row,
//! the schema and every recorded version.

mod common;

use std::sync::Mutex;

use common::*;
use dawarich_doctor::connect::Db;
use dawarich_doctor::migrate::{upgrade, UpgradeOptions};
use dawarich_doctor::progress::{Cancel, ProgressEvent};

/// A 0.11.1 → newest run takes the skip here (`countries` is created empty in it).
const COUNTRY_IDS: &str = "Job work of 20250516180933 set_points_country_ids";
/// … and walks this one (every point lacks lonlat at 0.11.1).
const LATLON: &str = "Job work of 20250222213848 migrate_points_latlon";
const SKIPPED: &str = "no row can change: ";

/// How a run goes: the catalog's skips taken or not, Dawarich stopped or not.
#[derive(Debug, Clone, Copy)]
struct Way {
    walk_always: bool,
    dawarich_stopped: bool,
}

const LONG: Way = Way {
    walk_always: true,
    dawarich_stopped: false,
};

const SHORT: [Way; 3] = [
    Way {
        walk_always: false,
        dawarich_stopped: false,
    },
    Way {
        walk_always: true,
        dawarich_stopped: true,
    },
    Way {
        walk_always: false,
        dawarich_stopped: true,
    },
];

/// What an upgrade left: every table (run times and run ids masked), our own tables but the audit
/// log, the schema, the recorded versions.
#[derive(Debug, PartialEq)]
struct EndState {
    tables: Vec<(String, i64, String)>,
    ours: Vec<(String, i64, String)>,
    schema: Vec<String>,
    versions: Vec<String>,
}

/// What one run did: its end state, the steps with their output lines and rows, and the index
/// builds it ran.
struct Ran {
    state: EndState,
    steps: Vec<Step>,
    concurrent_builds: i64,
    plain_builds: i64,
}

#[derive(Default)]
struct Step {
    title: String,
    output: Vec<String>,
    rows: Option<u64>,
}

impl Ran {
    fn step(&self, title: &str) -> &Step {
        self.steps
            .iter()
            .find(|s| s.title == title)
            .unwrap_or_else(|| panic!("no step {title}"))
    }

    fn skipped(&self) -> Vec<&str> {
        self.steps
            .iter()
            .filter(|s| s.output.iter().any(|l| l.starts_with(SKIPPED)))
            .map(|s| s.title.as_str())
            .collect()
    }
}

/// A new database copied from `template` (our closed sessions on it may still be ending).
async fn copy_of(template: &str) -> String {
    let admin = connect_url(&cluster().url("postgres")).await;
    let name = new_db("copy", false).await;
    admin
        .execute(
            "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE datname = $1",
            &[&template],
        )
        .await
        .unwrap();
    admin.batch_execute(&format!("DROP DATABASE \"{name}\"")).await.unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""))
        .await
        .unwrap();
    name
}

async fn end_state(db: &Db, since: &str) -> EndState {
    let mut ours = table_checksums(db, "dawarich_doctor", Some(since)).await;
    ours.retain(|(t, _, _)| t != "dawarich_doctor.audit_log");
    let versions = column(
        db,
        "SELECT 'schema ' || version FROM schema_migrations UNION ALL SELECT 'data ' || version FROM data_migrations ORDER BY 1",
    )
    .await;
    EndState {
        tables: table_checksums(db, "public", Some(since)).await,
        ours,
        schema: [schema_of(db, "public").await, schema_of(db, "dawarich_doctor").await].concat(),
        versions,
    }
}

/// Upgrades a copy of `template` to the newest release the given way.
async fn run(template: &str, way: Way) -> Ran {
    let name = copy_of(template).await;
    let db = connect_url(&cluster().url(&name)).await;
    let since: String = db
        .query_one("SELECT least(localtimestamp, now() AT TIME ZONE 'UTC')::text", &[])
        .await
        .unwrap()
        .get(0);
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
    Ran {
        state: end_state(&db, &since).await,
        steps: steps.into_inner().unwrap(),
        concurrent_builds,
        plain_builds,
    }
}

/// Compares each shortcut with the long way on copies of `template`; returns the long run and the
/// runs of `SHORT`.
async fn same_end_state(template: &str) -> (Ran, Vec<Ran>) {
    let long = run(template, LONG).await;
    assert!(long.skipped().is_empty(), "{:?}", long.skipped());
    assert_eq!(long.plain_builds, 0);
    let mut short = Vec::new();
    for way in SHORT {
        let r = run(template, way).await;
        assert_eq!(r.state, long.state, "{way:?}");
        if way.dawarich_stopped {
            assert_eq!(
                (r.concurrent_builds, r.plain_builds),
                (0, long.concurrent_builds),
                "{way:?}: every concurrent build runs plain"
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
    // duplicates (quarantined before the unique index is built) and an INVALID leftover of an index a
    // pending migration builds (dropped and rebuilt)
    dawarich_doctor_testkit::fixtures::duplicate_points(&db, 5)
        .await
        .unwrap();
    dawarich_doctor_testkit::fixtures::invalid_index(&db, "index_visits_on_started_at", "visits", "started_at")
        .await
        .unwrap();
    drop(db);
    let (long, short) = same_end_state(&template).await;
    assert!(long.concurrent_builds > 20, "{}", long.concurrent_builds);
    let quarantined = long
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
        // the latlon backfill has a skip-when too, but its rows do change (the duplicates are gone)
        assert_eq!(r.step(LATLON).rows, Some(3000), "{way:?}");
    }
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
