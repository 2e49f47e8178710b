//! The incident that started this project, end to end: a 0.9.x Dawarich whose upgrade crash-loops
//! in AddOwntracksPointsData ("Validation failed: User must exist") while a dead container's session
//! still holds the Rails migration lock.

mod common;

use std::time::Duration;

use common::*;
use dawarich_doctor::diagnose::{diagnose, DiagnoseOptions};
use dawarich_doctor::locks::{migration_lock_key, release, ReleaseOptions};
use dawarich_doctor::migrate::{plan, upgrade, UpgradeOptions};
use dawarich_doctor::progress::{Cancel, Silent};
use dawarich_doctor::repair::{repair, RepairOptions};
use dawarich_doctor::schema::verify;
use dawarich_doctor::Error;
use dawarich_doctor_model::{CheckId, CheckStatus, HolderVerdict, StrategyId};

#[tokio::test]
async fn stale_lock_and_ownerless_points_on_0_9_11_upgrade_to_the_newest_release() {
    let (name, db) = dawarich_db("0.9.11", 1, 400).await;
    // the points of an OwnTracks import whose user link was lost, and a stale migrator session
    db.batch_execute("UPDATE points SET user_id = NULL WHERE id % 4 = 0")
        .await
        .unwrap();
    let stale = connect_url(&cluster().url(&name)).await;
    stale
        .query_one("SELECT pg_try_advisory_lock($1)", &[&migration_lock_key(&name)])
        .await
        .unwrap();
    let url = cluster().url(&name);
    let conn = options(&url);
    let upgrade_opts = UpgradeOptions {
        audit_file: None,
        ..Default::default()
    };

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
    assert_eq!(d.lock.holders[0].verdict, HolderVerdict::Stale);
    let orphans = d
        .checks
        .iter()
        .find(|c| c.id.as_str() == "points-without-user")
        .unwrap();
    assert_eq!((orphans.status, orphans.count), (CheckStatus::Problem, Some(100)));
    assert!(d.dawarich.pending_data.contains(&"20240815174852".to_string()));

    // the upgrade refuses before changing anything, naming both problems
    let p = plan(&db, None, &Default::default()).await.unwrap();
    let ids: Vec<&str> = p.blockers.iter().map(|b| b.id.as_str()).collect();
    assert_eq!(ids, vec!["lock-held", "points-without-user"]);
    assert!(matches!(
        upgrade(&conn, &upgrade_opts, &Silent, &Cancel::new()).await,
        Err(Error::LockHeld { .. })
    ));

    let out = release(
        &db,
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
    assert!(out.lock_free);
    let e = upgrade(&conn, &upgrade_opts, &Silent, &Cancel::new())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Precondition { .. }) && e.to_string().contains("100 points have no user"),
        "{e}"
    );

    // one user: every ownerless point is that user's, and the preview said so
    let fixed = repair(
        &conn,
        &RepairOptions {
            check: CheckId::PointsWithoutUser,
            strategy: StrategyId::Infer,
            user: None,
            batch_size: 1000,
            audit_file: None,
        },
        &Silent,
        &Cancel::new(),
    )
    .await
    .unwrap();
    assert_eq!(fixed.rules.iter().map(|r| r.count).sum::<i64>(), 100);

    let done = upgrade(&conn, &upgrade_opts, &Silent, &Cancel::new()).await.unwrap();
    assert!(done.applied.contains(&"20240815174852".to_string()));
    let recorded: bool = db
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM data_migrations WHERE version = '20240815174852')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(recorded);
    // AddOwntracksPointsData did its work: OwnTracks fields now come from raw_data
    let wrong: i64 = db
        .query_one("SELECT count(*) FROM points WHERE battery IS DISTINCT FROM (raw_data->>'batt')::int OR tracker_id IS DISTINCT FROM raw_data->>'tid' OR accuracy IS DISTINCT FROM (raw_data->>'acc')::int", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(wrong, 0);
    assert!(verify(&db, "1.7.5")
        .await
        .unwrap()
        .iter()
        .all(|d| d.change == dawarich_doctor_model::Change::Extra));
    // Dawarich's own next start finds nothing to do: nothing pending, the lock is free
    let d = diagnose(&db, &DiagnoseOptions::default(), &Silent).await.unwrap();
    assert!(d.dawarich.pending_schema.is_empty() && d.dawarich.pending_data.is_empty());
    assert_eq!(d.dawarich.release.as_deref(), Some("1.7.5"));
    assert!(!d.lock.held);
}
