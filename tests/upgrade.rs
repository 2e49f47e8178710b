//! Upgrading real databases from many starting releases to the newest, with Rails' bookkeeping.

mod common;

use common::*;
use dawarich_doctor::migrate::{plan, upgrade, UpgradeOptions};
use dawarich_doctor::progress::{Cancel, Silent};
use dawarich_doctor::schema::verify;
use dawarich_doctor_model::MigrationKind;

fn opts() -> UpgradeOptions {
    UpgradeOptions {
        audit_file: None,
        ..Default::default()
    }
}

async fn upgrade_and_verify(tag: &str, users: i64, points: i64) {
    let (name, db) = dawarich_db(tag, users, points).await;
    let conn = options(&cluster().url(&name));
    let before: i64 = db.query_one("SELECT count(*) FROM points", &[]).await.unwrap().get(0);
    let out = upgrade(&conn, &opts(), &Silent, &Cancel::new())
        .await
        .unwrap_or_else(|e| panic!("{tag}: {e}"));
    assert!(!out.applied.is_empty(), "{tag}: nothing applied");
    let diffs = verify(&db, "1.7.5").await.unwrap();
    let real: Vec<_> = diffs
        .iter()
        .filter(|d| d.change != dawarich_doctor_model::Change::Extra)
        .collect();
    assert!(real.is_empty(), "{tag}: {real:#?}");
    let c = dawarich_doctor::catalog::catalog();
    let recorded = dawarich_doctor::applied::read_applied(&db, &name).await.unwrap();
    assert!(
        c.versions("1.7.5", MigrationKind::Schema).is_subset(&recorded.schema),
        "{tag}: schema versions missing"
    );
    assert!(
        c.versions("1.7.5", MigrationKind::Data).is_subset(&recorded.data),
        "{tag}: data versions missing"
    );
    let after: i64 = db.query_one("SELECT count(*) FROM points", &[]).await.unwrap().get(0);
    assert_eq!(before, after, "{tag}: points lost or gained");
    // a second upgrade finds nothing to do
    let again = plan(&db, None, &Default::default()).await.unwrap();
    let work: Vec<_> = again
        .steps
        .iter()
        .filter(|s| s.version.is_some())
        .map(|s| s.title.clone())
        .collect();
    assert!(work.is_empty(), "{tag}: second plan still has {work:?}");
    let out = upgrade(&conn, &opts(), &Silent, &Cancel::new()).await.unwrap();
    assert!(out.applied.is_empty());
    // the Rails lock is free again
    let lock = dawarich_doctor::locks::lock_report(&db, &name, 0.0).await.unwrap();
    assert!(
        !lock.held,
        "{tag}: the migration lock is still held: {:?}",
        lock.holders
    );
    // Rails records the environment of the Dawarich that runs: the stock compose's for 1.7.5
    let env = dawarich_doctor::applied::read_applied(&db, &name)
        .await
        .unwrap()
        .environment;
    assert_eq!(env.as_deref(), Some("production"));
}

#[tokio::test]
async fn from_0_9_5() {
    upgrade_and_verify("0.9.5", 2, 300).await;
}

#[tokio::test]
async fn from_0_11_1_whose_schema_rb_lacked_place_visits() {
    upgrade_and_verify("0.11.1", 2, 300).await;
}

#[tokio::test]
async fn from_0_20_0() {
    upgrade_and_verify("0.20.0", 2, 300).await;
}

#[tokio::test]
async fn from_0_25_0() {
    upgrade_and_verify("0.25.0", 2, 300).await;
}

#[tokio::test]
async fn from_0_30_0() {
    upgrade_and_verify("0.30.0", 2, 300).await;
}

#[tokio::test]
async fn from_1_0_0() {
    upgrade_and_verify("1.0.0", 2, 300).await;
}

#[tokio::test]
async fn from_1_3_0_with_its_leaked_tables() {
    upgrade_and_verify("1.3.0", 2, 300).await;
}

#[tokio::test]
async fn a_database_newer_than_the_catalog_is_refused() {
    let (name, db) = dawarich_db("1.7.5", 0, 0).await;
    db.batch_execute("INSERT INTO schema_migrations VALUES ('20260813120000')")
        .await
        .unwrap();
    let e = plan(&db, None, &Default::default()).await.unwrap_err();
    assert!(
        matches!(&e, dawarich_doctor::Error::UnknownVersions { versions, .. } if versions == "20260813120000"),
        "{e}"
    );
    let e = upgrade(&options(&cluster().url(&name)), &opts(), &Silent, &Cancel::new())
        .await
        .unwrap_err();
    assert_eq!(e.report().kind, dawarich_doctor_model::ErrorKind::UnknownVersions);
}

