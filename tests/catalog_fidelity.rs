//! Catalog translations whose end state must equal what Dawarich 1.7.5's own `db:migrate` +
//! `data:migrate` leave, on hand-built rows whose expected outcome is worked out from the Ruby.

mod common;

/// (id, latitude, longitude, raw_data as JSON text or SQL NULL, import)
type Candidate = (i64, f64, f64, Option<&'static str>, Option<i64>);

use std::collections::BTreeMap;
use std::sync::Mutex;

use common::*;
use dawarich_doctor::connect::Db;
use dawarich_doctor::migrate::{upgrade, UpgradeOptions};
use dawarich_doctor::progress::{Cancel, ProgressEvent, Silent};

fn opts() -> UpgradeOptions {
    UpgradeOptions {
        audit_file: None,
        ..Default::default()
    }
}

async fn ids(db: &Db, sql: &str) -> Vec<i64> {
    db.query(sql, &[]).await.unwrap().iter().map(|r| r.get(0)).collect()
}

async fn import_counts(db: &Db) -> BTreeMap<i64, Option<i32>> {
    db.query("SELECT id, points_count FROM imports", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

/// One boolean from a separate session, while the runner waits in a progress callback.
fn side_query(url: &str, sql: &'static str) -> bool {
    let url = url.to_string();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            connect_url(&url)
                .await
                .query_one(sql, &[])
                .await
                .unwrap()
                .get::<_, bool>(0)
        })
    })
    .join()
    .unwrap()
}

const REMOVE_POINTS_WITHOUT_COORDINATES: &str = "20240610170930";

