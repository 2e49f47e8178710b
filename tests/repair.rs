//! Repairs on fixtures with known answers: exact counts per strategy, quarantined rows equal the
//! originals, undo gives back a checksum-identical database, a crash mid-way converges.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};

use common::*;
use dawarich_doctor::connect::Db;
use dawarich_doctor::progress::{Cancel, ProgressEvent, Silent};
use dawarich_doctor::repair::{preview, repair, undo, RepairOptions};
use dawarich_doctor_model::RepairPreview;
use dawarich_doctor_model::{CheckId, StrategyId};

fn opts(check: &str, strategy: &str) -> RepairOptions {
    RepairOptions {
        check: CheckId::parse(check).unwrap(),
        strategy: StrategyId::parse(strategy).unwrap(),
        user: None,
        batch_size: 40,
        audit_file: None,
    }
}

async fn checksum(db: &Db, table: &str) -> (i64, String) {
    let r = db
        .query_one(
            &format!(
                "SELECT count(*), coalesce(md5(string_agg(to_jsonb(t)::text, '|' ORDER BY id)), '') FROM {table} t"
            ),
            &[],
        )
        .await
        .unwrap();
    (r.get(0), r.get(1))
}

fn rule(p: &RepairPreview, strategy: &str, rule: &str) -> i64 {
    let s = p.strategies.iter().find(|s| s.name.as_str() == strategy).unwrap();
    s.rules
        .iter()
        .find(|r| r.rule == rule)
        .unwrap_or_else(|| panic!("no rule {rule} in {s:?}"))
        .count
}

/// 3 users, 300 points; 30 lose their owner: 10 carry user 2's import, 10 user 3's private
/// OwnTracks topic, 10 nothing that names an owner.
async fn orphans() -> (String, Db) {
    let (name, db) = dawarich_db("1.3.1", 3, 300).await;
    db.batch_execute(
        "UPDATE points SET topic = 'owntracks/u3/phone', tracker_id = 'u3' WHERE user_id = 3;
         UPDATE points SET import_id = NULL WHERE user_id = 3;
         UPDATE points SET user_id = NULL WHERE id IN (SELECT id FROM points WHERE user_id = 2 ORDER BY id LIMIT 10);
         UPDATE points SET user_id = NULL WHERE id IN (SELECT id FROM points WHERE user_id = 3 ORDER BY id LIMIT 10);
         UPDATE points SET user_id = NULL, import_id = NULL, topic = 'owntracks/shared', tracker_id = 'xx' WHERE id IN (SELECT id FROM points WHERE user_id = 1 ORDER BY id LIMIT 10);
         ANALYZE points;",
    )
    .await
    .unwrap();
    (name, db)
}