#[tokio::test]
async fn rows_a_migration_leaves_alone_are_reported_as_warnings() {
    let (name, db) = dawarich_db("1.0.0", 1, 20).await;
    // GeoJSON points without a timestamp: one readable date, two that cannot be read
    db.batch_execute(
        "UPDATE points SET timestamp = NULL, raw_data = '{\"properties\": {\"date\": \"2024-05-01T10:00:00Z\"}}' WHERE id = 1;
         UPDATE points SET timestamp = NULL, raw_data = '{\"properties\": {\"date\": \"last tuesday\"}}' WHERE id IN (2, 3);",
    )
    .await
    .unwrap();
    let warnings = std::sync::Mutex::new(Vec::new());
    let progress = |e: dawarich_doctor::progress::ProgressEvent| {
        if let dawarich_doctor::progress::ProgressEvent::Warning { message, .. } = e {
            warnings.lock().unwrap().push(message);
        }
    };
    upgrade(&options(&cluster().url(&name)), &opts(), &progress, &Cancel::new())
        .await
        .unwrap();
    let ts: Option<i32> = db
        .query_one("SELECT timestamp FROM points WHERE id = 1", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(ts, Some(1714557600));
    let w = warnings.into_inner().unwrap();
    assert!(
        w.iter()
            .any(|m| m.starts_with("20260113230537: 2 point(s) keep timestamp NULL")),
        "{w:#?}"
    );
}

/// A `--to` older than the newest: from the release before each release that ships a data migration
/// (or a migration whose translation needs a later column), the upgrade either reaches it or refuses
/// before any change, naming the release to choose instead; never a database error half-way.
#[tokio::test]
async fn each_release_with_data_work_is_reached_from_its_predecessor_or_refused_up_front() {
    let c = dawarich_doctor::catalog::catalog();
    let mut targets: Vec<usize> = c
        .migrations
        .iter()
        .filter(|m| m.kind == MigrationKind::Data || !m.needs.is_empty())
        .filter_map(|m| c.releases.iter().position(|r| r.tag == m.release))
        .filter(|&i| i > 0)
        .collect();
    targets.sort();
    targets.dedup();
    let (mut reached, mut refused) = (0, 0);
    for i in targets {
        let (prev, to) = (&c.releases[i - 1].tag, &c.releases[i].tag);
        let (name, db) = dawarich_db(prev, 2, 200).await;
        // schema migrations run first: a refusal after any change would show here
        let count = "SELECT count(*) FROM schema_migrations";
        let before: i64 = db.query_one(count, &[]).await.unwrap().get(0);
        let o = UpgradeOptions {
            target: Some(to.clone()),
            ..opts()
        };
        match upgrade(&options(&cluster().url(&name)), &o, &Silent, &Cancel::new()).await {
            Ok(_) => {
                let d = verify(&db, to).await.unwrap();
                // the catalog follows each file as it is at 1.7.5: two files Dawarich rewrote after
                // shipping them leave a column type of that older release's schema.rb different
                // (tracks.distance at 0.30.0, points.altitude at 1.5.0); nothing may be missing
                assert!(
                    d.iter().all(|d| d.change != dawarich_doctor_model::Change::Missing),
                    "{prev} -> {to}: {d:?}"
                );
                for x in d
                    .iter()
                    .filter(|d| d.change == dawarich_doctor_model::Change::Different)
                {
                    println!(
                        "{prev} -> {to}: {} is {:?}, that release's schema.rb has {:?}",
                        x.name, x.actual, x.expected
                    );
                }
                reached += 1;
            }
            Err(e) => {
                assert!(
                    e.to_string().contains("or newer (leave out --to"),
                    "{prev} -> {to}: {e}"
                );
                let after: i64 = db.query_one(count, &[]).await.unwrap().get(0);
                assert_eq!(before, after, "{prev} -> {to}: refused, yet something was recorded");
                refused += 1;
            }
        }
    }
    println!("reached {reached}, refused up front {refused}");
    assert!(reached > 0 && refused > 0);
}
