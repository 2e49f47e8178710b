//! Where an upgrade by Dawarich Doctor must leave the data Dawarich's own `db:migrate` +
//! `data:migrate` (and the Sidekiq jobs after them) would leave: the time zone of dates without an
//! offset, the environment Rails records, job work after the data migrations, and problems that a
//! pending migration fixes before another one would fail on them. Expected values are worked out
//! by hand from Dawarich's Ruby at 1.7.5.

mod common;

use std::collections::BTreeMap;

use common::*;
use dawarich_doctor::diagnose::{diagnose, DiagnoseOptions};
use dawarich_doctor::migrate::{plan, upgrade, UpgradeOptions};
use dawarich_doctor::progress::{Cancel, Silent};
use dawarich_doctor::settings::{env_vars, Environment};
use dawarich_doctor::Error;
use dawarich_doctor_model::{CheckStatus, SettingSource, StepKind};

fn opts(env: Environment) -> UpgradeOptions {
    UpgradeOptions {
        audit_file: None,
        env,
        ..Default::default()
    }
}

fn env_file(text: &str) -> Environment {
    Environment {
        env_file: Some(env_vars(text)),
        ..Default::default()
    }
}

/// A 1.0.0 install with one point whose timestamp must come from its GeoJSON date without an offset.
async fn geojson_point_without_timestamp() -> (String, dawarich_doctor::connect::Db) {
    let (name, db) = dawarich_db("1.0.0", 1, 0).await;
    db.batch_execute(
        "INSERT INTO points (id, raw_data, lonlat, timestamp, user_id, created_at, updated_at)
         VALUES (1, '{\"type\": \"Feature\", \"properties\": {\"date\": \"2024-07-01T12:00:00\"}}', 'SRID=4326;POINT(13.4 52.5)', NULL, 1, now(), now())",
    )
    .await
    .unwrap();
    (name, db)
}

/// `ar_internal_metadata.environment`, as Rails recorded it.
async fn environment(db: &dawarich_doctor::connect::Db, name: &str) -> Option<String> {
    dawarich_doctor::applied::read_applied(db, name)
        .await
        .unwrap()
        .environment
}

