//! Diagnose against real Dawarich databases at several releases, with the real failure modes.

mod common;

use common::*;
use dawarich_doctor::diagnose::{diagnose, DiagnoseOptions};
use dawarich_doctor::locks::migration_lock_key;
use dawarich_doctor::progress::Silent;
use dawarich_doctor_model::{CheckStatus, Diagnosis, HolderVerdict};
use dawarich_doctor_testkit::fixtures;

fn check<'a>(d: &'a Diagnosis, id: &str) -> &'a dawarich_doctor_model::Check {
    d.checks
        .iter()
        .find(|c| c.id.as_str() == id)
        .unwrap_or_else(|| panic!("no check {id}"))
}

async fn run(db: &dawarich_doctor::connect::Db) -> Diagnosis {
    diagnose(db, &DiagnoseOptions::default(), &Silent).await.unwrap()
}

#[tokio::test]
async fn a_clean_0_11_1_install_is_recognised_and_has_no_problems() {
    let (_, db) = dawarich_db("0.11.1", 2, 500).await;
    let d = run(&db).await;
    assert_eq!(d.dawarich.release.as_deref(), Some("0.11.1"));
    assert_eq!(d.dawarich.environment.as_deref(), Some("development"));
    assert!(d.dawarich.pending_schema.contains(&"20240805150111".to_string()));
    assert!(d.dawarich.pending_data.contains(&"20240822094532".to_string()));
    assert!(!d.lock.held);
    assert_eq!(check(&d, "points-without-user").count, Some(0));
    assert_eq!(
        check(&d, "points-lonlat-missing").status,
        CheckStatus::NotApplicable,
        "0.11.1 has no lonlat"
    );
    assert_eq!(check(&d, "points-user-soft-deleted").status, CheckStatus::NotApplicable);
    assert!(
        d.checks.iter().all(|c| c.status != CheckStatus::Problem),
        "{:#?}",
        d.checks
    );
}

#[tokio::test]
async fn orphans_soft_deleted_owners_duplicates_and_invalid_indexes_are_counted() {
    let (_, db) = dawarich_db("1.3.1", 3, 3000).await;
    let orphans = fixtures::orphan_points(&db, 7).await.unwrap();
    // user 2 is soft-deleted: a third of the remaining points belong to it
    fixtures::soft_delete_user(&db, 2).await.unwrap();
    let owned_by_2: i64 = db
        .query_one("SELECT count(*) FROM points WHERE user_id = 2", &[])
        .await
        .unwrap()
        .get(0);
    db.batch_execute("UPDATE users SET settings = NULL WHERE id = 3")
        .await
        .unwrap();
    fixtures::invalid_index(&db, "index_points_broken", "points", "created_at")
        .await
        .unwrap();
    let d = run(&db).await;
    assert_eq!(d.dawarich.release.as_deref(), Some("1.3.1"));
    // every migration that fails on them (AddOwntracksPointsData) is applied at 1.3.1
    let c = check(&d, "points-without-user");
    assert_eq!((c.status, c.count), (CheckStatus::Warning, Some(7)));
    assert_eq!(c.sample[0], format!("id {}", orphans.iter().min().unwrap()));
    assert_eq!(c.blocks, Vec::<String>::new());
    assert!(c.detail.contains("No pending migration fails on them"), "{}", c.detail);
    let c = check(&d, "points-user-soft-deleted");
    assert_eq!((c.status, c.count), (CheckStatus::Warning, Some(owned_by_2)));
    assert_eq!(check(&d, "users-null-settings").count, Some(1));
    let c = check(&d, "invalid-indexes");
    assert_eq!(c.count, Some(1));
    assert!(c.sample[0].starts_with("index_points_broken"));
    // the unique lonlat index exists at 1.3.1: duplicates are impossible and reported as such
    assert_eq!(check(&d, "duplicate-points-lonlat").count, Some(0));
}

