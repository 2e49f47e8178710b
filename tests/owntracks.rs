//! AddOwntracksPointsData (20240815174852) through the runner, on raw data whose expected columns
//! are worked out by hand from Rails' type casts (integer, decimal(10,2), string and text[] columns)
//! and the OwnTracks params mapping, including the odd values real phones send.

mod common;

use common::*;
use dawarich_doctor::migrate::{upgrade, UpgradeOptions};
use dawarich_doctor::progress::{Cancel, Silent};

const OWNTRACKS: &str = "20240815174852";

/// (raw_data, expected columns as text: battery, ping, altitude, altitude_decimal, accuracy,
/// vertical_accuracy, velocity, ssid, bssid, tracker_id, inrids, in_regions, topic, battery_status,
/// connection, trigger; NULL as None)
fn cases() -> Vec<(&'static str, [Option<&'static str>; 16])> {
    vec![
        (
            r#"{"lat": 52.1, "lon": 13.2, "tst": 1700000000, "m": 1, "acc": 7.9, "batt": 85, "p": 3, "alt": 12.345, "vac": "3", "vel": 36,
                "topic": "owntracks/u/phone", "tid": "ph", "bs": 2, "conn": "w", "t": "u", "SSID": "home", "BSSID": "aa:bb",
                "inrids": ["a", 1, 2.5, true, null], "inregions": ["Home"]}"#,
            [
                Some("85"),
                Some("3"),
                Some("12"),
                Some("12.35"),
                Some("7"),
                Some("3"),
                Some("10.0"),
                Some("home"),
                Some("aa:bb"),
                Some("ph"),
                Some("{a,1,2.5,t,NULL}"),
                Some("{Home}"),
                Some("owntracks/u/phone"),
                Some("2"),
                Some("1"),
                Some("5"),
            ],
        ),
        (
            // strings, booleans and numbers in the "wrong" columns; no topic, so the raw velocity is kept
            r#"{"lat": 52.1, "lon": 13.2, "tst": 1700000001, "m": 1, "acc": true, "batt": " 42abc", "p": 12.5, "alt": "", "vac": "x",
                "vel": "36", "bs": 5, "conn": "x", "t": "z", "SSID": 3.0, "BSSID": false}"#,
            [
                Some("42"),
                Some("12.5"),
                None,
                None,
                Some("1"),
                Some("0"),
                Some("36"),
                Some("3.0"),
                Some("f"),
                None,
                None,
                None,
                None,
                Some("0"),
                Some("4"),
                Some("0"),
            ],
        ),
        (
            // a blank topic is not present?: velocity stays as sent (a number printed as Ruby does)
            r#"{"lat": 52.1, "lon": 13.2, "tst": 1700000002, "m": 1, "acc": 5, "bs": "3", "alt": "-7.5e1", "vel": 0.5, "topic": " ",
                "p": true, "conn": "m", "t": "p", "inrids": [], "tid": 7}"#,
            [
                None,
                Some("t"),
                Some("-7"),
                Some("-75.00"),
                Some("5"),
                None,
                Some("0.5"),
                None,
                None,
                Some("7"),
                Some("{}"),
                None,
                Some(" "),
                Some("3"),
                Some("0"),
                Some("1"),
            ],
        ),
        (
            // no lon: the params parser yields nothing, the point is left as it is
            r#"{"lat": 52.1, "tst": 1700000003, "m": 1, "acc": 5, "batt": 50}"#,
            [
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                Some("{}"),
                Some("{}"),
                None,
                None,
                None,
                None,
            ],
        ),
    ]
}

const COLUMNS: &str = "battery::text, ping, altitude::text, altitude_decimal::text, accuracy::text, vertical_accuracy::text, velocity, ssid, bssid,
    tracker_id, inrids::text, in_regions::text, topic, battery_status::text, connection::text, trigger::text";

#[tokio::test]
async fn owntracks_fields_are_cast_like_rails_and_a_rerun_changes_nothing() {
    let (name, db) = dawarich_db("1.7.5", 1, 0).await;
    let conn = options(&cluster().url(&name));
    for (i, (raw, _)) in cases().iter().enumerate() {
        db.execute(
            "INSERT INTO points (id, raw_data, latitude, longitude, lonlat, timestamp, user_id, created_at, updated_at)
             VALUES ($1::bigint, $2::text::jsonb, 52.1, 13.2, 'SRID=4326;POINT(13.2 52.1)', (1700000000 + $1::bigint)::integer, 1, '2024-01-01', '2024-01-01')",
            &[&(i as i64 + 1), raw],
        )
        .await
        .unwrap();
    }
    let opts = UpgradeOptions {
        audit_file: None,
        ..Default::default()
    };
    for run in 0..2 {
        db.execute("DELETE FROM data_migrations WHERE version = $1", &[&OWNTRACKS])
            .await
            .unwrap();
        let out = upgrade(&conn, &opts, &Silent, &Cancel::new()).await.unwrap();
        assert_eq!(out.applied, vec![OWNTRACKS.to_string()], "run {run}");
        for (i, (raw, want)) in cases().iter().enumerate() {
            let row = db
                .query_one(
                    &format!("SELECT {COLUMNS} FROM points WHERE id = $1"),
                    &[&(i as i64 + 1)],
                )
                .await
                .unwrap();
            let got: Vec<Option<String>> = (0..16).map(|c| row.get(c)).collect();
            let want: Vec<Option<String>> = want.iter().map(|v| v.map(String::from)).collect();
            assert_eq!(got, want, "run {run}, raw data {raw}");
        }
        // Rails' partial writes: only the rows that changed get a new updated_at, and only once
        let touched: i64 = db
            .query_one("SELECT count(*) FROM points WHERE updated_at > '2024-01-01'", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(touched, if run == 0 { 3 } else { 0 }, "run {run}");
        if run == 0 {
            db.execute("UPDATE points SET updated_at = '2024-01-01'", &[])
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn a_target_older_than_the_columns_the_translation_writes_is_refused_before_any_change() {
    let (name, db) = dawarich_db("0.9.11", 1, 100).await;
    let count = "SELECT (SELECT count(*) FROM schema_migrations) + (SELECT count(*) FROM data_migrations)";
    let before: i64 = db.query_one(count, &[]).await.unwrap().get(0);
    let opts = UpgradeOptions {
        target: Some("0.11.1".into()),
        audit_file: None,
        ..Default::default()
    };
    let e = upgrade(&options(&cluster().url(&name)), &opts, &Silent, &Cancel::new())
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains(OWNTRACKS) && text.contains("20260323000001") && text.contains("Upgrade to 1.5.0 or newer"),
        "{text}"
    );
    let after: i64 = db.query_one(count, &[]).await.unwrap().get(0);
    assert_eq!(
        before, after,
        "nothing recorded: no schema migration ran before the refusal"
    );
    // the newest release has the column: the same database upgrades
    let out = upgrade(
        &options(&cluster().url(&name)),
        &UpgradeOptions {
            audit_file: None,
            ..Default::default()
        },
        &Silent,
        &Cancel::new(),
    )
    .await
    .unwrap();
    assert!(out.applied.contains(&OWNTRACKS.to_string()));
}