async fn timestamp_of_point_1(db: &dawarich_doctor::connect::Db) -> Option<i32> {
    db.query_one("SELECT timestamp FROM points WHERE id = 1", &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn dates_without_an_offset_are_read_in_the_stock_compose_time_zone_and_production_is_recorded() {
    let (name, db) = geojson_point_without_timestamp().await;
    let p = plan(&db, None, &Environment::default()).await.unwrap();
    assert_eq!(
        (p.settings.time_zone.value.as_str(), p.settings.time_zone.source),
        ("Europe/London", SettingSource::Default)
    );
    assert_eq!(
        (p.settings.rails_env.value.as_str(), p.settings.rails_env.source),
        ("production", SettingSource::Default)
    );
    upgrade(
        &options(&cluster().url(&name)),
        &opts(Environment::default()),
        &Silent,
        &Cancel::new(),
    )
    .await
    .unwrap();
    // 12:00 British Summer Time (UTC+1) = 11:00 UTC
    assert_eq!(timestamp_of_point_1(&db).await, Some(1_719_831_600));
    // Rails overwrites the environment with the one of the Dawarich that runs (1.3.0+: production)
    assert_eq!(environment(&db, &name).await.as_deref(), Some("production"));
}

#[tokio::test]
async fn the_env_file_sets_the_time_zone_and_environment_and_an_option_wins_over_it() {
    let (name, db) = geojson_point_without_timestamp().await;
    let from_file = env_file("DATABASE_HOST=dawarich_db\nTIME_ZONE=Europe/Berlin\nRAILS_ENV=staging\n");
    let mut with_option = from_file.clone();
    with_option.time_zone = Some(("America/New_York".into(), SettingSource::Option));
    let p = plan(&db, None, &with_option).await.unwrap();
    assert_eq!(
        (p.settings.time_zone.value.as_str(), p.settings.time_zone.source),
        ("America/New_York", SettingSource::Option)
    );
    assert_eq!(
        (p.settings.rails_env.value.as_str(), p.settings.rails_env.source),
        ("staging", SettingSource::EnvFile)
    );
    upgrade(
        &options(&cluster().url(&name)),
        &opts(from_file),
        &Silent,
        &Cancel::new(),
    )
    .await
    .unwrap();
    // 12:00 Central European Summer Time (UTC+2) = 10:00 UTC
    assert_eq!(timestamp_of_point_1(&db).await, Some(1_719_828_000));
    assert_eq!(environment(&db, &name).await.as_deref(), Some("staging"));
}

#[tokio::test]
async fn an_unknown_time_zone_is_refused_before_anything_changes() {
    let (name, db) = geojson_point_without_timestamp().await;
    let env = Environment {
        time_zone: Some(("Mars/Olympus".into(), SettingSource::Option)),
        ..Default::default()
    };
    let e = upgrade(&options(&cluster().url(&name)), &opts(env), &Silent, &Cancel::new())
        .await
        .unwrap_err();
    match &e {
        Error::Precondition { message, fix } => {
            assert!(message.contains("Mars/Olympus"), "{message}");
            assert!(fix.contains("--time-zone"), "{fix}");
        }
        other => panic!("expected a precondition error, got {other}"),
    }
    let recorded: i64 = db
        .query_one(
            "SELECT count(*) FROM schema_migrations WHERE version = '20260113230537'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(recorded, 0);
    assert_eq!(timestamp_of_point_1(&db).await, None);
}

#[tokio::test]
async fn job_work_runs_after_the_data_migrations_that_give_ownerless_points_to_the_first_user() {
    // 0.1.6: points have no user yet; data migration 20240525110530 gives them all to the first user.
    let (name, db) = dawarich_db("0.1.6", 2, 30).await;
    db.batch_execute(
        "INSERT INTO points (latitude, longitude, timestamp, raw_data, created_at, updated_at)
         VALUES (52.5, 13.4, 1700100000, '{\"altitudeMeters\": 42.567}', now(), now())",
    )
    .await
    .unwrap();
    let p = plan(&db, None, &Environment::default()).await.unwrap();
    let kinds: Vec<StepKind> = p.steps.iter().map(|s| s.kind).collect();
    let last_data = kinds.iter().rposition(|k| *k == StepKind::DataMigration).unwrap();
    let first_job = kinds.iter().position(|k| *k == StepKind::JobWork).unwrap();
    assert!(first_job > last_data, "job work runs after every data migration");
    assert!(p.blockers.is_empty(), "{:?}", p.blockers);
    upgrade(
        &options(&cluster().url(&name)),
        &opts(Environment::default()),
        &Silent,
        &Cancel::new(),
    )
    .await
    .unwrap();
    let users: BTreeMap<i64, (i32, Option<String>)> = db
        .query(
            "SELECT id, points_count, settings->>'onboarding_completed' FROM users",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect();
    // the first user owns all 31 points: PrefillPointsCounterCache, then the onboarding backfill
    assert_eq!(users[&1], (31, Some("true".to_string())));
    assert_eq!(users[&2], (0, None));
    // the altitude backfill reached the point that only AltitudeExtractor reads (altitudeMeters)
    let alt: (Option<i32>, Option<String>) = db
        .query_one(
            "SELECT altitude, altitude_decimal::text FROM points WHERE raw_data ? 'altitudeMeters'",
            &[],
        )
        .await
        .map(|r| (r.get(0), r.get(1)))
        .unwrap();
    assert_eq!(alt, (Some(42), Some("42.57".to_string())));
    let queued: i64 = db
        .query_one("SELECT count(*) FROM dawarich_doctor.job_queue", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(queued, 0, "every job that was queued is done");
}

#[tokio::test]
async fn null_settings_do_not_block_when_set_existing_users_to_map_v1_runs_first() {
    // 0.7.1: the settings data migrations (0.8.0+) and 20260112192240 are all pending.
    let (name, db) = dawarich_db("0.7.1", 2, 10).await;
    db.batch_execute("UPDATE users SET settings = NULL WHERE id = 2")
        .await
        .unwrap();
    let d = diagnose(&db, &DiagnoseOptions::default(), &Silent).await.unwrap();
    let c = d
        .checks
        .iter()
        .find(|c| c.id.as_str() == "users-null-settings")
        .unwrap();
    assert_eq!((c.status, c.count), (CheckStatus::Warning, Some(1)));
    assert!(c.blocks.is_empty(), "{:?}", c.blocks);
    assert!(c.detail.contains("20260112192240"), "{}", c.detail);
    let p = plan(&db, None, &Environment::default()).await.unwrap();
    assert!(p.blockers.is_empty(), "{:?}", p.blockers);
    upgrade(
        &options(&cluster().url(&name)),
        &opts(Environment::default()),
        &Silent,
        &Cancel::new(),
    )
    .await
    .unwrap();
    // 20260112192240 gives {"maps": {"preferred_version": "v1"}}; the data migrations then merge
    // their keys, and 20250518174305 sets maps.distance_unit to km.
    let s: serde_json::Value = db
        .query_one("SELECT settings FROM users WHERE id = 2", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(s["maps"]["preferred_version"], "v1");
    assert_eq!(s["maps"]["distance_unit"], "km");
    assert_eq!(s["fog_of_war_meters"], 100);
    assert_eq!(s["live_map_enabled"], false);
    assert_eq!(
        s.get("meters_between_routes"),
        None,
        "no column default Dawarich never writes: {s}"
    );
}

#[tokio::test]
async fn ownerless_points_block_only_add_owntracks_points_data() {
    // At 1.0.0 AddOwntracksPointsData is applied; the pending migrations go on past ownerless points.
    let (name, db) = dawarich_db("1.0.0", 1, 20).await;
    fixtures_orphans(&db, 3).await;
    let d = diagnose(&db, &DiagnoseOptions::default(), &Silent).await.unwrap();
    let c = d
        .checks
        .iter()
        .find(|c| c.id.as_str() == "points-without-user")
        .unwrap();
    assert_eq!((c.status, c.count), (CheckStatus::Warning, Some(3)));
    assert!(c.blocks.is_empty(), "{:?}", c.blocks);
    assert!(c.detail.contains("No pending migration fails on them"), "{}", c.detail);
    assert!(
        c.detail.contains("20260113230537"),
        "what Dawarich does with them: {}",
        c.detail
    );
    assert!(
        !c.detail.contains("20240815174852"),
        "an applied migration is not named: {}",
        c.detail
    );
    let p = plan(&db, None, &Environment::default()).await.unwrap();
    assert!(p.blockers.is_empty(), "{:?}", p.blockers);
    upgrade(
        &options(&cluster().url(&name)),
        &opts(Environment::default()),
        &Silent,
        &Cancel::new(),
    )
    .await
    .unwrap();
    let left: i64 = db
        .query_one("SELECT count(*) FROM points WHERE user_id IS NULL", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 3, "Dawarich leaves them as they are, and so do we");
}

#[tokio::test]
async fn ownerless_points_before_add_owntracks_points_data_name_it_as_the_one_that_fails() {
    let (_, db) = dawarich_db("0.9.11", 1, 20).await;
    fixtures_orphans(&db, 2).await;
    let p = plan(&db, None, &Environment::default()).await.unwrap();
    let b = p
        .blockers
        .iter()
        .find(|b| b.id.as_str() == "points-without-user")
        .expect("a blocker");
    assert_eq!(b.versions, vec!["20240815174852".to_string()]);
    assert!(
        b.message
            .contains("20240815174852 add_owntracks_points_data fails on them"),
        "{}",
        b.message
    );
}

async fn fixtures_orphans(db: &dawarich_doctor::connect::Db, n: i64) {
    dawarich_doctor_testkit::fixtures::orphan_points(db, n).await.unwrap();
}

#[tokio::test]
async fn what_a_release_s_schema_rb_left_behind_is_explained_not_reported_as_a_difference() {
    let (name, db) = dawarich_db("1.3.0", 1, 10).await;
    upgrade(
        &options(&cluster().url(&name)),
        &opts(Environment::default()),
        &Silent,
        &Cancel::new(),
    )
    .await
    .unwrap();
    let diffs = dawarich_doctor::schema::verify(&db, "1.7.5").await.unwrap();
    let noted: BTreeMap<String, String> = diffs
        .iter()
        .filter_map(|d| Some((format!("{} {}", d.object, d.name), d.note.clone()?)))
        .collect();
    assert_eq!(
        noted.keys().cloned().collect::<Vec<_>>(),
        vec!["index index_points_on_archivable", "table notes", "table video_exports"]
    );
    assert!(
        noted["table notes"].contains("1.3.0") && noted["table notes"].contains("Dawarich keeps it too"),
        "{}",
        noted["table notes"]
    );
    assert!(diffs.iter().all(|d| d.is_kept()), "{diffs:#?}");
}

#[tokio::test]
async fn the_0_9_0_settings_default_is_kept_and_explained() {
    let (name, db) = dawarich_db("0.9.0", 1, 10).await;
    upgrade(
        &options(&cluster().url(&name)),
        &opts(Environment::default()),
        &Silent,
        &Cancel::new(),
    )
    .await
    .unwrap();
    let diffs = dawarich_doctor::schema::verify(&db, "1.7.5").await.unwrap();
    let d = diffs
        .iter()
        .find(|d| d.name == "users.settings")
        .expect("the 0.9.0 default differs from 1.7.5's");
    assert_eq!(d.change, dawarich_doctor_model::Change::Different);
    assert!(
        d.note
            .as_deref()
            .is_some_and(|n| n.contains("fog_of_war_meters \"200\"")),
        "{d:?}"
    );
    assert!(diffs.iter().all(|d| d.is_kept()), "{diffs:#?}");
}