#[tokio::test]
async fn missing_users_are_found_even_when_the_foreign_key_was_bypassed() {
    let (_, db) = dawarich_db("0.25.0", 2, 200).await;
    db.batch_execute("ALTER TABLE points DISABLE TRIGGER ALL; UPDATE points SET user_id = 999 WHERE id <= 5; ALTER TABLE points ENABLE TRIGGER ALL;").await.unwrap();
    let d = run(&db).await;
    let c = check(&d, "points-user-missing");
    // AddOwntracksPointsData, the one migration that fails on them, is applied at 0.25.0
    assert_eq!((c.status, c.count), (CheckStatus::Warning, Some(5)));
    assert!(c.detail.contains("999"));
}

#[tokio::test]
async fn lonlat_gaps_and_their_collisions_are_counted() {
    let (_, db) = dawarich_db("0.25.4", 1, 100).await;
    // 10 points lost lonlat; 4 of them have a twin that still has it (the #949 situation)
    db.batch_execute(
        "DROP INDEX index_points_on_lonlat_timestamp_user_id;
         INSERT INTO points (latitude, longitude, timestamp, user_id, lonlat, raw_data, created_at, updated_at)
           SELECT latitude, longitude, timestamp, user_id, NULL, raw_data, now(), now() FROM points WHERE id <= 4;
         UPDATE points SET lonlat = NULL WHERE id BETWEEN 11 AND 16;
         CREATE UNIQUE INDEX index_points_on_lonlat_timestamp_user_id ON points (lonlat, timestamp, user_id);",
    )
    .await
    .unwrap();
    let d = run(&db).await;
    assert_eq!(check(&d, "points-lonlat-missing").count, Some(10));
    assert_eq!(check(&d, "points-lonlat-conflict").count, Some(4));
}

#[tokio::test]
async fn an_upgrade_plan_runs_only_the_checks_that_can_block_it() {
    let (_, db) = dawarich_db("0.9.11", 2, 500).await;
    fixtures::duplicate_points(&db, 4).await.unwrap();
    let orphans = fixtures::orphan_points(&db, 3).await.unwrap();
    let full = run(&db).await;
    let plan = diagnose(
        &db,
        &DiagnoseOptions {
            blockers_only: true,
            ..Default::default()
        },
        &Silent,
    )
    .await
    .unwrap();
    // AddOwntracksPointsData (pending at 0.9.11) fails on ownerless points: looked for either way
    for d in [&full, &plan] {
        let c = check(d, "points-without-user");
        assert_eq!(c.count, Some(orphans.len() as i64), "{c:#?}");
    }
    // 20250120154555 deletes these duplicates itself: nothing fails on them, so the plan does not
    // scan for them
    let c = check(&full, "duplicate-points-latlon");
    assert!(c.count.is_some_and(|n| n > 0), "{c:#?}");
    assert!(c.blocks.is_empty());
    let c = check(&plan, "duplicate-points-latlon");
    assert_eq!((c.status, c.count), (CheckStatus::Skipped, None), "{c:#?}");
}

#[tokio::test]
async fn duplicates_under_a_missing_unique_index_are_counted_and_sampled() {
    let (_, db) = dawarich_db("0.36.2", 1, 50).await;
    db.batch_execute(
        "INSERT INTO stats (year, month, distance, user_id, created_at, updated_at)
         SELECT 2024, m, 1, 1, now(), now() FROM generate_series(1, 12) m;
         INSERT INTO stats (year, month, distance, user_id, created_at, updated_at)
         SELECT 2024, m, 2, 1, now(), now() FROM generate_series(1, 3) m;",
    )
    .await
    .unwrap();
    let d = run(&db).await;
    let c = check(&d, "duplicate-stats");
    assert_eq!(c.count, Some(3));
    assert_eq!(c.status, CheckStatus::Warning, "20251208210410 dedupes stats itself");
    assert_eq!(c.blocks, Vec::<String>::new(), "nothing fails on them");
    assert!(c
        .effects
        .iter()
        .any(|e| e.version == "20251208210410" && e.effect == dawarich_doctor_model::Effect::Skips));
}