#[tokio::test]
async fn owners_are_inferred_rule_by_rule_then_assigned_and_undo_restores_everything() {
    let (name, db) = orphans().await;
    let before = checksum(&db, "points").await;
    let p = preview(&db, CheckId::parse("points-without-user").unwrap())
        .await
        .unwrap();
    assert_eq!(p.count, 30);
    assert_eq!(rule(&p, "infer", "import"), 10);
    assert_eq!(rule(&p, "infer", "owntracks-topic"), 10);
    assert_eq!(
        rule(&p, "infer", "owntracks-tracker-id"),
        0,
        "already resolved by the topic rule"
    );
    assert_eq!(rule(&p, "infer", "unresolved"), 10);
    assert!(
        p.strategies
            .iter()
            .find(|s| s.name.as_str() == "infer")
            .unwrap()
            .rules
            .iter()
            .all(|r| r.rule != "only-user"),
        "3 users: no guessing"
    );

    let conn = options(&cluster().url(&name));
    let out = repair(&conn, &opts("points-without-user", "infer"), &Silent, &Cancel::new())
        .await
        .unwrap();
    let counts: Vec<(String, i64)> = out.rules.iter().map(|r| (r.rule.clone(), r.count)).collect();
    assert_eq!(
        counts,
        vec![
            ("import".into(), 10),
            ("owntracks-topic".into(), 10),
            ("owntracks-tracker-id".into(), 0)
        ]
    );
    let by_user: Vec<(i64, i64)> = db.query("SELECT user_id, count(*) FROM points WHERE id IN (SELECT unnest(row_ids) FROM dawarich_doctor.repair_undo) GROUP BY 1 ORDER BY 1", &[]).await.unwrap().iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(by_user, vec![(2, 10), (3, 10)]);

    let assign = repair(
        &conn,
        &RepairOptions {
            user: Some(1),
            ..opts("points-without-user", "assign")
        },
        &Silent,
        &Cancel::new(),
    )
    .await
    .unwrap();
    assert_eq!(assign.rules[0].count, 10);
    let left: i64 = db
        .query_one("SELECT count(*) FROM points WHERE user_id IS NULL", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
    // Dawarich's AddOwntracksPointsData precondition: every point has an existing, live owner
    let bad: i64 = db.query_one("SELECT count(*) FROM points p WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = p.user_id AND u.deleted_at IS NULL)", &[]).await.unwrap().get(0);
    assert_eq!(bad, 0);

    undo(&conn, &assign.run_id, None).await.unwrap();
    let rows = undo(&conn, &out.run_id, None).await.unwrap();
    assert_eq!(rows.iter().map(|r| r.reverted).sum::<i64>(), 20);
    assert_eq!(checksum(&db, "points").await, before);
}

#[tokio::test]
async fn a_deleted_or_missing_owner_can_be_quarantined_and_restored_exactly() {
    let (name, db) = dawarich_db("1.3.1", 3, 300).await;
    dawarich_doctor_testkit::fixtures::soft_delete_user(&db, 2)
        .await
        .unwrap();
    let before = checksum(&db, "points").await;
    let originals: Vec<String> = db
        .query(
            "SELECT to_jsonb(p)::text FROM points p WHERE user_id = 2 ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let p = preview(&db, CheckId::parse("points-user-soft-deleted").unwrap())
        .await
        .unwrap();
    assert_eq!(p.count, 100);
    let conn = options(&cluster().url(&name));
    let out = repair(
        &conn,
        &opts("points-user-soft-deleted", "quarantine"),
        &Silent,
        &Cancel::new(),
    )
    .await
    .unwrap();
    assert_eq!(out.quarantined, 100);
    let quarantined: Vec<String> = db
        .query("SELECT (to_jsonb(q) - '_run_id' - '_reason' - '_quarantined_at' - '_restored_at')::text FROM dawarich_doctor.quarantine_points q WHERE _run_id = $1 ORDER BY id", &[&out.run_id])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(quarantined, originals, "quarantine holds the rows exactly");
    assert_eq!(checksum(&db, "points").await.0, 200);
    let rows = undo(&conn, &out.run_id, None).await.unwrap();
    assert_eq!(rows.iter().map(|r| r.restored).sum::<i64>(), 100);
    assert_eq!(checksum(&db, "points").await, before);
}

#[tokio::test]
async fn a_single_user_instance_resolves_trivially() {
    let (name, db) = dawarich_db("0.9.12", 1, 100).await;
    db.batch_execute("UPDATE points SET user_id = NULL, import_id = NULL WHERE id <= 25")
        .await
        .unwrap();
    let p = preview(&db, CheckId::parse("points-without-user").unwrap())
        .await
        .unwrap();
    assert_eq!(rule(&p, "infer", "only-user"), 25);
    let out = repair(
        &options(&cluster().url(&name)),
        &opts("points-without-user", "infer"),
        &Silent,
        &Cancel::new(),
    )
    .await
    .unwrap();
    assert_eq!(out.rules.iter().map(|r| r.count).sum::<i64>(), 25);
}

#[tokio::test]
async fn lonlat_backfill_quarantines_twins_instead_of_failing() {
    let (name, db) = dawarich_db("0.25.4", 1, 200).await;
    db.batch_execute(
        "DROP INDEX index_points_on_lonlat_timestamp_user_id;
         INSERT INTO points (latitude, longitude, timestamp, user_id, lonlat, raw_data, created_at, updated_at)
           SELECT latitude, longitude, timestamp, user_id, NULL, raw_data, now(), now() FROM points WHERE id <= 6;
         INSERT INTO points (latitude, longitude, timestamp, user_id, lonlat, raw_data, created_at, updated_at)
           SELECT latitude, longitude, timestamp, user_id, NULL, raw_data, now(), now() FROM points WHERE id BETWEEN 11 AND 12;
         UPDATE points SET lonlat = NULL WHERE id BETWEEN 11 AND 20;
         CREATE UNIQUE INDEX index_points_on_lonlat_timestamp_user_id ON points (lonlat, timestamp, user_id);",
    )
    .await
    .unwrap();
    let before = checksum(&db, "points").await;
    let p = preview(&db, CheckId::parse("points-lonlat-missing").unwrap())
        .await
        .unwrap();
    // 6 twins of rows that have lonlat + 10 cleared rows + 2 twins of cleared rows
    assert_eq!(p.count, 18);
    assert_eq!(rule(&p, "backfill", "collision"), 8);
    assert_eq!(rule(&p, "backfill", "backfill"), 10);
    let conn = options(&cluster().url(&name));
    let out = repair(
        &conn,
        &opts("points-lonlat-missing", "backfill"),
        &Silent,
        &Cancel::new(),
    )
    .await
    .unwrap();
    assert_eq!(out.quarantined, 8);
    let missing: i64 = db
        .query_one("SELECT count(*) FROM points WHERE lonlat IS NULL", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(missing, 0);
    undo(&conn, &out.run_id, None).await.unwrap();
    assert_eq!(checksum(&db, "points").await, before);
}

#[tokio::test]
async fn duplicate_stats_keep_the_newest_like_dawarich() {
    let (name, db) = dawarich_db("0.36.2", 1, 10).await;
    db.batch_execute(
        "INSERT INTO stats (year, month, distance, user_id, created_at, updated_at) SELECT 2024, m, 1, 1, now(), now() FROM generate_series(1, 12) m;
         INSERT INTO stats (year, month, distance, user_id, created_at, updated_at) SELECT 2024, m, 2, 1, now(), now() FROM generate_series(1, 3) m;",
    )
    .await
    .unwrap();
    let out = repair(
        &options(&cluster().url(&name)),
        &opts("duplicate-stats", "quarantine"),
        &Silent,
        &Cancel::new(),
    )
    .await
    .unwrap();
    assert_eq!(out.quarantined, 3);
    let kept: Vec<i32> = db
        .query("SELECT distance FROM stats WHERE month <= 3 ORDER BY month", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(kept, vec![2, 2, 2], "the newest row of each month stays");
}

#[tokio::test]
async fn null_settings_get_an_empty_object_and_invalid_indexes_are_rebuilt() {
    let (name, db) = dawarich_db("0.26.2", 2, 10).await;
    db.batch_execute("UPDATE users SET settings = NULL WHERE id = 2")
        .await
        .unwrap();
    dawarich_doctor_testkit::fixtures::invalid_index(&db, "index_points_extra", "points", "created_at")
        .await
        .unwrap();
    let conn = options(&cluster().url(&name));
    repair(&conn, &opts("users-null-settings", "default"), &Silent, &Cancel::new())
        .await
        .unwrap();
    let s: String = db
        .query_one("SELECT settings::text FROM users WHERE id = 2", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(s, "{}", "no keys Dawarich never writes");
    let out = repair(&conn, &opts("invalid-indexes", "rebuild"), &Silent, &Cancel::new())
        .await
        .unwrap();
    let counts: Vec<(&str, i64)> = out.rules.iter().map(|r| (r.rule.as_str(), r.count)).collect();
    assert_eq!(counts, [("duplicates", 0), ("rebuild", 1)]);
    let invalid: i64 = db
        .query_one("SELECT count(*) FROM pg_index WHERE NOT indisvalid", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(invalid, 0);
    let exists: bool = db
        .query_one("SELECT to_regclass('index_points_extra') IS NOT NULL", &[])
        .await
        .unwrap()
        .get(0);
    assert!(exists);
}

#[tokio::test]
async fn an_invalid_unique_index_is_rebuilt_once_its_duplicates_are_quarantined() {
    let (name, db) = dawarich_db("1.7.5", 1, 20).await;
    // three points of the user at one time: a concurrent build of a unique index on them fails and
    // leaves it INVALID, as an interrupted Dawarich migration of any release does
    db.batch_execute(
        "UPDATE points SET \"timestamp\" = (SELECT min(\"timestamp\") FROM points) WHERE id IN (SELECT id FROM points ORDER BY id DESC LIMIT 2)",
    )
    .await
    .unwrap();
    let failed = db
        .batch_execute("CREATE UNIQUE INDEX CONCURRENTLY index_points_on_user_time ON points (user_id, \"timestamp\")")
        .await;
    assert!(failed.is_err());
    let extra: i64 = db
        .query_one(
            "SELECT count(*) - count(DISTINCT (user_id, \"timestamp\")) FROM points",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(extra, 2);
    let d = dawarich_doctor::diagnose::diagnose(&db, &Default::default(), &Silent)
        .await
        .unwrap();
    let c = d.checks.iter().find(|c| c.id == CheckId::InvalidIndexes).unwrap();
    assert_eq!(c.sample, ["index_points_on_user_time on points (2 duplicate rows)"]);
    let p = preview(&db, CheckId::InvalidIndexes).await.unwrap();
    assert_eq!(rule(&p, "rebuild", "duplicates"), 2);
    let newest: Vec<i64> = column(
        &db,
        "SELECT max(id) FROM points GROUP BY user_id, \"timestamp\" ORDER BY 1",
    )
    .await;
    let conn = options(&cluster().url(&name));
    let out = repair(&conn, &opts("invalid-indexes", "rebuild"), &Silent, &Cancel::new())
        .await
        .unwrap();
    assert_eq!(out.quarantined, 2);
    let valid: bool = db
        .query_one(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'index_points_on_user_time'::regclass",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(valid);
    let kept: Vec<i64> = column(&db, "SELECT id FROM points ORDER BY id").await;
    assert_eq!(kept, newest, "the newest point of each time stays");
    let moved: i64 = db
        .query_one("SELECT count(*) FROM dawarich_doctor.quarantine_points", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(moved, 2, "the others are kept aside");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_mid_repair_then_a_rerun_converges_without_loss() {
    let (name, db) = orphans().await;
    let total_before = checksum(&db, "points").await.0;
    let mut conn = options(&cluster().url(&name));
    conn.profile.application_name = "doctor-under-test".into();
    let ctl: Ctl = std::sync::Mutex::new(controller(cluster().url(&name), name.clone()));
    let fired = AtomicBool::new(false);
    let progress = |e: ProgressEvent| {
        if let ProgressEvent::StepProgress { done, .. } = e {
            if done > 0 && !fired.swap(true, Ordering::SeqCst) {
                send(&ctl, Cmd::TerminateApp("doctor-under-test"));
            }
        }
    };
    let small = RepairOptions {
        batch_size: 5,
        ..opts("points-without-user", "quarantine")
    };
    let e = repair(&conn, &small, &progress, &Cancel::new()).await.unwrap_err();
    assert!(e.session_ended(), "{e}");
    let partial: i64 = db
        .query_one("SELECT count(*) FROM dawarich_doctor.quarantine_points", &[])
        .await
        .unwrap()
        .get(0);
    assert!(partial < 30, "interrupted part-way ({partial} of 30)");
    repair(&conn, &small, &Silent, &Cancel::new()).await.unwrap();
    let (left, quarantined, distinct): (i64, i64, i64) = {
        let r = db.query_one("SELECT (SELECT count(*) FROM points), (SELECT count(*) FROM dawarich_doctor.quarantine_points), (SELECT count(DISTINCT id) FROM dawarich_doctor.quarantine_points)", &[]).await.unwrap();
        (r.get(0), r.get(1), r.get(2))
    };
    assert_eq!(quarantined, 30);
    assert_eq!(distinct, 30, "no row quarantined twice");
    assert_eq!(left + quarantined, total_before, "no row lost");
}

#[tokio::test]
async fn undo_still_works_after_an_upgrade_added_not_null_columns() {
    let (name, db) = dawarich_db("0.9.12", 1, 20).await;
    db.batch_execute("UPDATE points SET user_id = NULL WHERE id <= 3")
        .await
        .unwrap();
    let conn = options(&cluster().url(&name));
    let first = repair(
        &conn,
        &opts("points-without-user", "quarantine"),
        &Silent,
        &Cancel::new(),
    )
    .await
    .unwrap();
    // a later release adds a NOT NULL column with a default, and a later run quarantines again
    db.batch_execute("ALTER TABLE points ADD COLUMN raw_data_archived boolean DEFAULT false NOT NULL; UPDATE points SET user_id = NULL WHERE id = 4").await.unwrap();
    repair(
        &conn,
        &opts("points-without-user", "quarantine"),
        &Silent,
        &Cancel::new(),
    )
    .await
    .unwrap();
    let rows = undo(&conn, &first.run_id, None).await.unwrap();
    assert_eq!(rows.iter().map(|r| r.restored).sum::<i64>(), 3);
    let archived: Vec<bool> = db
        .query("SELECT raw_data_archived FROM points WHERE id <= 3 ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(archived, vec![false, false, false]);
}