/// RemovePointsWithoutCoordinates destroys a point with longitude or latitude 0.0 when
/// `raw_data['latitudeE7']` and `raw_data['longitudeE7']` are both nil. For a JSON string raw_data
/// that is Ruby's substring lookup: nil unless the (decoded) text contains it, case-sensitively.
#[tokio::test]
async fn points_without_coordinates_whose_raw_data_is_a_string_are_removed_as_ruby_does() {
    let (name, db) = dawarich_db("1.7.5", 1, 0).await;
    let conn = options(&cluster().url(&name));
    db.batch_execute(
        "DELETE FROM imports;
         INSERT INTO imports (id, name, user_id, source, created_at, updated_at, points_count)
         VALUES (1, 'a', 1, 1, '2024-01-01', '2024-01-01', 10), (2, 'b', 1, 1, '2024-01-01', '2024-01-01', 3);
         UPDATE users SET points_count = 100",
    )
    .await
    .unwrap();
    let rows: [Candidate; 13] = [
        (1, 0.0, 13.2, Some(r#""plain text""#), Some(1)), // string without either key text: destroyed
        (2, 0.0, 13.2, Some(r#""has latitudeE7 inside""#), Some(2)), // contains latitudeE7: kept
        (3, 52.1, 0.0, Some(r#""x longitudeE7""#), Some(1)), // contains longitudeE7: kept
        (4, 52.1, 0.0, Some(r#""LATITUDEE7 LongitudeE7""#), Some(1)), // case differs: destroyed
        (5, 0.0, 13.2, Some("{}"), Some(1)),              // object without the keys: destroyed (as before)
        (6, 0.0, 13.2, Some(r#"{"latitudeE7": 1}"#), None), // object with a key: kept
        (7, 0.0, 13.2, Some("5"), Some(1)),               // number: Ruby raises, left alone
        (8, 0.0, 13.2, Some(r#"["x"]"#), Some(1)),        // array: Ruby raises, left alone
        (9, 0.0, 13.2, None, Some(1)),                    // SQL NULL: Ruby raises, left alone
        (10, 52.1, 13.2, Some(r#""plain text""#), Some(1)), // not at 0.0: not a candidate
        (11, 0.0, 0.0, Some(r#""""#), Some(2)),           // empty string: destroyed
        (12, 0.0, 13.2, Some(r#""lat\u0069tudeE7""#), Some(2)), // decodes to latitudeE7: kept
        (13, 0.0, 13.2, Some("null"), None),              // JSON null: Ruby raises, left alone
    ];
    for (id, lat, lon, raw, import) in rows {
        db.execute(
            "INSERT INTO points (id, latitude, longitude, lonlat, raw_data, timestamp, user_id, import_id, created_at, updated_at)
             VALUES ($1::bigint, $2::float8, $3::float8, ST_SetSRID(ST_MakePoint($3::float8, $2::float8), 4326)::geography, $4::text::jsonb,
                     (1700000000 + $1::bigint)::integer, 1, $5::bigint, '2024-01-01', '2024-01-01')",
            &[&id, &lat, &lon, &raw, &import],
        )
        .await
        .unwrap();
    }
    db.execute(
        "DELETE FROM data_migrations WHERE version = $1",
        &[&REMOVE_POINTS_WITHOUT_COORDINATES],
    )
    .await
    .unwrap();
    let out = upgrade(&conn, &opts(), &Silent, &Cancel::new()).await.unwrap();
    assert_eq!(out.applied, vec![REMOVE_POINTS_WITHOUT_COORDINATES.to_string()]);

    assert_eq!(
        ids(&db, "SELECT id FROM points ORDER BY id").await,
        vec![2, 3, 6, 7, 8, 9, 10, 12, 13]
    );
    assert_eq!(
        ids(&db, "SELECT id FROM dawarich_doctor.quarantine_points ORDER BY id").await,
        vec![1, 4, 5, 11]
    );
    // one decrement per destroyed point of the import: 1, 4 and 5 in import 1, 11 in import 2
    assert_eq!(import_counts(&db).await, BTreeMap::from([(1, Some(7)), (2, Some(2))]));
    let users: i32 = db
        .query_one("SELECT points_count FROM users WHERE id = 1", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(users, 9, "the owner is recounted");

    // a second run finds nothing more to remove
    db.execute(
        "DELETE FROM data_migrations WHERE version = $1",
        &[&REMOVE_POINTS_WITHOUT_COORDINATES],
    )
    .await
    .unwrap();
    upgrade(&conn, &opts(), &Silent, &Cancel::new()).await.unwrap();
    assert_eq!(ids(&db, "SELECT count(*) FROM points").await, vec![9]);
    assert_eq!(import_counts(&db).await, BTreeMap::from([(1, Some(7)), (2, Some(2))]));
}

const UNIQUE_INDEX: &str = "20250120154555";
const REMOVE_DUPLICATES: &str = "20250120154554";
const INDEX_VALID: &str =
    "SELECT coalesce((SELECT indisvalid AND indisunique FROM pg_index WHERE indexrelid = to_regclass('unique_points_lat_long_timestamp_user_id_index')), false)";

/// A 0.22.4 install (before unique_points_lat_long_timestamp_user_id_index) with three groups of
/// points that share (latitude, longitude, timestamp, user_id), ids interleaved, some in imports,
/// and imports.points_count set apart from the real counts (Rails decrements the stored value).
///
/// | id | group          | import |
/// |----|----------------|--------|
/// | 1  | A (user 1)     | 1      |
/// | 2  | B (user 2)     | 2      |
/// | 3  | A              | 1      |
/// | 4  | alone (user 1) | 1      |
/// | 5  | B              | 2      |
/// | 6  | C (user 2, A's place and time) | 2 |
/// | 7  | A              | -      |
/// | 8  | C              | -      |
/// | 9  | alone (user 2) | -      |
async fn duplicates_at_0_22_4() -> (String, Db) {
    let (name, db) = dawarich_db("0.22.4", 2, 0).await;
    db.batch_execute(
        "UPDATE imports SET points_count = CASE id WHEN 1 THEN 10 ELSE 4 END;
         INSERT INTO points (id, latitude, longitude, timestamp, user_id, import_id, created_at, updated_at) VALUES
           (1, 52.1, 13.1, 1700000000, 1, 1, '2024-01-01', '2024-01-01'),
           (2, 52.2, 13.2, 1700000001, 2, 2, '2024-01-01', '2024-01-01'),
           (3, 52.1, 13.1, 1700000000, 1, 1, '2024-01-01', '2024-01-01'),
           (4, 52.3, 13.3, 1700000002, 1, 1, '2024-01-01', '2024-01-01'),
           (5, 52.2, 13.2, 1700000001, 2, 2, '2024-01-01', '2024-01-01'),
           (6, 52.1, 13.1, 1700000000, 2, 2, '2024-01-01', '2024-01-01'),
           (7, 52.1, 13.1, 1700000000, 1, NULL, '2024-01-01', '2024-01-01'),
           (8, 52.1, 13.1, 1700000000, 2, NULL, '2024-01-01', '2024-01-01'),
           (9, 52.4, 13.4, 1700000003, 2, NULL, '2024-01-01', '2024-01-01');
         SELECT setval('points_id_seq', 9)",
    )
    .await
    .unwrap();
    let imports: Vec<i64> = ids(&db, "SELECT id FROM imports ORDER BY id").await;
    assert_eq!(imports, vec![1, 2], "populate makes one import per user");
    (name, db)
}

/// Upgrades to 1.7.5, noting whether the unique index was valid when the schema migration that
/// drops it again (20250221194430, 0.25.0) starts.
async fn upgrade_watching_the_index(name: &str) -> Option<bool> {
    let url = cluster().url(name);
    let seen = Mutex::new(None);
    let watch = |e: ProgressEvent| {
        if let ProgressEvent::StepStarted { title, .. } = &e {
            if title.contains("20250221194430") {
                *seen.lock().unwrap() = Some(side_query(&url, INDEX_VALID));
            }
        }
    };
    let out = upgrade(&options(&url), &opts(), &watch, &Cancel::new()).await.unwrap();
    assert!(out.applied.contains(&UNIQUE_INDEX.to_string()) && out.applied.contains(&REMOVE_DUPLICATES.to_string()));
    seen.into_inner().unwrap()
}

#[tokio::test]
async fn an_invalid_unique_index_leaves_the_highest_id_of_each_duplicate_group_as_dawarichs_data_migration_does() {
    let (name, db) = duplicates_at_0_22_4().await;
    // a concurrent build that fails on the duplicates leaves the index behind, INVALID
    let e = db
        .batch_execute("CREATE UNIQUE INDEX CONCURRENTLY unique_points_lat_long_timestamp_user_id_index ON points (latitude, longitude, \"timestamp\", user_id)")
        .await
        .unwrap_err();
    assert_eq!(
        e.code(),
        Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION),
        "{e:?}"
    );
    let invalid: bool = db
        .query_one("SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass('unique_points_lat_long_timestamp_user_id_index')", &[])
        .await
        .unwrap()
        .get(0);
    assert!(invalid);

    let valid_before_drop = upgrade_watching_the_index(&name).await;
    assert_eq!(valid_before_drop, Some(true), "the INVALID index is rebuilt, valid");
    // A keeps 7, B keeps 5, C keeps 8
    assert_eq!(ids(&db, "SELECT id FROM points ORDER BY id").await, vec![4, 5, 7, 8, 9]);
    assert_eq!(
        ids(&db, "SELECT id FROM dawarich_doctor.quarantine_points ORDER BY id").await,
        vec![1, 2, 3, 6]
    );
    // destroyed: 1 and 3 of import 1, 2 and 6 of import 2
    assert_eq!(import_counts(&db).await, BTreeMap::from([(1, Some(8)), (2, Some(2))]));
    let users = ids(&db, "SELECT points_count::bigint FROM users ORDER BY id").await;
    assert_eq!(users, vec![2, 3]);
}

#[tokio::test]
async fn without_the_unique_index_the_schema_migration_keeps_the_lowest_id_and_the_import_counters() {
    let (name, db) = duplicates_at_0_22_4().await;
    let valid_before_drop = upgrade_watching_the_index(&name).await;
    assert_eq!(valid_before_drop, Some(true));
    // Rails' raw DELETE before the index: A keeps 1, B keeps 2, C keeps 6; no counter cache
    assert_eq!(ids(&db, "SELECT id FROM points ORDER BY id").await, vec![1, 2, 4, 6, 9]);
    assert_eq!(
        ids(&db, "SELECT id FROM dawarich_doctor.quarantine_points ORDER BY id").await,
        vec![3, 5, 7, 8]
    );
    assert_eq!(import_counts(&db).await, BTreeMap::from([(1, Some(10)), (2, Some(4))]));
    let users = ids(&db, "SELECT points_count::bigint FROM users ORDER BY id").await;
    assert_eq!(users, vec![2, 3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_before_the_rebuild_of_the_invalid_index_a_rerun_removes_and_counts_nothing_twice() {
    let (name, db) = duplicates_at_0_22_4().await;
    db.batch_execute("CREATE UNIQUE INDEX CONCURRENTLY unique_points_lat_long_timestamp_user_id_index ON points (latitude, longitude, \"timestamp\", user_id)")
        .await
        .unwrap_err();
    let url = cluster().url(&name);
    // The runner warns just before it drops the INVALID index to rebuild it: the duplicates are
    // already gone (committed); its session is terminated there, with the index still INVALID.
    let ctl = Mutex::new(controller(url.clone(), name.clone()));
    let stop = |e: ProgressEvent| {
        if let ProgressEvent::Warning { message, .. } = &e {
            if message.contains("unique_points_lat_long_timestamp_user_id_index") {
                send(&ctl, Cmd::Terminate);
            }
        }
    };
    upgrade(&options(&url), &opts(), &stop, &Cancel::new())
        .await
        .expect_err("the run was interrupted");
    drop(ctl);
    let state = "SELECT (SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass('unique_points_lat_long_timestamp_user_id_index'))
                    AND NOT EXISTS (SELECT 1 FROM schema_migrations WHERE version = '20250120154555')";
    assert!(
        db.query_one(state, &[]).await.unwrap().get::<_, bool>(0),
        "interrupted after the dedupe, index still INVALID"
    );
    assert_eq!(ids(&db, "SELECT id FROM points ORDER BY id").await, vec![4, 5, 7, 8, 9]);
    assert_eq!(import_counts(&db).await, BTreeMap::from([(1, Some(8)), (2, Some(2))]));

    let valid_before_drop = upgrade_watching_the_index(&name).await;
    assert_eq!(valid_before_drop, Some(true));
    assert_eq!(ids(&db, "SELECT id FROM points ORDER BY id").await, vec![4, 5, 7, 8, 9]);
    assert_eq!(
        ids(&db, "SELECT id FROM dawarich_doctor.quarantine_points ORDER BY id").await,
        vec![1, 2, 3, 6]
    );
    assert_eq!(import_counts(&db).await, BTreeMap::from([(1, Some(8)), (2, Some(2))]));
}

/// With the unique index in place since 0.23.0, points can still share a place, a time and an owner
/// when the time is NULL (the index keeps NULLs apart, Rails' grouping does not): data migration
/// 20250120154554, pending, destroys all but the highest id of such a group and lowers the counter
/// of each destroyed point's import.
#[tokio::test]
async fn the_data_migration_removes_duplicates_the_unique_index_let_through_and_lowers_their_imports_counters() {
    let (name, db) = dawarich_db("0.23.0", 2, 0).await;
    db.batch_execute(&format!(
        "DELETE FROM data_migrations WHERE version = '{REMOVE_DUPLICATES}';
         UPDATE imports SET points_count = CASE id WHEN 1 THEN 10 ELSE 4 END;
         INSERT INTO points (id, latitude, longitude, timestamp, user_id, import_id, created_at, updated_at) VALUES
           (1, 52.1, 13.1, NULL, 1, 1, '2024-01-01', '2024-01-01'),
           (2, 52.1, 13.1, NULL, 1, 2, '2024-01-01', '2024-01-01'),
           (3, 52.1, 13.1, NULL, 1, 1, '2024-01-01', '2024-01-01'),
           (4, 52.1, 13.1, NULL, 2, 1, '2024-01-01', '2024-01-01'),
           (5, 52.1, 13.1, 1700000000, 1, 1, '2024-01-01', '2024-01-01'),
           (6, 52.2, 13.2, NULL, 2, NULL, '2024-01-01', '2024-01-01'),
           (7, 52.2, 13.2, NULL, 2, 2, '2024-01-01', '2024-01-01');
         SELECT setval('points_id_seq', 7)"
    ))
    .await
    .unwrap();
    let url = cluster().url(&name);
    let out = upgrade(&options(&url), &opts(), &Silent, &Cancel::new()).await.unwrap();
    assert!(out.applied.contains(&REMOVE_DUPLICATES.to_string()));
    // (52.1, 13.1, NULL, user 1) keeps 3; (52.2, 13.2, NULL, user 2) keeps 7
    assert_eq!(ids(&db, "SELECT id FROM points ORDER BY id").await, vec![3, 4, 5, 7]);
    assert_eq!(
        ids(&db, "SELECT id FROM dawarich_doctor.quarantine_points ORDER BY id").await,
        vec![1, 2, 6]
    );
    // destroyed: 1 of import 1, 2 of import 2 (6 has no import)
    assert_eq!(import_counts(&db).await, BTreeMap::from([(1, Some(9)), (2, Some(3))]));
}