#[tokio::test]
async fn a_stale_lock_holder_is_reported_with_its_verdict() {
    let (name, db) = dawarich_db("0.9.12", 1, 10).await;
    let key = migration_lock_key(&name);
    let holder = connect_url(&cluster().url(&name)).await;
    holder
        .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
        .await
        .unwrap();
    // an unrelated two-int advisory lock (a Dawarich job) must not be mistaken for it
    holder
        .query_one("SELECT pg_try_advisory_lock(42, 7)", &[])
        .await
        .unwrap();
    let d = diagnose(
        &db,
        &DiagnoseOptions {
            stale_after_secs: 0.0,
            ..Default::default()
        },
        &Silent,
    )
    .await
    .unwrap();
    assert!(d.lock.held);
    assert_eq!(d.lock.holders.len(), 1);
    let h = &d.lock.holders[0];
    assert_eq!(h.pid, holder.backend_pid);
    assert_eq!(h.verdict, HolderVerdict::Stale);
    assert_eq!(h.application_name.as_deref(), Some("dawarich-doctor"));
    assert!(h.query.as_deref().unwrap().contains("pg_try_advisory_lock"));
    assert_eq!(d.other_advisory_locks.len(), 1);
    assert_eq!(
        (
            d.other_advisory_locks[0].classid,
            d.other_advisory_locks[0].objid,
            d.other_advisory_locks[0].objsubid
        ),
        (42, 7, 2)
    );
}

#[tokio::test]
async fn a_holder_running_a_statement_is_an_active_migration() {
    let (name, db) = dawarich_db("0.9.12", 1, 10).await;
    let key = migration_lock_key(&name);
    let holder = connect_url(&cluster().url(&name)).await;
    holder
        .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
        .await
        .unwrap();
    let running = tokio::spawn(async move {
        let _ = holder.batch_execute("SELECT pg_sleep(30)").await;
        holder
    });
    // wait until the holder's statement is visible as active (a condition, not a fixed sleep)
    let mut d = run(&db).await;
    for _ in 0..200 {
        if d.lock
            .holders
            .first()
            .is_some_and(|h| h.state.as_deref() == Some("active"))
        {
            break;
        }
        tokio::task::yield_now().await;
        d = run(&db).await;
    }
    assert_eq!(d.lock.holders[0].verdict, HolderVerdict::ActiveMigration);
    db.query_one("SELECT pg_cancel_backend($1)", &[&d.lock.holders[0].pid])
        .await
        .unwrap();
    running.await.unwrap();
}

#[tokio::test]
async fn a_database_that_is_not_dawarich_is_refused() {
    let name = new_db("plain", false).await;
    let db = connect_url(&cluster().url(&name)).await;
    let e = diagnose(&db, &DiagnoseOptions::default(), &Silent).await.unwrap_err();
    assert!(matches!(e, dawarich_doctor::Error::NotDawarich { .. }), "{e}");
    assert_eq!(e.report().kind, dawarich_doctor_model::ErrorKind::NotDawarich);
}

#[tokio::test]
async fn diagnose_writes_nothing() {
    let (_, db) = dawarich_db("0.30.0", 2, 100).await;
    fixtures::orphan_points(&db, 3).await.unwrap();
    let snapshot = "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM (SELECT * FROM points) t";
    let a: String = db.query_one(snapshot, &[]).await.unwrap().get(0);
    run(&db).await;
    let b: String = db.query_one(snapshot, &[]).await.unwrap().get(0);
    assert_eq!(a, b);
    // the pass ran read-only and gave the session back as it was
    let ro: String = db
        .query_one("SHOW default_transaction_read_only", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(ro, "off");
}
