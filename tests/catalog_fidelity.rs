//! Catalog translations whose end state must equal what Dawarich 1.7.5's own `db:migrate` +
//! `data:migrate` leave, on hand-built rows whose expected outcome is worked out from the Ruby.

mod common;

use std::collections::BTreeMap;

use common::*;
use dawarich_doctor::connect::Db;
use dawarich_doctor::migrate::{upgrade, UpgradeOptions};
use dawarich_doctor::progress::{Cancel, Silent};

fn opts() -> UpgradeOptions {
    UpgradeOptions { audit_file: None, ..Default::default() }
}

async fn ids(db: &Db, sql: &str) -> Vec<i64> {
    db.query(sql, &[]).await.unwrap().iter().map(|r| r.get(0)).collect()
}

async fn import_counts(db: &Db) -> BTreeMap<i64, Option<i32>> {
    db.query("SELECT id, points_count FROM imports", &[]).await.unwrap().iter().map(|r| (r.get(0), r.get(1))).collect()
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
    // (id, latitude, longitude, raw_data as JSON text or SQL NULL, import)
    let rows: [(i64, f64, f64, Option<&str>, Option<i64>); 13] = [
        (1, 0.0, 13.2, Some(r#""plain text""#), Some(1)),          // string without either key text: destroyed
        (2, 0.0, 13.2, Some(r#""has latitudeE7 inside""#), Some(2)), // contains latitudeE7: kept
        (3, 52.1, 0.0, Some(r#""x longitudeE7""#), Some(1)),        // contains longitudeE7: kept
        (4, 52.1, 0.0, Some(r#""LATITUDEE7 LongitudeE7""#), Some(1)), // case differs: destroyed
        (5, 0.0, 13.2, Some("{}"), Some(1)),                        // object without the keys: destroyed (as before)
        (6, 0.0, 13.2, Some(r#"{"latitudeE7": 1}"#), None),         // object with a key: kept
        (7, 0.0, 13.2, Some("5"), Some(1)),                         // number: Ruby raises, left alone
        (8, 0.0, 13.2, Some(r#"["x"]"#), Some(1)),                  // array: Ruby raises, left alone
        (9, 0.0, 13.2, None, Some(1)),                              // SQL NULL: Ruby raises, left alone
        (10, 52.1, 13.2, Some(r#""plain text""#), Some(1)),         // not at 0.0: not a candidate
        (11, 0.0, 0.0, Some(r#""""#), Some(2)),                     // empty string: destroyed
        (12, 0.0, 13.2, Some(r#""lat\u0069tudeE7""#), Some(2)),     // decodes to latitudeE7: kept
        (13, 0.0, 13.2, Some("null"), None),                        // JSON null: Ruby raises, left alone
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
    db.execute("DELETE FROM data_migrations WHERE version = $1", &[&REMOVE_POINTS_WITHOUT_COORDINATES]).await.unwrap();
    let out = upgrade(&conn, &opts(), &Silent, &Cancel::new()).await.unwrap();
    assert_eq!(out.applied, vec![REMOVE_POINTS_WITHOUT_COORDINATES.to_string()]);

    assert_eq!(ids(&db, "SELECT id FROM points ORDER BY id").await, vec![2, 3, 6, 7, 8, 9, 10, 12, 13]);
    assert_eq!(ids(&db, "SELECT id FROM dawarich_doctor.quarantine_points ORDER BY id").await, vec![1, 4, 5, 11]);
    // one decrement per destroyed point of the import: 1, 4 and 5 in import 1, 11 in import 2
    assert_eq!(import_counts(&db).await, BTreeMap::from([(1, Some(7)), (2, Some(2))]));
    let users: i32 = db.query_one("SELECT points_count FROM users WHERE id = 1", &[]).await.unwrap().get(0);
    assert_eq!(users, 9, "the owner is recounted");

    // a second run finds nothing more to remove
    db.execute("DELETE FROM data_migrations WHERE version = $1", &[&REMOVE_POINTS_WITHOUT_COORDINATES]).await.unwrap();
    upgrade(&conn, &opts(), &Silent, &Cancel::new()).await.unwrap();
    assert_eq!(ids(&db, "SELECT count(*) FROM points").await, vec![9]);
    assert_eq!(import_counts(&db).await, BTreeMap::from([(1, Some(7)), (2, Some(2))]));
}
